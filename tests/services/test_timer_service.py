"""TimerService on every backend: switching, conflicts, today's total."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest

from jtt_tui.domain import DomainError, ManualTask, Project, SessionStatus, Ticket
from jtt_tui.domain.calendar import day_bounds
from jtt_tui.services.timer import NothingToDo, TimerService
from jtt_tui.storage import ConflictError

S = SessionStatus


@pytest.fixture
def service(store, clock) -> TimerService:
    return TimerService(store, clock=clock, tz=UTC)


def test_start_switches_and_fills_fields(service, store, clock):
    store.save_project(Project(key="OPS", name="Operations"))
    store.save_ticket(Ticket(ticket_number="WEB-1", ticket_name="From the catalogue"))
    first = service.start("web-1", tags=["ui"], note="first note")
    assert first.session.ticket_name == "From the catalogue"
    clock.advance(minutes=25)
    change = service.start("OPS-2", name="Rotate keys", project_key="ops")
    assert [s.ticket_number for s in change.paused] == ["WEB-1"]
    assert change.session.project_id == store.get_projects()[0].project_id
    clock.advance(minutes=5)
    again = service.start("WEB-1", tags=["backend"], note="second note")
    assert again.session.tags == ["ui", "backend"]
    assert again.session.notes == "first note\nsecond note"
    assert store.get_session("OPS-2").status == S.PAUSED
    assert store.get_session("WEB-1").status == S.RUNNING


def test_unknown_project_is_an_error(service):
    with pytest.raises(DomainError, match="no project with the key NOPE"):
        service.start("WEB-1", project_key="nope")


def test_pause_resume_stop_complete_without_a_ticket(service, store, clock):
    service.start("WEB-1")
    clock.advance(minutes=10)
    assert [s.ticket_number for s in service.pause()] == ["WEB-1"]
    with pytest.raises(NothingToDo, match="no timer is running"):
        service.pause()
    clock.advance(minutes=10)
    assert service.resume().session.ticket_number == "WEB-1"
    clock.advance(minutes=10)
    stopped = service.stop()
    assert stopped.status == S.STOPPED
    assert stopped.elapsed(clock.now()) == timedelta(minutes=20)
    with pytest.raises(NothingToDo, match="no running or paused timer"):
        service.complete()
    assert service.complete("web-1").status == S.COMPLETED
    with pytest.raises(NothingToDo, match="no timer for WEB-404"):
        service.stop("web-404")


def test_several_running_timers_need_a_name(store, clock):
    service = TimerService(store, clock=clock, allow_concurrent=True, tz=UTC)
    service.start("WEB-1")
    service.start("WEB-2")
    with pytest.raises(NothingToDo, match="several timers are running"):
        service.stop()
    assert len(service.pause()) == 2


def test_a_concurrent_writer_is_retried_not_overwritten(service, store, clock, monkeypatch):
    service.start("WEB-1", note="mine")
    original = store.commit
    calls = {"n": 0}

    def racing_commit(writes):
        calls["n"] += 1
        if calls["n"] == 1:
            # another process changes the record between our read and write
            store.update_session("WEB-1", notes="theirs")
        return original(writes)

    monkeypatch.setattr(store, "commit", racing_commit)
    clock.advance(minutes=1)
    paused = service.pause("WEB-1")[0]
    assert paused.status == S.PAUSED
    assert store.get_session("WEB-1").notes == "theirs"  # their change survived
    assert calls["n"] == 2


def test_persistent_conflict_surfaces(service, store, monkeypatch):
    service.start("WEB-1")

    def always_conflict(writes):
        raise ConflictError("session", "WEB-1", 1, 2)

    monkeypatch.setattr(store, "commit", always_conflict)
    with pytest.raises(ConflictError):
        service.pause("WEB-1")


def test_status_and_today_total_across_midnight(store, clock):
    tz = ZoneInfo("Europe/Berlin")
    service = TimerService(store, clock=clock, tz=tz)
    start_of_day, _ = day_bounds(date(2025, 3, 10), tz)
    clock.set(start_of_day - timedelta(minutes=30))  # 23:30 the evening before
    service.start("WEB-1")
    clock.set(start_of_day + timedelta(minutes=45))  # 00:45
    store.save_manual_task(
        ManualTask(title="Call", date=date(2025, 3, 10), duration=timedelta(minutes=15))
    )
    status = service.status()
    assert [s.ticket_number for s in status.running] == ["WEB-1"]
    # the part after midnight, plus today's manual entry
    assert status.today_total == timedelta(minutes=45 + 15)
    assert service.total_on(start_of_day - timedelta(hours=1)) == timedelta(minutes=30)


def test_daylight_saving_day_is_23_hours():
    tz = ZoneInfo("Europe/Berlin")
    start, end = day_bounds(date(2025, 3, 30), tz)
    assert end - start == timedelta(hours=23)


def test_edit_details_and_running_start(service, store, clock):
    store.save_project(Project(key="OPS", name="Ops"))
    service.start("WEB-1")
    clock.advance(minutes=10)
    edited = service.edit(
        "WEB-1",
        name="Renamed",
        project_key="ops",
        tags=["a", "b"],
        notes="hello",
        running_start=clock.now() - timedelta(hours=1),
    )
    assert (edited.ticket_name, edited.tags, edited.notes) == ("Renamed", ["a", "b"], "hello")
    assert edited.elapsed(clock.now()) == timedelta(hours=1)
    assert edited.project_id == store.get_projects()[0].project_id
    cleared = service.edit("WEB-1", project_key="")
    assert cleared.project_id is None and cleared.ticket_name == "Renamed"
    with pytest.raises(DomainError, match="future"):
        service.edit("WEB-1", running_start=clock.now() + timedelta(minutes=5))


def test_segment_edits_and_deletes(service, store, clock):
    service.start("WEB-1")
    clock.advance(hours=1)
    service.stop("WEB-1")
    start = store.get_session("WEB-1").segments[0].start
    edited = service.edit_segment("WEB-1", 0, start=start, end=start + timedelta(minutes=20))
    assert edited.elapsed(clock.now()) == timedelta(minutes=20)
    assert service.delete_segment("WEB-1", 0).segments == []
    assert service.delete("WEB-1") is True and store.get_session("WEB-1") is None


def test_manual_entries(service, store):
    store.save_project(Project(key="OPS", name="Ops"))
    store.save_ticket(Ticket(ticket_number="OPS-4", ticket_name="Patch servers"))
    task = service.add_manual_entry(
        title="",
        duration=timedelta(minutes=45),
        day=date(2025, 3, 10),
        ticket_number="OPS-4",
        project_key="ops",
        billable=False,
    )
    assert task.title == "Patch servers" and not task.billable
    assert task.project_id == store.get_projects()[0].project_id
    assert service.delete_manual_entry(task.task_id) is True
    assert store.get_manual_tasks() == []
