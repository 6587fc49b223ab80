"""Storage contract, part 1: lifecycle and sessions (timers).

Every test runs against each backend (see ``backend`` in conftest).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from jtt_tui.domain import IllegalTransition, Segment, Session, SessionStatus, TimerMachine
from jtt_tui.storage import ConflictError, InvalidChangeError, NotFoundError
from tests.conftest import START


def _session(ticket: str, *spans: tuple[int, int | None], **fields) -> Session:
    """A session with segments given as (start, end) minute offsets from START."""
    segments = [
        Segment(
            start=START + timedelta(minutes=a),
            end=None if b is None else START + timedelta(minutes=b),
        )
        for a, b in spans
    ]
    status = SessionStatus.RUNNING if spans and spans[-1][1] is None else SessionStatus.PAUSED
    return Session(ticket_number=ticket, segments=segments, status=status, **fields)


class TestLifecycle:
    def test_connect_health_disconnect(self, make_store):
        store = make_store(connect=False)
        assert not store.is_connected()
        assert not store.health_check()
        store.connect()
        store.connect()  # idempotent
        assert store.is_connected()
        assert store.health_check()
        assert store.user_id == "alice"
        store.disconnect()
        assert not store.is_connected()
        assert not store.health_check()

    def test_blank_user_id_is_refused(self, make_store):
        with pytest.raises(ValueError, match="user id"):
            make_store("  ", connect=False)


class TestSessions:
    def test_save_get_and_list(self, store, clock):
        saved = store.save_session(_session("WEB-1", (0, 30), ticket_name="Login"))
        assert saved.version == 1
        assert saved.user_id == "alice"
        assert saved.created_at == saved.updated_at == clock.now()
        got = store.get_session(" web-1 ")
        assert got == saved
        assert store.get_session("WEB-404") is None
        store.save_session(_session("API-2", (40, 50)))
        assert sorted(store.get_sessions()) == ["API-2", "WEB-1"]

    def test_save_updates_callers_object_so_it_can_save_again(self, store, clock):
        session = _session("WEB-1", (0, 30))
        store.save_session(session)
        clock.advance(minutes=5)
        session.notes = "second save"
        store.save_session(session)
        assert session.version == 2
        stored = store.get_session("WEB-1")
        assert stored.notes == "second save"
        assert stored.version == 2
        assert stored.created_at < stored.updated_at

    def test_stale_version_is_a_conflict_not_an_overwrite(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        mine = store.get_session("WEB-1")
        theirs = store.get_session("WEB-1")
        theirs.notes = "theirs"
        store.save_session(theirs)
        mine.notes = "mine"
        with pytest.raises(ConflictError) as info:
            store.save_session(mine)
        assert info.value.expected == 1
        assert info.value.actual == 2
        assert store.get_session("WEB-1").notes == "theirs"

    def test_creating_an_existing_ticket_is_a_conflict(self, store):
        store.save_session(_session("WEB-1", (0, 30), notes="first"))
        with pytest.raises(ConflictError, match="already exists"):
            store.save_session(_session("WEB-1", (40, 50)))
        assert store.get_session("WEB-1").notes == "first"

    def test_saving_a_deleted_record_is_a_conflict(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        copy = store.get_session("WEB-1")
        assert store.delete_session("WEB-1") is True
        assert store.delete_session("WEB-1") is False
        with pytest.raises(ConflictError, match="deleted"):
            store.save_session(copy)
        assert store.get_session("WEB-1") is None

    def test_partial_update(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        updated = store.update_session("web-1", ticket_name="Login page", tags=["ui", "ui", " x "])
        assert updated.ticket_name == "Login page"
        assert updated.tags == ["ui", "x"]
        assert updated.version == 2
        assert store.get_session("WEB-1") == updated

    def test_update_validates_and_changes_nothing_on_bad_input(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        before = store.get_session("WEB-1")
        with pytest.raises(ValidationError):
            store.update_session("WEB-1", ticket_name="x" * 201)
        with pytest.raises(InvalidChangeError, match="no field"):
            store.update_session("WEB-1", colour="red")
        with pytest.raises(InvalidChangeError, match="cannot be changed"):
            store.update_session("WEB-1", version=7)
        with pytest.raises(InvalidChangeError, match="cannot be changed"):
            store.update_session("WEB-1", ticket_number="WEB-2")
        assert store.get_session("WEB-1") == before

    def test_update_with_pinned_version(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        store.update_session("WEB-1", notes="a", expected_version=1)
        with pytest.raises(ConflictError):
            store.update_session("WEB-1", notes="b", expected_version=1)
        assert store.get_session("WEB-1").notes == "a"

    def test_update_missing_record(self, store):
        with pytest.raises(NotFoundError):
            store.update_session("WEB-9", notes="x")

    def test_update_status_goes_through_the_state_machine(self, store, clock):
        machine = TimerMachine(clock)
        store.save_session(machine.start("WEB-1").session)
        clock.advance(minutes=25)
        paused = store.update_session_status("WEB-1", "paused")
        assert paused.status == SessionStatus.PAUSED
        assert paused.segments[-1].end == clock.now()
        clock.advance(minutes=5)
        running = store.update_session_status("WEB-1", SessionStatus.RUNNING)
        assert len(running.segments) == 2 and running.segments[-1].end is None
        store.update_session_status("WEB-1", "completed")
        with pytest.raises(IllegalTransition):
            store.update_session_status("WEB-1", "paused")
        assert store.get_session("WEB-1").status == SessionStatus.COMPLETED
        with pytest.raises(NotFoundError):
            store.update_session_status("NOPE-1", "paused")

    def test_sessions_between(self, store, clock):
        day = timedelta(days=1)
        store.save_session(_session("OLD-1", (-3 * 1440, -3 * 1440 + 60)))
        store.save_session(_session("WEB-1", (0, 30), (24 * 60 + 10, 24 * 60 + 20)))
        store.save_session(_session("API-2", (60, 90)))
        # a long-lived ticket: worked on last week and next week, not this day
        store.save_session(_session("LONG-1", (-2 * 1440, -2 * 1440 + 5), (3 * 1440, 3 * 1440 + 5)))
        clock.advance(days=4)
        store.save_session(_session("RUN-1", (4 * 1440 - 30, None)))
        store.save_session(Session(ticket_number="EMPTY-1"))

        day_one = store.sessions_between(START, START + day)
        assert [s.ticket_number for s in day_one] == ["WEB-1", "API-2"]  # oldest first
        day_two = store.sessions_between(START + day, START + 2 * day)
        assert [s.ticket_number for s in day_two] == ["WEB-1"]
        recent = store.sessions_between(START + 4 * day - timedelta(hours=1), START + 5 * day)
        assert [s.ticket_number for s in recent] == ["RUN-1"]
        everything = store.sessions_between(START - 10 * day, START + 10 * day)
        assert {s.ticket_number for s in everything} == {
            "OLD-1",
            "WEB-1",
            "API-2",
            "LONG-1",
            "RUN-1",
        }
        # a segment ending exactly where the range starts does not belong to it
        assert (
            store.sessions_between(START + timedelta(minutes=30), START + timedelta(minutes=40))
            == []
        )

    def test_active_sessions(self, store, clock):
        store.save_session(_session("PAUSED-1", (0, 10)))
        store.save_session(_session("PAUSED-2", (20, 30)))
        stopped = _session("DONE-1", (0, 5))
        stopped.status = SessionStatus.STOPPED
        store.save_session(stopped)
        clock.advance(hours=1)
        store.save_session(_session("RUN-1", (40, None)))
        active = [s.ticket_number for s in store.active_sessions()]
        assert active == ["RUN-1", "PAUSED-2", "PAUSED-1"]

    def test_running_timer_survives_a_restart(self, make_store, clock):
        store = make_store()
        machine = TimerMachine(clock)
        store.save_session(machine.start("WEB-1").session)
        store.disconnect()
        clock.advance(hours=2)
        reopened = make_store()
        session = reopened.get_session("WEB-1")
        assert session.status == SessionStatus.RUNNING
        assert session.elapsed(clock.now()) == timedelta(hours=2)

    def test_instants_round_trip_in_utc_to_the_millisecond(self, store):
        session = _session("WEB-1", (0, 30))
        store.save_session(session)
        stored = store.get_session("WEB-1")
        assert stored.segments == session.segments
        assert stored.segments[0].start.utcoffset() == timedelta(0)


class TestListsForScreens:
    def test_recent_sessions_pages_newest_first_with_running_on_top(self, store, clock):
        for i in range(7):
            store.save_session(_session(f"OLD-{i + 1}", (i * 60, i * 60 + 10)))
        store.save_session(Session(ticket_number="EMPTY-1"))
        clock.advance(hours=10)
        store.save_session(_session("RUN-1", (30, None)))
        first = [s.ticket_number for s in store.recent_sessions(limit=3)]
        second = [s.ticket_number for s in store.recent_sessions(limit=3, offset=3)]
        rest = [s.ticket_number for s in store.recent_sessions(limit=10, offset=6)]
        assert first == ["RUN-1", "OLD-7", "OLD-6"]
        assert second == ["OLD-5", "OLD-4", "OLD-3"]
        assert rest == ["OLD-2", "OLD-1", "EMPTY-1"]

    def test_recent_sessions_text_filter_is_literal_and_case_insensitive(self, store):
        store.save_session(_session("WEB-1", (0, 5), ticket_name="Login page"))
        store.save_session(_session("API-2", (10, 15), ticket_name="100% done_ok"))
        store.save_session(_session("OPS-3", (20, 25), ticket_name="(.*) regex"))
        assert [s.ticket_number for s in store.recent_sessions(text="LOGIN")] == ["WEB-1"]
        assert [s.ticket_number for s in store.recent_sessions(text="api-")] == ["API-2"]
        assert [s.ticket_number for s in store.recent_sessions(text="0% d")] == ["API-2"]
        assert [s.ticket_number for s in store.recent_sessions(text="_")] == ["API-2"]
        assert [s.ticket_number for s in store.recent_sessions(text="(.*)")] == ["OPS-3"]
        assert store.recent_sessions(text="%") == [store.get_session("API-2")]

    def test_time_by_project_is_summed_in_the_database(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        store.save_session(_session("WEB-2", (40, 50), (60, 65)))
        store.save_session(_session("API-1", (70, 80), project_id="p-api"))
        store.save_session(_session("WEB-3", (90, None)))  # running: not finished time
        totals = {(t.project_id, t.project_key): t.closed for t in store.time_by_project()}
        assert totals == {
            (None, "WEB"): timedelta(minutes=45),
            ("p-api", "API"): timedelta(minutes=10),
        }

    def test_sessions_for_project_by_id_or_prefix(self, store):
        store.save_session(_session("WEB-1", (0, 30)))
        store.save_session(_session("WEB-2", (40, 50), project_id="p-other"))
        store.save_session(_session("MISC-9", (60, 70), project_id="p-web"))
        found = [s.ticket_number for s in store.sessions_for_project("p-web", "WEB")]
        assert found == ["WEB-1", "MISC-9"]
