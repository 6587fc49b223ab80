"""Reconcile against a fake Jira over HTTP, on SQLite and on MongoDB over the
wire server: the four cases, per-day totals, bounded requests, and each
action (billed time is never changed by "take Jira's")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from jtt_tui.config import JiraConfig
from jtt_tui.domain.models import ManualTask, Segment, Session, WorklogState
from jtt_tui.jira.client import JiraClient
from jtt_tui.services import jira_plan, jira_push
from jtt_tui.services.jira import JiraService
from jtt_tui.services.reconcile import Reconciler, ReconcileRefused, period, worklog_jql
from jtt_tui.services.timer import TimerService
from tests.support.fake_jira import FakeJira

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "wire"])


@pytest.fixture
def store(make_store, clock):
    clock.set(T0 + timedelta(days=2))  # the tracked time lies in the past
    return make_store()


def connect(fake: FakeJira) -> JiraClient:
    return JiraClient(fake.url, fake.token, email=fake.email, backoff_s=0.01, sleep=lambda s: None)


def reconciler(store, fake: FakeJira, config: JiraConfig | None = None) -> Reconciler:
    config = config or JiraConfig(url=fake.url, email=fake.email)
    clients: list[JiraClient] = []

    def client() -> JiraClient:
        clients.append(connect(fake))
        return clients[-1]

    made = Reconciler(TimerService(store, tz=UTC), config, client, tz=UTC)
    made.clients = clients  # type: ignore[attr-defined]
    return made


def track(store, ticket: str, *spans: tuple[int, int], invoice: str | None = None) -> None:
    segments = [
        Segment(
            start=T0 + timedelta(minutes=s),
            end=T0 + timedelta(minutes=s + length),
            invoice_id=invoice,
        )
        for s, length in spans
    ]
    store.save_session(Session(ticket_number=ticket, segments=segments))


def push_all(store, fake: FakeJira) -> None:
    config = JiraConfig(url=fake.url, email=fake.email)
    units = jira_plan.plan(store, config, tz=UTC)
    with connect(fake) as client:
        report = jira_push.push(store, client, units, now=lambda: T0)
    assert report.stopped is None and report.count("failed") == 0


@pytest.fixture
def jira(fake_jira: FakeJira) -> FakeJira:
    for key in ("WEB-1", "WEB-2", "WEB-3", "OPS-1"):
        fake_jira.add_issue(key, f"Issue {key}")
    fake_jira.worklog_page = 5000  # Cloud's cap: the request counts below are Jira's
    return fake_jira


@pytest.fixture
def four_cases(store, jira):
    """WEB-1 as sent, WEB-2 changed in Jira, WEB-3 deleted in Jira, OPS-1
    logged in the web UI (and a colleague's worklog, which is not ours)."""
    track(store, "WEB-1", (0, 30))
    track(store, "WEB-2", (60, 30))
    track(store, "WEB-3", (120, 30))
    push_all(store, jira)
    jira.all_worklogs("WEB-2")[0]["timeSpentSeconds"] = 2700  # 45 min in Jira
    jira.worklogs["WEB-3"].clear()
    jira.add_web_worklog("OPS-1", T0 + timedelta(hours=5), 3600, "Incident call")
    jira.add_web_worklog("OPS-1", T0 + timedelta(hours=6), 600, "not mine", author="someone-else")
    return jira


def kinds(result) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entry in result.entries:
        found.setdefault(entry.kind, []).append(entry.issue)
    return found


def test_the_four_cases_day_totals_and_a_bounded_number_of_requests(store, four_cases):
    jira = four_cases
    result = reconciler(store, jira).run(DAY, DAY)
    assert kinds(result) == {
        "changed": ["WEB-2"],
        "deleted": ["WEB-3"],
        "jira_only": ["OPS-1"],
        "same": ["WEB-1"],
    }
    assert not result.in_sync
    [day] = result.days
    assert (day.day, day.jira_seconds, day.jtt_seconds) == (DAY, 1800 + 2700 + 3600, 3 * 1800)
    # myself + one search + the worklogs of each of the 4 issues (one page each on
    # Cloud: narrowed to the period) + the deleted one looked up by id
    assert result.requests == 1 + 1 + 4 + 1
    assert jira.queries("GET", "/search/jql")[-1]["jql"] == worklog_jql(DAY, DAY)
    lookups = jira.queries("GET", "/worklog")
    assert all("startedAfter" in q and q["expand"] == "properties" for q in lookups[:4])
    changed = result.of("changed")[0]
    assert "jtt sent 2025-03-10 10:00 30m" in changed.describe(UTC)
    assert "Jira has 2025-03-10 10:00 45m" in changed.describe(UTC)


def test_take_jiras_changes_the_local_segment_through_the_ledger(store, four_cases):
    jira = four_cases
    made = reconciler(store, jira)
    changed = made.run(DAY, DAY).of("changed")[0]
    said = made.take_jiras(changed)
    assert "as in Jira" in said
    [segment] = store.get_session("WEB-2").segments
    assert segment.end - segment.start == timedelta(minutes=45)
    assert segment.worklog.seconds == 2700 and segment.worklog.state == WorklogState.PUSHED
    again = made.run(DAY, DAY)
    assert [e.issue for e in again.of("same")] == ["WEB-1", "WEB-2"]
    # the change is an ordinary, undoable change of the journal
    assert store.journal_entries(limit=1)[0].action == "jira-take"
    # and the next push has nothing to send for it
    config = JiraConfig(url=jira.url, email=jira.email)
    [unit] = jira_plan.plan(store, config, ticket="WEB-2", tz=UTC)
    assert unit.up_to_date


def bill(store, invoice_id: str, status: str) -> None:
    from jtt_tui.domain.models import Invoice

    store.save_invoice(
        Invoice(invoice_id=invoice_id, invoice_number="INV-1", issue_date=DAY, status=status)
    )


def test_billed_time_is_never_changed_by_take_jiras(store, jira):
    bill(store, "inv-1", "sent")
    track(store, "WEB-2", (60, 30), invoice="inv-1")
    push_all(store, jira)
    jira.all_worklogs("WEB-2")[0]["timeSpentSeconds"] = 2700
    made = reconciler(store, jira)
    changed = made.run(DAY, DAY).of("changed")[0]
    assert changed.jtt.billed
    before = store.get_session("WEB-2")
    with pytest.raises(ReconcileRefused, match="billed time is locked"):
        made.take_jiras(changed)
    assert store.get_session("WEB-2").segments == before.segments
    # pushing mine again puts jtt's (billed) time back in Jira
    report = made.push_mine(changed)
    assert report.count("updated") == 1
    assert jira.all_worklogs("WEB-2")[0]["timeSpentSeconds"] == 1800
    assert made.run(DAY, DAY).in_sync


def test_push_mine_again_and_repush_a_deleted_one(store, four_cases):
    jira = four_cases
    made = reconciler(store, jira)
    result = made.run(DAY, DAY)
    assert made.push_mine(result.of("changed")[0]).count("updated") == 1
    assert jira.all_worklogs("WEB-2")[0]["timeSpentSeconds"] == 1800
    repushed = made.push_mine(result.of("deleted")[0])
    assert repushed.count("created") == 1
    [new] = jira.all_worklogs("WEB-3")
    assert store.get_session("WEB-3").segments[0].worklog.worklog_id == new["id"]
    again = made.run(DAY, DAY)
    assert sorted(e.issue for e in again.of("same")) == ["WEB-1", "WEB-2", "WEB-3"]


def test_forget_keeps_the_time_local_and_never_pushes_it_again(store, four_cases):
    jira = four_cases
    made = reconciler(store, jira)
    deleted = made.run(DAY, DAY).of("deleted")[0]
    assert "kept in jtt only" in made.forget(deleted)
    link = store.get_session("WEB-3").segments[0].worklog
    assert link.state == WorklogState.LOCAL and link.worklog_id is None
    config = JiraConfig(url=jira.url, email=jira.email)
    assert not [u for u in jira_plan.plan(store, config, tz=UTC) if u.issue == "WEB-3"]
    assert JiraService(None, store).summary().kept_local == 1
    again = made.run(DAY, DAY)
    assert not again.of("deleted")
    # its time no longer counts on jtt's side of the day either
    assert again.days[0].jtt_seconds == 2 * 1800


def test_import_a_worklog_made_in_jira_as_a_manual_entry(store, four_cases):
    jira = four_cases
    made = reconciler(store, jira)
    outside = made.run(DAY, DAY).of("jira_only")[0]
    task = made.import_entry(outside)
    assert (task.ticket_number, task.title, task.duration) == (
        "OPS-1",
        "Incident call",
        timedelta(hours=1),
    )
    assert task.date == DAY and task.worklog.worklog_id == outside.worklog_id
    with pytest.raises(ReconcileRefused, match="imported already"):
        made.import_entry(outside)
    # never pushed back as a duplicate
    posts = jira.count("POST")
    config = JiraConfig(url=jira.url, email=jira.email)
    units = [u for u in jira_plan.plan(store, config, tz=UTC) if u.task_id == task.task_id]
    assert len(units) == 1 and units[0].up_to_date
    with connect(jira) as client:
        jira_push.push(store, client, units, now=lambda: T0)
    assert jira.count("POST") == posts and len(jira.all_worklogs("OPS-1")) == 2
    again = made.run(DAY, DAY)
    assert "OPS-1" in [e.issue for e in again.of("same")] and not again.of("jira_only")


def test_time_on_a_draft_invoice_may_take_jiras(store, jira):
    """A draft is not billed yet: its time may change (the draft is then out
    of date, as with any edit)."""
    bill(store, "draft-1", "draft")
    track(store, "WEB-2", (60, 30), invoice="draft-1")
    push_all(store, jira)
    jira.all_worklogs("WEB-2")[0]["timeSpentSeconds"] = 2700
    made = reconciler(store, jira)
    changed = made.run(DAY, DAY).of("changed")[0]
    assert not changed.jtt.billed
    made.take_jiras(changed)
    [segment] = store.get_session("WEB-2").segments
    assert segment.end - segment.start == timedelta(minutes=45)


def test_an_action_reads_the_worklog_again_and_refuses_a_stale_row(store, four_cases):
    jira = four_cases
    made = reconciler(store, jira)
    result = made.run(DAY, DAY)
    mine = {"accountId": jira.me}
    jira.worklogs["OPS-1"] = [w for w in jira.worklogs["OPS-1"] if w["author"] != mine]
    with pytest.raises(ReconcileRefused, match="no longer in Jira"):
        made.import_entry(result.of("jira_only")[0])
    assert store.get_manual_tasks() == []
    # changed again in Jira since it was read: what is taken is Jira's latest
    jira.all_worklogs("WEB-2")[0]["timeSpentSeconds"] = 3600
    made.take_jiras(result.of("changed")[0])
    [segment] = store.get_session("WEB-2").segments
    assert segment.end - segment.start == timedelta(hours=1)


def test_time_on_a_done_issue_is_left_out_of_the_day_totals(store, jira):
    from jtt_tui.jira.client import Issue
    from jtt_tui.services.jira_search import cache_issues

    track(store, "WEB-1", (0, 30))
    push_all(store, jira)
    track(store, "WEB-3", (60, 30))
    cache_issues(store, [Issue("WEB-3", "Issue WEB-3", "Done", done=True)])
    result = reconciler(store, jira).run(DAY, DAY)
    assert result.on_done == ["WEB-3"] and result.unpushed == 0
    assert result.in_sync  # Jira takes no worklogs there: not a difference to settle


def test_take_jiras_for_an_imported_manual_entry(store, jira):
    jira.add_web_worklog("OPS-1", T0, 1200, "Standup")
    made = reconciler(store, jira)
    made.import_entry(made.run(DAY, DAY).of("jira_only")[0])
    jira.all_worklogs("OPS-1")[0]["timeSpentSeconds"] = 1500
    changed = made.run(DAY, DAY).of("changed")[0]
    made.take_jiras(changed)
    [task] = store.get_manual_tasks()
    assert task.duration == timedelta(seconds=1500)
    assert made.run(DAY, DAY).in_sync


def test_in_sync_and_a_worklog_moved_out_of_the_period(store, jira):
    track(store, "WEB-1", (0, 30))
    push_all(store, jira)
    made = reconciler(store, jira)
    assert made.run(DAY, DAY).in_sync
    # moved to the next day in Jira: it is changed, not deleted
    jira.all_worklogs("WEB-1")[0]["started"] = "2025-03-11T09:00:00.000+0000"
    result = made.run(DAY, DAY)
    assert kinds(result) == {"changed": ["WEB-1"]}


def test_the_default_period_is_the_last_14_days(backend):
    assert period(None, None, DAY) == (DAY - timedelta(days=13), DAY)
    with pytest.raises(ReconcileRefused, match="starts"):
        period(DAY, DAY - timedelta(days=1), DAY)


def test_manual_entry_with_a_ticket_is_pushed_and_one_without_never(store, jira):
    store.save_manual_task(
        ManualTask(title="Call", ticket_number="WEB-1", duration=timedelta(minutes=25), date=DAY)
    )
    store.save_manual_task(ManualTask(title="Lunch talk", duration=timedelta(hours=1), date=DAY))
    config = JiraConfig(url=jira.url, email=jira.email)
    units = jira_plan.plan(store, config, tz=UTC)
    assert [(u.issue, u.seconds, u.task_id is not None) for u in units] == [("WEB-1", 1500, True)]
    push_all(store, jira)
    [log] = jira.all_worklogs("WEB-1")
    assert log["started"] == "2025-03-10T09:00:00.000+0000" and log["timeSpentSeconds"] == 1500
    [task] = [t for t in store.get_manual_tasks() if t.ticket_number]
    assert task.worklog.state == WorklogState.PUSHED and task.worklog.worklog_id == log["id"]
    assert not next(t for t in store.get_manual_tasks() if not t.ticket_number).worklog
    # an edit of the entry is sent as an update of the same worklog
    store.update_manual_task(task.task_id, duration=timedelta(minutes=40))
    push_all(store, jira)
    [log] = jira.all_worklogs("WEB-1")
    assert log["timeSpentSeconds"] == 2400 and jira.count("PUT") == 1
    # moved to another ticket: its worklog moves too
    store.update_manual_task(task.task_id, ticket_number="WEB-2")
    push_all(store, jira)
    assert not jira.all_worklogs("WEB-1") and len(jira.all_worklogs("WEB-2")) == 1
