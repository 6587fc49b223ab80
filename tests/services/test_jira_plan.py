"""The steps of planning and starting a Jira push, as pure functions over
plain records: no store, no Jira server (tests/jira/test_push.py runs them whole)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from jtt_tui.domain.models import (
    ManualTask,
    Rounding,
    Segment,
    Session,
    Ticket,
    WorklogLink,
    WorklogState,
)
from jtt_tui.jira.client import JiraError, Worklog, jira_time
from jtt_tui.services import jira_links, jira_plan, jira_push

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
PLUS_2 = timezone(timedelta(hours=2))
PUSH_ID = "a" * 20


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def seg(start: int, length: int | None, link: WorklogLink | None = None) -> Segment:
    """A segment at T0 + start minutes lasting ``length`` (None: running)."""
    end = at(start + length) if length is not None else None
    return Segment(start=at(start), end=end, worklog=link)


def link(
    state: WorklogState = WorklogState.PUSHED,
    *,
    worklog_id: str | None = "1001",
    issue: str = "WEB-1",
    push_id: str = PUSH_ID,
) -> WorklogLink:
    return WorklogLink(
        push_id=push_id, state=state, worklog_id=worklog_id, issue=issue, started=T0, seconds=600
    )


# -- which time is planned ---------------------------------------------------------------


def test_in_range_takes_the_start_and_leaves_the_end_out():
    assert jira_plan.in_range(at(0), at(0), at(10))
    assert jira_plan.in_range(at(9), at(0), at(10))
    assert not jira_plan.in_range(at(10), at(0), at(10))
    assert not jira_plan.in_range(at(-1), at(0), at(10))
    assert jira_plan.in_range(at(-1000), None, at(10))
    assert jira_plan.in_range(at(1000), at(0), None)
    assert jira_plan.in_range(at(0), None, None)


def test_a_unit_is_keyed_by_its_start_or_by_its_local_day():
    late = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)  # already the 11th at UTC+2
    assert jira_plan.unit_anchor(late, "segment", PLUS_2) == late.isoformat()
    assert jira_plan.unit_anchor(late, "day", PLUS_2) == "2025-03-11"
    assert jira_plan.unit_anchor(late, "day", UTC) == "2025-03-10"


def test_segments_are_grouped_finished_and_in_range_only():
    segments = [seg(-30, 10), seg(0, 10), seg(20, 5), seg(60, 5), seg(90, None)]
    groups = jira_plan.group_segments(segments, start=at(0), end=at(60), mode="segment", tz=UTC)
    # before the range, at its end (excluded) and running: left out
    assert list(groups) == [at(0).isoformat(), at(20).isoformat()]
    assert [[s.start for s in g] for g in groups.values()] == [[at(0)], [at(20)]]


def test_day_mode_groups_a_days_segments_in_order():
    segments = [seg(0, 10), seg(20, 5), seg(24 * 60, 5), seg(30, None)]
    groups = jira_plan.group_segments(segments, start=None, end=None, mode="day", tz=UTC)
    assert {day: [s.start for s in g] for day, g in groups.items()} == {
        "2025-03-10": [at(0), at(20)],
        "2025-03-11": [at(24 * 60)],
    }


@pytest.mark.parametrize(
    ("state", "only_pending", "planned"),
    [
        (None, False, True),
        (None, True, False),
        (WorklogState.PUSHED, False, True),
        (WorklogState.PUSHED, True, False),
        (WorklogState.FAILED, False, True),
        (WorklogState.FAILED, True, False),
        (WorklogState.PENDING, False, True),
        (WorklogState.PENDING, True, True),
        (WorklogState.LOCAL, False, False),
        (WorklogState.LOCAL, True, False),
    ],
)
def test_time_kept_local_is_never_planned_and_only_pending_means_on_its_way(
    state, only_pending, planned
):
    current = link(state) if state is not None else None
    assert jira_plan.pushable(current, only_pending=only_pending) is planned


def test_closed_tickets_are_those_jira_reported_done():
    tickets = [
        Ticket(ticket_number="WEB-1", jira_done=True),
        Ticket(ticket_number="WEB-2"),
        Ticket(ticket_number="API-3", jira_done=True),
    ]
    assert jira_plan.closed_tickets(tickets) == {"WEB-1", "API-3"}


# -- how much time, and which unit ---------------------------------------------------------


def test_pushed_seconds_are_rounded_by_the_rule_and_never_under_a_minute():
    up_15 = Rounding(mode="up", minutes=15)
    assert jira_plan.pushed_seconds(16 * 60, None) == 16 * 60
    assert jira_plan.pushed_seconds(16 * 60, up_15) == 30 * 60
    assert jira_plan.pushed_seconds(10, None) == jira_plan.JIRA_FLOOR_S
    assert jira_plan.pushed_seconds(0, Rounding()) == jira_plan.JIRA_FLOOR_S
    assert jira_plan.pushed_seconds(10, up_15) == 15 * 60


def test_a_group_becomes_one_unit_with_its_summed_rounded_time():
    session = Session(ticket_number="WEB-1", notes=" login page ")
    segments = [seg(0, 10), seg(20, 7)]
    rule = Rounding(mode="up", minutes=15)
    unit = jira_plan.segment_unit(
        session, "2025-03-10", segments, user_id="alice", rule=rule, closed=True
    )
    assert unit.issue == "WEB-1"
    assert unit.push_id == jira_plan.push_id_for("alice", "WEB-1", "2025-03-10")
    assert (unit.started, unit.starts) == (at(0), [at(0), at(20)])
    assert (unit.tracked_seconds, unit.seconds) == (17 * 60, 30 * 60)
    assert unit.comment == "login page"
    assert unit.link is None and unit.all_linked is False and unit.planned == (None, None)
    assert unit.closed is True and unit.task_id is None


def test_a_group_keeps_the_push_id_it_was_sent_with():
    sent = link(push_id="b" * 20)
    segments = [seg(0, 10), seg(20, 5, sent)]  # the first was added to the day since
    unit = jira_plan.segment_unit(
        Session(ticket_number="WEB-1"), "2025-03-10", segments, user_id="u", rule=None, closed=False
    )
    assert unit.link == sent and unit.push_id == "b" * 20
    assert unit.all_linked is False and unit.planned == (None, sent)
    assert unit.seconds == 15 * 60 and not unit.closed

    every = jira_plan.segment_unit(
        Session(ticket_number="WEB-1"),
        "2025-03-10",
        [seg(0, 10, sent), seg(20, 5, sent)],
        user_id="u",
        rule=None,
        closed=False,
    )
    assert every.all_linked is True

    # segments merged from two earlier units: the first one's link leads
    other = link(push_id="d" * 20, worklog_id="1002")
    merged = jira_plan.segment_unit(
        Session(ticket_number="WEB-1"),
        "2025-03-10",
        [seg(0, 10, sent), seg(20, 5, other)],
        user_id="u",
        rule=None,
        closed=False,
    )
    assert merged.link == sent and merged.push_id == "b" * 20


def test_a_manual_entry_becomes_a_unit_at_nine_local_on_its_day():
    task = ManualTask(
        title="Standup",
        description="daily",
        ticket_number="WEB-2",
        duration=timedelta(minutes=10),
        date=date(2025, 3, 11),
    )
    unit = jira_plan.task_unit(
        task, user_id="alice", rule=Rounding(mode="up", minutes=30), closed=False, tz=PLUS_2
    )
    assert unit.issue == "WEB-2" and unit.task_id == task.task_id
    assert unit.started == datetime(2025, 3, 11, 7, 0, tzinfo=UTC)  # 09:00 at UTC+2
    assert unit.push_id == jira_plan.push_id_for("alice", "WEB-2", f"manual:{task.task_id}")
    assert (unit.tracked_seconds, unit.seconds) == (600, 1800)
    assert unit.comment == "daily" and unit.starts == [] and unit.planned == (None,)

    sent = link(push_id="c" * 20)
    linked = jira_plan.task_unit(
        task.model_copy(update={"worklog": sent}), user_id="alice", rule=None, closed=True
    )
    assert linked.push_id == "c" * 20 and linked.link == sent and linked.planned == (sent,)
    assert linked.seconds == 600 and linked.closed


# -- how a push begins, and the links it leaves ----------------------------------------------


def unit_with(current: WorklogLink | None, issue: str = "WEB-1") -> jira_plan.PushUnit:
    return jira_plan.PushUnit(
        issue=issue,
        push_id=current.push_id if current else PUSH_ID,
        started=at(5),
        seconds=900,
        tracked_seconds=890,
        comment="c",
        starts=[at(5)],
        link=current,
    )


def test_a_first_push_is_fresh_and_claims_a_new_pending_link():
    now = at(100)
    begin = jira_push.push_start(unit_with(None), now)
    assert begin.fresh and begin.moved is None
    assert begin.link.state == WorklogState.PENDING and begin.link.worklog_id is None
    assert (begin.link.issue, begin.link.started, begin.link.seconds) == ("WEB-1", at(5), 900)
    assert begin.link.at == now


def test_a_refused_push_without_a_worklog_is_fresh_again():
    begin = jira_push.push_start(unit_with(link(WorklogState.FAILED, worklog_id=None)), at(100))
    assert begin.fresh and begin.moved is None


def test_a_retry_keeps_its_pending_link_and_looks_before_sending():
    pending = link(WorklogState.PENDING, worklog_id=None)
    begin = jira_push.push_start(unit_with(pending), at(100))
    assert not begin.fresh
    # what it was sending stays (not the unit's new start and length): a retry
    assert begin.link == pending.model_copy(update={"at": at(100)})


def test_a_pushed_unit_is_updated_in_place():
    begin = jira_push.push_start(unit_with(link(WorklogState.PUSHED)), at(100))
    assert not begin.fresh and begin.moved is None
    assert begin.link.state == WorklogState.PENDING and begin.link.worklog_id == "1001"
    assert begin.link.started == at(5)


def test_a_worklog_on_another_ticket_is_moved():
    begin = jira_push.push_start(unit_with(link(issue="OLD-1"), issue="WEB-1"), at(100))
    assert begin.moved == ("OLD-1", "1001")
    unsent = jira_push.push_start(
        unit_with(link(WorklogState.FAILED, worklog_id=None, issue="OLD-1")), at(100)
    )
    assert unsent.moved is None  # nothing in Jira to move


def test_the_links_left_by_a_push():
    pending = link(WorklogState.PENDING, worklog_id="1001")
    gone = jira_links.gone_link(pending, at(100))
    assert gone.state == WorklogState.FAILED and gone.worklog_id is None
    assert "worklog 1001 no longer exists in Jira" in gone.error and gone.at == at(100)

    unit = unit_with(None, issue="WEB-9")
    pushed = jira_links.pushed_link(pending.model_copy(update={"error": "x"}), unit, "2002", at(7))
    assert pushed.state == WorklogState.PUSHED and pushed.worklog_id == "2002"
    assert (pushed.issue, pushed.started, pushed.seconds) == ("WEB-9", at(5), 900)
    assert (pushed.error, pushed.at, pushed.push_id) == ("", at(7), PUSH_ID)


# -- what is sent ----------------------------------------------------------------------------


class RecordingJira:
    """Just what ``send_unit`` asks of a client, each call recorded."""

    attempts = 1
    backoff_s = 0.0

    def __init__(self, worklogs=(), *, gone: bool = False) -> None:
        self.existing = list(worklogs)
        self.gone = gone
        self.calls: list[tuple] = []

    def worklogs(self, issue, *, started_after=None, started_before=None):
        self.calls.append(("GET", issue))
        return self.existing

    def add_worklog(self, issue, started, seconds, comment, *, adjust, push_id):
        self.calls.append(("POST", issue, seconds))
        return Worklog("3003", jira_time(started), seconds, comment, push_id=push_id)

    def update_worklog(self, issue, worklog_id, started, seconds, comment, *, adjust, push_id):
        self.calls.append(("PUT", issue, worklog_id, seconds))
        if self.gone:
            raise JiraError("not_found", "no such worklog")
        return Worklog(worklog_id, jira_time(started), seconds, comment, push_id=push_id)

    def sleep(self, seconds: float) -> None:
        raise AssertionError("no retry expected")


def marked(seconds: int, started: datetime) -> Worklog:
    return Worklog("4004", jira_time(started), seconds, "", push_id=PUSH_ID)


def send(client: RecordingJira, current: WorklogLink, *, fresh: bool = False):
    return jira_push.send_unit(client, unit_with(None), current, fresh=fresh, adjust="auto")


def test_a_linked_worklog_is_updated():
    jira = RecordingJira()
    worklog, action = send(jira, link(WorklogState.PENDING, worklog_id="1001"))
    assert (worklog.id, action) == ("1001", "updated")
    assert jira.calls == [("PUT", "WEB-1", "1001", 900)]


def test_a_linked_worklog_deleted_in_jira_is_reported_gone_and_nothing_is_created():
    jira = RecordingJira(gone=True)
    assert send(jira, link(WorklogState.PENDING, worklog_id="1001")) is None
    assert jira.calls == [("PUT", "WEB-1", "1001", 900)]


def test_any_other_refusal_of_an_update_is_raised():
    class Refusing(RecordingJira):
        def update_worklog(self, *args, **kwargs):
            raise JiraError("forbidden", "no permission")

    with pytest.raises(JiraError, match="no permission"):
        send(Refusing(), link(WorklogState.PENDING, worklog_id="1001"))


def test_a_fresh_unit_is_created_without_a_lookup():
    jira = RecordingJira([marked(900, at(5))])  # would be found: it is not looked for
    worklog, action = send(jira, link(WorklogState.PENDING, worklog_id=None), fresh=True)
    assert (worklog.id, action) == ("3003", "created")
    assert jira.calls == [("POST", "WEB-1", 900)]


def test_a_retry_finds_what_an_unanswered_try_created():
    jira = RecordingJira([marked(900, at(5))])
    worklog, action = send(jira, link(WorklogState.PENDING, worklog_id=None))
    assert (worklog.id, action) == ("4004", "found")
    assert jira.calls == [("GET", "WEB-1")]  # as it should be: not sent again


def test_a_found_worklog_that_differs_is_updated():
    for found in (marked(600, at(5)), marked(900, at(6))):
        jira = RecordingJira([found])
        worklog, action = send(jira, link(WorklogState.PENDING, worklog_id=None))
        assert (worklog.id, action) == ("4004", "found")
        assert jira.calls == [("GET", "WEB-1"), ("PUT", "WEB-1", "4004", 900)]


def test_a_retry_that_finds_nothing_creates_it():
    jira = RecordingJira([Worklog("5005", jira_time(at(5)), 900, "someone else's")])
    worklog, action = send(jira, link(WorklogState.PENDING, worklog_id=None))
    assert (worklog.id, action) == ("3003", "created")
    assert jira.calls == [("GET", "WEB-1"), ("POST", "WEB-1", 900)]
