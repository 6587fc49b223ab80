"""Pushing tracked time to Jira against a fake Jira over HTTP: idempotent
(push twice, lost answers), queued while Jira is down, honest about refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from jtt_tui.config import JiraConfig
from jtt_tui.domain.models import Project, Rounding, Segment, Session, WorklogState
from jtt_tui.jira.client import Issue, JiraClient, JiraError, jira_time
from jtt_tui.services import jira_links, jira_plan, jira_push, jira_search
from jtt_tui.services.jira import describe
from jtt_tui.storage import SQLiteStore
from tests.support.fake_jira import FakeJira

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path, clock):
    store = SQLiteStore(tmp_path / "jtt.db", user_id="alice", clock=clock)
    store.connect()
    yield store
    store.disconnect()


def client_for(fake: FakeJira, **options) -> JiraClient:
    sleeps: list[float] = []
    options.setdefault("sleep", sleeps.append)
    options.setdefault("backoff_s", 0.01)
    options.setdefault("timeout_s", 2.0)
    client = JiraClient(fake.url, fake.token, email=fake.email if fake.cloud else "", **options)
    client.slept = sleeps  # type: ignore[attr-defined]
    return client


def track(store, ticket: str, *spans: tuple[int, int], notes: str = "") -> None:
    """Finished segments at T0 + start minutes, lasting the given minutes."""
    segments = [
        Segment(start=T0 + timedelta(minutes=s), end=T0 + timedelta(minutes=s + length))
        for s, length in spans
    ]
    store.save_session(Session(ticket_number=ticket, notes=notes, segments=segments))


def run(store, client, config: JiraConfig | None = None, **plan_options):
    config = config or JiraConfig(url="https://x.example")
    units = jira_plan.plan(store, config, tz=UTC, **plan_options)
    return jira_push.push(store, client, units, adjust=config.estimate, now=lambda: T0)


def links(store, ticket: str):
    return [seg.worklog for seg in store.get_session(ticket).segments]


def test_push_twice_gives_one_worklog_with_jiras_formats(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30), (60, 15), notes="Fixed the redirect")
    client = client_for(fake_jira)
    first = run(store, client)
    assert first.count("created") == 2 and first.stopped is None
    logs = fake_jira.all_worklogs("WEB-1")
    assert [w["started"] for w in logs] == [
        "2025-03-10T09:00:00.000+0000",
        "2025-03-10T10:00:00.000+0000",
    ]
    assert [w["timeSpentSeconds"] for w in logs] == [1800, 900]
    # Cloud: the comment as written, the push id in the worklog's jtt property
    assert fake_jira.comment_of(logs[0]) == "Fixed the redirect"
    assert logs[0]["properties"] == [
        {"key": "jtt", "value": {"push_id": links(store, "WEB-1")[0].push_id}}
    ]
    assert {link.state for link in links(store, "WEB-1")} == {WorklogState.PUSHED}
    assert [link.worklog_id for link in links(store, "WEB-1")] == [w["id"] for w in logs]
    posts = fake_jira.count("POST")
    second = run(store, client)
    assert second.count("unchanged") == 2
    assert fake_jira.count("POST") == posts and len(fake_jira.all_worklogs("WEB-1")) == 2


def test_a_timeout_after_jira_stored_the_worklog_still_gives_one(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30))
    # Jira stores it, then answers too late: the client times out
    fake_jira.fail("POST", "/worklog", 201, apply=True, delay_s=1.5)
    report = run(store, client_for(fake_jira, timeout_s=0.5))
    assert report.stopped is None
    assert len(fake_jira.all_worklogs("WEB-1")) == 1
    assert fake_jira.count("POST") == 1  # looked it up instead of posting again
    [link] = links(store, "WEB-1")
    assert link.state == WorklogState.PUSHED
    assert link.worklog_id == fake_jira.all_worklogs("WEB-1")[0]["id"]


def test_a_lost_answer_then_a_crash_is_resolved_by_the_next_push(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30))
    # stored in Jira, answered with a 502, and Jira stays down for the lookup
    fake_jira.fail("POST", "/worklog", 502, apply=True)
    fake_jira.fail("GET", "/worklog", 503, times=100)
    report = run(store, client_for(fake_jira))
    assert report.stopped is not None and report.count("queued") == 1
    [link] = links(store, "WEB-1")
    assert link.state == WorklogState.PENDING and link.worklog_id is None
    fake_jira.faults.clear()
    again = run(store, client_for(fake_jira))
    assert again.count("found") == 1
    assert len(fake_jira.all_worklogs("WEB-1")) == 1
    assert links(store, "WEB-1")[0].state == WorklogState.PUSHED


def test_429_is_retried_after_retry_after(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30))
    fake_jira.fail("POST", "/worklog", 429, headers={"Retry-After": "7"})
    client = client_for(fake_jira)
    report = run(store, client)
    assert report.count("created") == 1
    assert client.slept == [7.0]  # type: ignore[attr-defined]
    assert len(fake_jira.all_worklogs("WEB-1")) == 1


def test_rate_limited_beyond_the_retries_queues_everything(store, fake_jira):
    for key in ("WEB-1", "WEB-2"):
        fake_jira.add_issue(key, key)
        track(store, key, (0, 30))
    fake_jira.fail("*", "/worklog", 429, headers={"Retry-After": "1"}, times=4)
    report = run(store, client_for(fake_jira))
    assert isinstance(report.stopped, JiraError) and report.stopped.kind == "rate_limited"
    assert report.count("queued") == 2
    assert all(links(store, k)[0].state == WorklogState.PENDING for k in ("WEB-1", "WEB-2"))
    pending = jira_plan.plan(store, JiraConfig(url="https://x"), tz=UTC, only_pending=True)
    assert len(pending) == 2
    again = run(store, client_for(fake_jira))
    assert again.count("created") == 2
    assert len(fake_jira.all_worklogs("WEB-1")) == len(fake_jira.all_worklogs("WEB-2")) == 1


def test_jira_down_queues_and_nothing_is_lost_or_doubled(store, fake_jira, jira_server):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30), (40, 10))
    jira_server.stop()
    report = run(store, client_for(fake_jira, timeout_s=0.5))
    assert report.stopped is not None and report.stopped.kind == "network"
    assert report.count("queued") == 2
    assert "cannot reach Jira" in links(store, "WEB-1")[0].error
    jira_server.start()
    again = run(store, client_for(fake_jira))
    assert again.count("created") == 2  # (a lookup first: it never reached Jira)
    assert len(fake_jira.all_worklogs("WEB-1")) == 2
    assert run(store, client_for(fake_jira)).count("unchanged") == 2


def test_401_stops_with_a_clear_message_and_keeps_the_token_secret(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30))
    client = JiraClient(fake_jira.url, "wrong-token-123", email=fake_jira.email)
    with pytest.raises(JiraError) as caught:
        client.myself()
    assert caught.value.kind == "auth" and "rejected the token" in str(caught.value)
    assert "wrong-token-123" not in str(caught.value)
    report = run(store, client)
    assert report.stopped is not None and report.stopped.kind == "auth"
    assert links(store, "WEB-1")[0].state == WorklogState.PENDING
    assert fake_jira.all_worklogs("WEB-1") == []


def test_refusals_fail_one_unit_with_the_reason_and_the_rest_goes_on(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    fake_jira.add_issue("OPS-2", "Ops")
    fake_jira.forbidden.add("OPS-2")
    track(store, "GONE-9", (0, 30))
    track(store, "OPS-2", (0, 30))
    track(store, "WEB-1", (0, 30))
    client = client_for(fake_jira)
    report = run(store, client)
    by_issue = {o.unit.issue: o for o in report.outcomes}
    assert by_issue["GONE-9"].action == "failed" and "404" in by_issue["GONE-9"].detail
    assert by_issue["OPS-2"].action == "failed" and "permission" in by_issue["OPS-2"].detail
    assert by_issue["WEB-1"].action == "created"
    failed = links(store, "OPS-2")[0]
    assert failed.state == WorklogState.FAILED and "403" in failed.error
    # 4xx are never retried
    assert fake_jira.count("POST", "OPS-2") == 1 and fake_jira.count("POST", "GONE-9") == 1


def test_an_edited_pushed_segment_updates_its_worklog(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30))
    run(store, client_for(fake_jira))
    session = store.get_session("WEB-1")
    session.segments[0] = session.segments[0].model_copy(update={"end": T0 + timedelta(minutes=45)})
    store.save_session(session)
    report = run(store, client_for(fake_jira))
    assert report.count("updated") == 1
    [log] = fake_jira.all_worklogs("WEB-1")
    assert log["timeSpentSeconds"] == 2700 and fake_jira.count("PUT") == 1
    # deleted in Jira meanwhile: said, and the next push creates it again
    fake_jira.worklogs["WEB-1"].clear()
    session = store.get_session("WEB-1")
    session.segments[0] = session.segments[0].model_copy(update={"end": T0 + timedelta(minutes=50)})
    store.save_session(session)
    gone = run(store, client_for(fake_jira))
    assert gone.count("failed") == 1 and "no longer exists" in gone.outcomes[0].detail
    assert run(store, client_for(fake_jira)).count("created") == 1
    assert len(fake_jira.all_worklogs("WEB-1")) == 1


def test_deleting_removes_the_worklogs_in_jira(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30), (40, 10))
    run(store, client_for(fake_jira))
    session = store.get_session("WEB-1")
    assert jira_links.pushed_links(session) == 2
    deleted = jira_push.delete_worklogs(
        client_for(fake_jira), session, [session.segments[0].start], "auto"
    )
    assert deleted == 1 and len(fake_jira.all_worklogs("WEB-1")) == 1


def test_rounding_and_jiras_one_minute_floor(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    fake_jira.add_issue("OPS-1", "Ops")
    store.save_project(
        Project(
            key="WEB",
            name="Web",
            hourly_rate=Decimal(100),
            rounding=Rounding(mode="up", minutes=15),
        )
    )
    segments = [Segment(start=T0, end=T0 + timedelta(minutes=20))]
    store.save_session(Session(ticket_number="WEB-1", segments=segments))
    tiny = [Segment(start=T0, end=T0 + timedelta(seconds=10))]
    store.save_session(Session(ticket_number="OPS-1", segments=tiny))
    config = JiraConfig(url="https://x", round_pushed=True)
    run(store, client_for(fake_jira), config)
    assert fake_jira.all_worklogs("WEB-1")[0]["timeSpentSeconds"] == 1800  # 20 min up to 30
    assert fake_jira.all_worklogs("OPS-1")[0]["timeSpentSeconds"] == 60
    # without the setting, tracked time as it is
    assert jira_plan.plan(store, JiraConfig(url="https://x"), tz=UTC)[1].seconds == 1200


def test_day_mode_pushes_one_worklog_per_ticket_and_day(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30), (60, 15), (24 * 60, 10))
    config = JiraConfig(url="https://x", push_mode="day")
    report = run(store, client_for(fake_jira), config)
    assert report.count("created") == 2
    assert [w["timeSpentSeconds"] for w in fake_jira.all_worklogs("WEB-1")] == [2700, 600]
    # more time that day: the day's worklog is updated, not duplicated
    session = store.get_session("WEB-1")
    session.segments.insert(
        2, Segment(start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=3, minutes=5))
    )
    store.save_session(session)
    again = run(store, client_for(fake_jira), config)
    assert again.count("updated") == 1 and again.count("unchanged") == 1
    assert [w["timeSpentSeconds"] for w in fake_jira.all_worklogs("WEB-1")] == [3000, 600]
    assert all(link is not None for link in links(store, "WEB-1"))


def test_range_and_ticket_filters_and_open_segments(store, fake_jira, clock):
    fake_jira.add_issue("WEB-1", "a")
    fake_jira.add_issue("WEB-2", "b")
    track(store, "WEB-1", (0, 30), (2 * 24 * 60, 30))
    store.save_session(
        Session(ticket_number="WEB-2", status="running", segments=[Segment(start=T0)])
    )
    config = JiraConfig(url="https://x")
    only_first_day = jira_plan.plan(store, config, start=T0, end=T0 + timedelta(days=1), tz=UTC)
    assert [(u.issue, u.started) for u in only_first_day] == [("WEB-1", T0)]
    assert jira_plan.plan(store, config, ticket="WEB-2", tz=UTC) == []  # still running


def test_server_flavour_uses_v2_bearer_and_plain_comments(store, jira_server):
    fake = FakeJira(jira_server, cloud=False, token="pat-123")
    fake.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30), notes="line one\nline two")
    client = client_for(fake)
    assert client.myself().account == "mia"
    assert run(store, client).count("created") == 1
    [log] = fake.all_worklogs("WEB-1")
    assert log["comment"].startswith("line one\nline two\njtt:")
    assert all(path.startswith("/rest/api/2/") for _m, path in fake.calls)
    assert run(store, client).count("unchanged") == 1


def test_jira_time_format():
    moment = datetime(2025, 3, 30, 3, 4, 5, 678_901, tzinfo=UTC)
    assert jira_time(moment) == "2025-03-30T03:04:05.678+0000"
    from zoneinfo import ZoneInfo

    berlin = datetime(2025, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert jira_time(berlin) == "2025-07-01T08:00:00.000+0000"


def test_a_found_worklog_in_another_offset_is_the_same_start():
    from jtt_tui.jira.client import Worklog

    unit = jira_plan.PushUnit("WEB-1", "ab" * 10, T0, 1800, 1800, "c", [T0], None)
    berlin = Worklog("1", "2025-03-10T10:00:00.000+0100", 1800, "")
    assert jira_push._same_start(berlin, unit)
    later = Worklog("1", "2025-03-10T10:05:00.000+0100", 1800, "")
    assert not jira_push._same_start(later, unit)
    assert not jira_push._same_start(Worklog("1", "garbage", 1800, ""), unit)


def test_links_round_trip_on_every_backend(make_store, fake_jira):
    """The worklog link lives in the stored session: SQLite JSON, MongoDB
    documents (mongomock and the real driver over the wire)."""
    store = make_store()
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30), (40, 5))
    assert run(store, client_for(fake_jira)).count("created") == 2
    again = make_store()  # another process reading the same store
    assert run(again, client_for(fake_jira)).count("unchanged") == 2
    [first, second] = links(again, "WEB-1")
    assert first.state == WorklogState.PUSHED and first.started == T0
    assert second.seconds == 300 and first.worklog_id != second.worklog_id
    assert len(fake_jira.all_worklogs("WEB-1")) == 2


def test_two_jtt_pushing_the_same_time_at_once_log_it_once(tmp_path, clock, fake_jira):
    import threading

    fake_jira.add_issue("WEB-1", "Login page")
    fake_jira.post_delay_s = 0.02
    stores = []
    for _ in range(2):
        one = SQLiteStore(tmp_path / "shared.db", user_id="alice", clock=clock)
        one.connect()
        stores.append(one)
    track(stores[0], "WEB-1", *[(i * 10, 5) for i in range(20)])
    config = JiraConfig(url="https://x")
    plans = [jira_plan.plan(s, config, tz=UTC) for s in stores]  # both see 20 to push
    assert [len(p) for p in plans] == [20, 20]
    barrier = threading.Barrier(2)
    reports = [None, None]

    def push_from(index: int) -> None:
        barrier.wait()
        reports[index] = jira_push.push(
            stores[index], client_for(fake_jira), plans[index], now=lambda: T0
        )

    threads = [threading.Thread(target=push_from, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    created = sum(r.count("created") for r in reports)
    skipped = sum(r.count("skipped") for r in reports)
    assert created == 20 and skipped == 20
    assert len(fake_jira.all_worklogs("WEB-1")) == 20
    assert all(link.state == WorklogState.PUSHED for link in links(stores[1], "WEB-1"))
    for one in stores:
        one.disconnect()


def test_an_answer_without_the_worklog_id_is_looked_up_not_posted_again(store, fake_jira):
    fake_jira.add_issue("WEB-1", "Login page")
    track(store, "WEB-1", (0, 30))
    fake_jira.fail("POST", "/worklog", 201, apply=True)  # stored; the answer names no id
    report = run(store, client_for(fake_jira))
    assert report.count("created") == 1 and fake_jira.count("POST") == 1
    [log] = fake_jira.all_worklogs("WEB-1")
    assert links(store, "WEB-1")[0].worklog_id == log["id"]


# -- issue 16: quiet pushes, every worklog found, safer pushes ----------------------------------

STARTED = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}"
)  # yyyy-MM-dd'T'HH:mm:ss.SSSZ


def test_cloud_pushes_are_quiet_unless_asked_and_server_is_never_told(store, jira_server):
    cloud = FakeJira(jira_server, cloud=True)
    cloud.add_issue("WEB-1", "a")
    track(store, "WEB-1", (0, 30), (60, 30))
    run(store, client_for(cloud))
    writes = cloud.queries("POST", "/worklog")
    assert [q["notifyUsers"] for q in writes] == ["false", "false"]
    # with notify_watchers on, Jira's default (e-mail the watchers) is asked for
    session = store.get_session("WEB-1")
    session.segments = [s.model_copy(update={"worklog": None}) for s in session.segments]
    store.save_session(session)
    cloud.worklogs.clear()
    run(store, client_for(cloud, notify=True))
    assert [q["notifyUsers"] for q in cloud.queries("POST", "/worklog")[2:]] == ["true", "true"]


def test_server_gets_no_notify_users_and_the_marker_in_the_comment(store, jira_server):
    server = FakeJira(jira_server, cloud=False, token="pat-123")
    server.add_issue("WEB-1", "a")
    track(store, "WEB-1", (0, 30))
    assert run(store, client_for(server)).count("created") == 1
    assert all("notifyUsers" not in q for _m, _p, q in server.requests)
    [log] = server.all_worklogs("WEB-1")
    assert "properties" not in log and log["comment"].endswith(
        f"jtt:{links(store, 'WEB-1')[0].push_id}"
    )
    assert STARTED.fullmatch(log["started"])


def test_started_is_in_jiras_exact_pattern(store, fake_jira):
    fake_jira.add_issue("WEB-1", "a")
    track(store, "WEB-1", (0, 30))
    run(store, client_for(fake_jira))
    [log] = fake_jira.all_worklogs("WEB-1")
    assert STARTED.fullmatch(log["started"]) and log["started"] == "2025-03-10T09:00:00.000+0000"


@pytest.mark.parametrize("cloud", [True, False])
def test_a_lost_answer_finds_the_worklog_past_the_first_page(store, jira_server, cloud):
    fake = FakeJira(jira_server, cloud=cloud, token="pat-lookup-4711")
    fake.add_issue("WEB-1", "busy issue")
    fake.worklog_page = 1000  # the server's cap
    for n in range(1200):  # older work by the team, before ours
        fake.add_web_worklog("WEB-1", T0 - timedelta(days=30, minutes=n), 600, author="team")
    track(store, "WEB-1", (0, 30))
    fake.fail("POST", "/worklog", 502, apply=True)  # stored, answer lost
    client = client_for(fake)
    report = run(store, client)
    assert report.count("created") == 1 and fake.count("POST") == 1
    assert len(fake.all_worklogs("WEB-1")) == 1201
    lookups = fake.queries("GET", "/worklog")
    if cloud:  # narrowed to the unit's start: one small page
        assert len(lookups) == 1 and {"startedAfter", "startedBefore"} <= set(lookups[0])
    else:  # Server sends them all: pages until a short one (ours is on the second)
        assert [q["startAt"] for q in lookups] == ["0", "1000"]


def test_the_worklog_list_pages_until_a_short_page_not_by_total(jira_server):
    fake = FakeJira(jira_server, cloud=False, token="pat-lookup-4711")
    fake.add_issue("WEB-1", "a")
    fake.worklog_page = 2
    for n in range(5):
        fake.add_web_worklog("WEB-1", T0 + timedelta(minutes=n), 600)
    client = client_for(fake)
    assert len(client.worklogs("WEB-1")) == 5
    assert [q["startAt"] for q in fake.queries("GET", "/worklog")] == ["0", "2", "4"]


def test_a_closed_issue_is_skipped_unless_asked(store, fake_jira):
    fake_jira.add_issue("WEB-1", "open")
    fake_jira.add_issue("WEB-2", "closed", "Done")
    jira_search.cache_issues(store, [Issue("WEB-2", "closed", "Done", done=True)])
    track(store, "WEB-1", (0, 30))
    track(store, "WEB-2", (60, 30))
    report = run(store, client_for(fake_jira))
    assert report.count("created") == 1 and report.count("closed") == 1
    assert fake_jira.count("POST", "WEB-2") == 0
    assert "WEB-2 done in Jira" in describe(report)
    # tried anyway: Jira's own refusal is kept as the reason
    config = JiraConfig(url="https://x")
    units = [u for u in jira_plan.plan(store, config, tz=UTC) if u.issue == "WEB-2"]
    forced = jira_push.push(
        store, client_for(fake_jira), units, now=lambda: T0, include_closed=True
    )
    # Jira's own refusal: said, and the time stays unsent (not "failed")
    [outcome] = forced.outcomes
    assert outcome.action == "closed" and "not editable" in outcome.detail
    assert links(store, "WEB-2") == [None]


def test_a_push_asks_jira_which_issues_are_done_before_sending(store, fake_jira):
    """The default search leaves done issues out, so the cache never learns
    that one is done: the push asks Jira first (one search) and skips it."""
    fake_jira.add_issue("WEB-1", "open")
    fake_jira.add_issue("WEB-3", "old bug", "Done")
    track(store, "WEB-1", (0, 30))
    track(store, "WEB-3", (60, 30))
    jira_search.cache_issues(store, [Issue("WEB-3", "old bug", "In Progress")])  # stale
    config = JiraConfig(url=fake_jira.url, email=fake_jira.email)
    units = jira_plan.plan(store, config, tz=UTC)
    client = client_for(fake_jira)
    jira_push.refresh_done(store, client, units)
    report = jira_push.push(store, client, units, now=lambda: T0)
    assert [(o.unit.issue, o.action) for o in report.outcomes] == [
        ("WEB-1", "created"),
        ("WEB-3", "closed"),
    ]
    assert fake_jira.count("GET", "/search") == 1 and fake_jira.count("POST", "WEB-3") == 0
    assert store.get_ticket("WEB-3").jira_done
    # a key Jira does not know makes its search a 400: the cache is used as it is
    track(store, "GONE-1", (120, 30))
    units = [u for u in jira_plan.plan(store, config, tz=UTC) if not u.up_to_date]
    jira_push.refresh_done(store, client, units)
    assert [u.closed for u in units] == [False, True]


@pytest.mark.parametrize(
    ("mode", "value", "post", "put", "delete"),
    # (what POST, PUT and DELETE send)
    [
        (
            "auto",
            "",
            {"adjustEstimate": "auto"},
            {"adjustEstimate": "auto"},
            {"adjustEstimate": "auto"},
        ),
        (
            "leave",
            "",
            {"adjustEstimate": "leave"},
            {"adjustEstimate": "leave"},
            {"adjustEstimate": "leave"},
        ),
        (
            "new",
            "2d",
            {"adjustEstimate": "new", "newEstimate": "2d"},
            {"adjustEstimate": "new", "newEstimate": "2d"},
            {"adjustEstimate": "new", "newEstimate": "2d"},
        ),
        (
            "manual",
            "1h 30m",
            {"adjustEstimate": "manual", "reduceBy": "1h 30m"},
            {"adjustEstimate": "leave"},  # Jira's update has no manual mode
            {"adjustEstimate": "manual", "increaseBy": "1h 30m"},
        ),
    ],
)
def test_adjust_estimate_flavours_are_sent_as_jira_takes_them(  # noqa: PLR0917
    store, fake_jira, mode, value, post, put, delete
):
    fake_jira.add_issue("WEB-1", "a")
    track(store, "WEB-1", (0, 30))
    config = JiraConfig(
        url="https://x", email="me@example.com", adjust_estimate=mode, estimate_value=value
    )
    client = client_for(fake_jira)
    assert run(store, client, config).count("created") == 1
    session = store.get_session("WEB-1")
    session.segments = [
        s.model_copy(update={"end": s.end + timedelta(minutes=5)}) for s in session.segments
    ]
    store.save_session(session)
    assert run(store, client, config).count("updated") == 1
    jira_push.delete_worklogs(client, store.get_session("WEB-1"), [T0], config.estimate)
    drop = {"notifyUsers"}
    sent = [
        {k: v for k, v in q.items() if k not in drop}
        for method in ("POST", "PUT", "DELETE")
        for q in fake_jira.queries(method, "/worklog")
    ]
    assert sent == [post, put, delete]
    assert not fake_jira.all_worklogs("WEB-1")


def test_estimate_amounts_are_validated_per_flavour():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="needs the new remaining estimate"):
        JiraConfig(adjust_estimate="new")
    with pytest.raises(ValidationError, match="needs how much to reduce it by"):
        JiraConfig(adjust_estimate="manual")
    with pytest.raises(ValidationError, match="not a Jira duration"):
        JiraConfig(adjust_estimate="new", estimate_value="two days")
    assert JiraConfig(adjust_estimate="leave", estimate_value="2d").estimate_value == ""
    assert JiraConfig(adjust_estimate="manual", estimate_value=" 1d 4h ").estimate_value == "1d 4h"


def test_the_fake_refuses_what_jira_refuses(fake_jira):
    fake_jira.add_issue("WEB-1", "a")
    client = client_for(fake_jira)
    with pytest.raises(JiraError, match="new estimate"):
        client.request("POST", "/rest/api/3/issue/WEB-1/worklog", params={"adjustEstimate": "new"})
    with pytest.raises(JiraError, match="adjustEstimate"):
        client.request(
            "PUT", "/rest/api/3/issue/WEB-1/worklog/1", params={"adjustEstimate": "manual"}
        )
    with pytest.raises(JiraError, match="unknown query parameters"):
        client.request("GET", "/rest/api/3/issue/WEB-1/worklog", params={"since": "1"})


def test_cloud_refuses_an_unbounded_default_search():
    assert jira_search.unbounded_jql("ORDER BY updated DESC", cloud=True)
    assert "statusCategory != Done" in jira_search.unbounded_jql("", cloud=True)
    assert jira_search.unbounded_jql("project = WEB ORDER BY updated", cloud=True) is None
    assert jira_search.unbounded_jql("", cloud=False) is None  # Server / DC takes it
