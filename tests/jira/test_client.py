"""The Jira client against the fake Jira: who am I, search with each
flavour's pagination, retries only where they are safe."""

from __future__ import annotations

import pytest

from jtt_tui.jira.client import JiraClient, JiraError, adf, adf_text
from jtt_tui.services import jira_search
from tests.support.fake_jira import FakeJira


def make(fake: FakeJira, **options) -> JiraClient:
    sleeps: list[float] = []
    options = {"sleep": sleeps.append, "backoff_s": 0.01, "timeout_s": 2.0, **options}
    client = JiraClient(fake.url, fake.token, email=fake.email if fake.cloud else "", **options)
    client.slept = sleeps  # type: ignore[attr-defined]
    return client


@pytest.fixture
def jira(jira_server, flavour) -> FakeJira:
    fake = FakeJira(jira_server, cloud=flavour == "cloud", token="tok-" + flavour)
    for n in range(1, 121):
        fake.add_issue(f"WEB-{n}", f"Ticket number {n}", "Done" if n % 10 == 0 else "To Do")
    return fake


def test_myself_names_the_user(jira):
    me = make(jira).myself()
    assert me.display_name == "Mia Krystof"
    assert me.account == ("5b10a2844c20165700ede21g" if jira.cloud else "mia")


def test_search_follows_every_page(jira):
    client = make(jira)
    found = client.search("project = WEB", limit=500, page_size=50)
    assert [i.key for i in found] == [f"WEB-{n}" for n in range(1, 121)]
    path = "/rest/api/3/search/jql" if jira.cloud else "/rest/api/2/search"
    assert jira.count("GET", path) == 3
    assert found[9].status == "Done" and found[9].done
    limited = client.search("project = WEB", limit=70, page_size=50)
    assert len(limited) == 70


def test_typed_text_becomes_jql_and_the_default_filter_applies(jira):
    client = make(jira)
    base = "assignee = currentUser() AND statusCategory != Done ORDER BY updated DESC"
    words = jira_search.search(client, "number 1", base)
    assert words and all("number 1" in i.summary.lower() for i in words)
    assert all(not i.done for i in words)  # WEB-10, WEB-100 … are done: filtered out
    assert [i.key for i in jira_search.search(client, "web-100", base)] == ["WEB-100"]
    assert jira_search.search(client, "WEB-999", base) == []


def test_jql_is_built_safely():
    base = "assignee = currentUser() ORDER BY updated DESC"
    assert jira_search.search_jql("say 'hi' now", base) == (
        "(assignee = currentUser()) AND text ~ \"say 'hi' now\" ORDER BY updated DESC"
    )
    assert jira_search.search_jql("ops-7", base) == 'key = "OPS-7"'
    # Lucene operators are separators, not syntax (a stray one is a 400 in Jira)
    assert jira_search.search_jql("fix: (login) && -redirect*", base) == (
        '(assignee = currentUser()) AND text ~ "fix login redirect" ORDER BY updated DESC'
    )
    assert jira_search.search_jql("!!", base) == base
    assert jira_search.search_jql("", base) == base


def test_5xx_on_a_get_is_retried_4xx_never(jira):
    client = make(jira)
    jira.fail("GET", "/myself", 503, times=2)
    assert client.myself().display_name == "Mia Krystof"
    assert jira.count("GET", "/myself") == 3 and client.slept == [0.01, 0.02]
    jira.fail("GET", "/myself", 400)
    with pytest.raises(JiraError) as caught:
        client.myself()
    assert caught.value.kind == "invalid" and jira.count("GET", "/myself") == 4


def test_a_post_is_never_blindly_repeated(jira):
    client = make(jira)
    jira.fail("POST", "/worklog", 502)
    with pytest.raises(JiraError) as caught:
        from datetime import UTC, datetime

        client.add_worklog("WEB-1", datetime(2025, 1, 1, tzinfo=UTC), 600, "x")
    assert caught.value.kind == "server" and jira.count("POST") == 1


def test_retry_after_as_an_http_date_and_capped(jira):
    client = make(jira)
    jira.fail("GET", "/myself", 429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    jira.fail("GET", "/myself", 429, headers={"Retry-After": "3600"})
    client.myself()
    assert client.slept == [0.0, 60.0]  # a date in the past: at once; an hour: capped


def test_wrong_token_and_unreachable_jira_say_what_to_do(jira, jira_server):
    bad = JiraClient(jira.url, "nope-nope", email=jira.email if jira.cloud else "")
    with pytest.raises(JiraError) as caught:
        bad.myself()
    message = str(caught.value)
    assert caught.value.kind == "auth" and "rejected the token" in message
    assert ("api-tokens" in message) == jira.cloud and "nope-nope" not in message
    jira_server.stop()
    client = make(jira, timeout_s=0.5)
    with pytest.raises(JiraError) as down:
        client.myself()
    assert down.value.kind == "network" and "cannot reach Jira" in str(down.value)


def test_adf_round_trip():
    doc = adf("first line\n\nthird")
    assert doc["type"] == "doc" and len(doc["content"]) == 3
    assert adf_text(doc) == "first line\n\nthird"
    assert adf_text("plain v2 comment") == "plain v2 comment"
    assert adf_text(None) == ""
