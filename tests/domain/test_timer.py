"""The timer state machine, driven by an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jtt_tui.domain import DomainError, FixedClock, IllegalTransition, Session, TimerMachine
from jtt_tui.domain.models import SessionStatus as S

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def machine(clock) -> TimerMachine:
    return TimerMachine(clock)


def test_start_creates_a_running_session_with_fields(machine):
    change = machine.start(" web-1 ", ticket_name="Login", tags=["ui"])
    session = change.session
    assert session.ticket_number == "WEB-1"
    assert session.status == S.RUNNING
    assert session.ticket_name == "Login"
    assert [seg.start for seg in session.segments] == [T0]
    assert change.paused == []


def test_full_lifecycle_durations_from_timestamps_only(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(minutes=30)
    session = machine.pause(session)
    assert session.status == S.PAUSED
    clock.advance(minutes=60)  # paused time does not count
    session = machine.resume(session).session
    clock.advance(minutes=15)
    session = machine.stop(session)
    assert session.status == S.STOPPED
    assert session.elapsed(clock.now() + timedelta(days=3)) == timedelta(minutes=45)
    session = machine.resume(session).session
    clock.advance(minutes=5)
    session = machine.complete(session)
    assert session.status == S.COMPLETED
    assert len(session.segments) == 3
    assert session.elapsed(clock.now()) == timedelta(minutes=50)


def test_a_running_timer_counts_while_nothing_runs(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(hours=8)  # the app was closed, the laptop asleep
    assert session.elapsed(clock.now()) == timedelta(hours=8)


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        (["pause"], "pause", "only a running timer can be paused"),
        (["stop"], "pause", "only a running timer can be paused"),
        (["stop"], "stop", "only a running or paused"),
        (["complete"], "stop", "only a running or paused"),
        (["complete"], "complete", "already completed"),
        ([], "resume", "already running"),
        (["complete"], "resume", "use start to reopen"),
    ],
)
def test_illegal_transitions_raise_a_clear_error(machine, setup, action, message):
    session = machine.start("WEB-1").session
    for step in setup:
        session = getattr(machine, step)(session)
    before = session.model_copy(deep=True)
    with pytest.raises(IllegalTransition, match=message) as info:
        result = getattr(machine, action)(session)
        assert result is None
    assert info.value.ticket == "WEB-1"
    assert session == before  # arguments are never mutated


def test_start_a_running_ticket_is_illegal(machine):
    session = machine.start("WEB-1").session
    with pytest.raises(IllegalTransition, match="already running"):
        machine.start("WEB-1", existing=session)


def test_start_reopens_a_completed_ticket(machine, clock):
    started = machine.start("WEB-1").session
    clock.advance(minutes=5)
    session = machine.complete(started)
    clock.advance(minutes=10)
    reopened = machine.start("WEB-1", existing=session).session
    assert reopened.status == S.RUNNING and len(reopened.segments) == 2


def test_switch_pauses_the_running_timer(machine, clock):
    a = machine.start("WEB-1").session
    clock.advance(minutes=20)
    change = machine.start("API-2", active=[a])
    assert [s.ticket_number for s in change.paused] == ["WEB-1"]
    paused = change.paused[0]
    assert paused.status == S.PAUSED
    assert paused.segments[-1].end == clock.now()
    assert change.changed == [paused, change.session]
    # resuming A pauses B in turn
    clock.advance(minutes=5)
    back = machine.resume(paused, active=[change.session])
    assert back.paused[0].ticket_number == "API-2"
    assert back.session.status == S.RUNNING


def test_paused_timers_are_left_alone_by_a_switch(machine):
    paused = machine.pause(machine.start("WEB-1").session)
    change = machine.start("API-2", active=[paused])
    assert change.paused == []


def test_concurrent_timers_when_allowed(clock):
    machine = TimerMachine(clock, allow_concurrent=True)
    a = machine.start("WEB-1").session
    change = machine.start("API-2", active=[a])
    assert change.paused == []
    assert a.status == S.RUNNING


def test_start_in_the_past_but_not_the_future(machine, clock):
    session = machine.start("WEB-1", at=T0 - timedelta(minutes=20)).session
    assert session.elapsed(clock.now()) == timedelta(minutes=20)
    with pytest.raises(DomainError, match="future"):
        machine.start("WEB-2", at=T0 + timedelta(minutes=1))


def test_edit_the_running_start_time(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(minutes=10)
    earlier = machine.set_running_start(session, T0 - timedelta(minutes=50))
    assert earlier.elapsed(clock.now()) == timedelta(hours=1)
    with pytest.raises(DomainError, match="future"):
        machine.set_running_start(session, clock.now() + timedelta(minutes=1))
    with pytest.raises(IllegalTransition):
        machine.set_running_start(machine.pause(session), T0)


def test_running_start_cannot_move_before_the_previous_segment(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(minutes=30)
    session = machine.resume(machine.pause(session)).session
    with pytest.raises(DomainError, match="before segment 1 ends"):
        machine.set_running_start(session, T0 + timedelta(minutes=10))


def test_ending_as_it_began_keeps_no_empty_segment(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(minutes=5)
    session = machine.resume(machine.pause(session)).session
    paused = machine.pause(session)  # in the same instant it resumed
    assert len(paused.segments) == 1 and paused.status == S.PAUSED


def test_edit_and_delete_finished_segments(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(hours=1)
    session = machine.stop(session)
    edited = machine.edit_segment(
        session, 0, start=T0 + timedelta(minutes=15), end=T0 + timedelta(minutes=45)
    )
    assert edited.elapsed(clock.now()) == timedelta(minutes=30)
    with pytest.raises(DomainError, match="needs an end"):
        machine.edit_segment(session, 0, start=T0, end=None)
    with pytest.raises(DomainError, match="no segment number 3"):
        machine.edit_segment(session, 2, start=T0, end=T0)
    with pytest.raises(DomainError, match="before it starts"):
        machine.edit_segment(session, 0, start=T0 + timedelta(minutes=30), end=T0)
    assert machine.delete_segment(session, 0).segments == []


def test_running_segment_cannot_be_deleted(machine):
    session = machine.start("WEB-1").session
    with pytest.raises(DomainError, match="stop or pause"):
        machine.delete_segment(session, 0)


def test_a_clock_behind_the_last_segment_never_creates_overlap(machine, clock):
    session = machine.start("WEB-1").session
    clock.advance(minutes=30)
    session = machine.pause(session)
    clock.set(T0 + timedelta(minutes=10))  # another machine with a slow clock
    resumed = machine.resume(session).session
    assert resumed.segments[1].start == T0 + timedelta(minutes=30)


def test_apply_maps_statuses_to_transitions(machine, clock):
    session = machine.start("WEB-1").session
    assert machine.apply(session, "paused").status == S.PAUSED
    assert machine.apply(machine.apply(session, "completed"), "running").status == S.RUNNING


def test_invalid_ticket_on_start(machine):
    with pytest.raises(ValueError, match="not a Jira ticket number"):
        machine.start("nope")


def test_sessions_are_plain_data_and_can_be_rebuilt(machine):
    session = machine.start("WEB-1").session
    assert Session.model_validate_json(session.model_dump_json()) == session
