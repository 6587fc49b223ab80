"""Nothing is lost when MongoDB goes away: writes queue in the outbox and
reach the server exactly once when it is back."""

from __future__ import annotations

import random
import threading
import time

import pytest

from jtt_tui.domain import Project, Session, SessionStatus
from jtt_tui.services.projects import ProjectService
from jtt_tui.services.storage_service import (
    ConnectionLost,
    ConnectionRestored,
    OutboxChanged,
)
from jtt_tui.services.timer import TimerService
from jtt_tui.storage.offline import OfflineUnavailable
from tests.support.remote import TIMEOUT_MS, Recorder


def _server_sessions(wire, user="alice") -> list[dict]:
    return list(wire.data["jtt"]["sessions"].find({"userId": user}, {"_id": 0}))


def test_server_stopped_mid_session_loses_nothing(wire, service_factory, monitor_factory):
    service = service_factory(wire)
    events = Recorder()
    service.subscribe(events)
    monitor_factory(service)
    timer = TimerService(service)
    timer.start("WEB-1")  # running before the outage
    started = service.get_session("WEB-1").segments[-1].start

    stopped_at = time.monotonic()
    wire.stop()
    when, lost = events.wait_for(ConnectionLost, timeout=3)
    assert when - stopped_at <= 3, "the outage must be noticed within 3 s"
    assert lost.failure.kind in ("network", "timeout")
    assert service.state in ("offline", "reconnecting")

    # 200 writes while offline: timer actions, edits, a new project (each
    # change also queues its journal entry, for undo: not counted as a write)
    writes, previous_running = 0, True
    for i in range(2, 71):
        timer.start(f"WEB-{i}")  # pauses the previous timer if it still runs
        writes += 2 if previous_running else 1
        service.update_session(f"WEB-{i}", notes=f"offline note {i}")
        writes += 1
        previous_running = not i % 2
        if i % 2:
            timer.pause(f"WEB-{i}")
            writes += 1
    ProjectService(service).save(Project(key="WEB", name="Offline project"))
    writes += 1
    assert writes >= 200
    assert service.pending() == writes
    # the running timer kept running: same start, it is a timestamp
    running = [s for s in service.active_sessions() if s.status == SessionStatus.RUNNING]
    assert len(running) == 1
    assert service.get_session("WEB-1").segments[0].start == started
    with pytest.raises(OfflineUnavailable):
        service.next_invoice_number()

    wire.start()  # same port
    events.wait_for(ConnectionRestored, timeout=15)
    assert service.state == "connected" and service.pending() == 0
    restored = events.first(ConnectionRestored)[1]
    assert restored.replayed == writes and restored.conflicts == 0

    docs = _server_sessions(wire)
    assert sorted(d["ticketNumber"] for d in docs) == sorted(f"WEB-{i}" for i in range(1, 71))
    by_ticket = {d["ticketNumber"]: d for d in docs}
    for i in range(2, 71):
        assert by_ticket[f"WEB-{i}"]["notes"] == f"offline note {i}"
    assert [p["name"] for p in wire.data["jtt"]["projects"].find()] == ["Offline project"]
    # and the server holds exactly what the app showed while offline, the
    # journal included: undo works on what was done offline
    assert service.export_all().sessions == service.mirror.export_all().sessions
    assert service.last_journal_seq() == service.mirror.last_journal_seq() > 100


def test_twenty_random_outages_during_a_write_loop(wire, service_factory, monitor_factory):
    service = service_factory(wire)
    monitor = monitor_factory(service, interval_s=0.2)
    logs = [f"LOG-{n}" for n in range(1, 5)]  # read-modify-write targets
    for ticket in logs:
        service.save_session(Session(ticket_number=ticket))
    rng = random.Random(7)
    done = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            i = 0
            while not done.is_set():
                i += 1
                service.save_session(Session(ticket_number=f"WR-{i}", notes=str(i)))
                log = service.get_session(logs[i % len(logs)])
                log.notes += f"{i},"
                service.save_session(log)
                written.append(i)
                time.sleep(0.02)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    for _ in range(20):
        time.sleep(rng.uniform(0.05, 0.4))
        wire.stop()
        time.sleep(rng.uniform(0.05, 0.4))
        wire.start()
        monitor.retry_now()
    done.set()
    thread.join(timeout=30)
    assert errors == []
    deadline = time.monotonic() + 60
    while (service.state != "connected" or service.pending()) and time.monotonic() < deadline:
        monitor.retry_now()
        time.sleep(0.2)
    assert (service.state, service.pending(), service.failure) == ("connected", 0, None)
    assert service.conflicts() == []

    docs = {d["ticketNumber"]: d for d in _server_sessions(wire)}
    assert len(written) > 20
    for i in written:  # every acknowledged write is there ...
        assert docs[f"WR-{i}"]["notes"] == str(i)
    # ... exactly once: each log lists its steps once, in order
    for n, ticket in enumerate(logs):
        steps = [int(x) for x in docs[ticket]["notes"].split(",") if x]
        assert steps == [i for i in written if i % len(logs) == n]
    assert len(docs) == len(written) + len(logs)


def test_a_hung_server_is_detected_within_the_operation_timeout(
    wire, service_factory, monitor_factory
):
    service = service_factory(wire)
    events = Recorder()
    service.subscribe(events)
    monitor_factory(service, interval_s=0.5)
    service.save_session(Session(ticket_number="WEB-1"))
    wire.mode = "silent"
    hung_at = time.monotonic()
    # an operation during the hang gives up after timeoutMS and goes offline
    service.update_session("WEB-1", notes="written during the hang")
    took = time.monotonic() - hung_at
    assert took <= TIMEOUT_MS / 1000 + 1
    when, lost = events.wait_for(ConnectionLost, timeout=TIMEOUT_MS / 1000 + 1)
    assert when - hung_at <= TIMEOUT_MS / 1000 + 1
    assert lost.failure.kind == "timeout"
    assert service.pending() == 1
    wire.mode = "normal"
    events.wait_for(ConnectionRestored, timeout=15)
    assert _server_sessions(wire)[0]["notes"] == "written during the hang"


def test_a_hung_up_connection_is_a_network_failure(wire, service_factory):
    service = service_factory(wire)
    events = Recorder()
    service.subscribe(events)
    wire.mode = "hangup"
    service.save_session(Session(ticket_number="WEB-9"))
    _, lost = events.wait_for(ConnectionLost, timeout=5)
    assert lost.failure.kind in ("network", "timeout")
    assert service.pending() == 1


def test_conflicts_are_shown_never_overwritten(wire, service_factory, tmp_path):
    mine = service_factory(wire)
    theirs = service_factory(wire, user_id="alice", database="jtt")  # another machine
    mine.save_session(Session(ticket_number="WEB-1", notes="v1"))
    wire.stop()
    mine.update_session("WEB-1", notes="mine, offline")
    assert mine.state == "offline" and mine.pending() == 1
    wire.start()
    theirs.remote.disconnect()
    theirs.remote.connect()
    theirs.update_session("WEB-1", notes="theirs, meanwhile")
    assert mine.reconnect()
    (conflict,) = mine.conflicts()
    assert "changed elsewhere" in conflict.detail
    assert _server_sessions(wire)[0]["notes"] == "theirs, meanwhile"  # not overwritten
    assert mine.get_session("WEB-1").notes == "theirs, meanwhile"
    mine.resolve(conflict, keep="mine")
    assert _server_sessions(wire)[0]["notes"] == "mine, offline"
    assert mine.conflicts() == [] and mine.pending() == 0


def test_keep_theirs_drops_mine(wire, service_factory):
    mine = service_factory(wire)
    mine.save_session(Session(ticket_number="WEB-1", notes="v1"))
    wire.stop()
    mine.update_session("WEB-1", notes="mine")
    wire.start()
    wire.data["jtt"]["sessions"].update_one(
        {"ticketNumber": "WEB-1"}, {"$set": {"notes": "theirs"}, "$inc": {"version": 1}}
    )
    assert mine.reconnect()
    (conflict,) = mine.conflicts()
    mine.resolve(conflict, keep="theirs")
    assert mine.get_session("WEB-1").notes == "theirs"
    assert mine.pending() == 0


def test_replaying_twice_is_harmless(wire, service_factory):
    service = service_factory(wire)
    wire.stop()
    service.save_session(Session(ticket_number="WEB-1", notes="queued"))
    entry = service.mirror.entries()[0]
    wire.start()
    service.remote.disconnect()
    service.remote.connect()
    # as if a previous replay had sent it, then crashed before clearing the outbox
    service.remote._store(entry.kind, entry.record.model_copy(deep=True), entry.base_version)
    assert service.reconnect()
    assert service.pending() == 0 and service.conflicts() == []
    assert len(_server_sessions(wire)) == 1


def test_outbox_survives_a_restart_of_the_app(wire, service_factory, tmp_path):
    first = service_factory(wire)
    wire.stop()
    first.save_session(Session(ticket_number="WEB-1", notes="before the crash"))
    first.disconnect()  # the app goes away with the write still queued
    wire.start()
    second = service_factory(wire)
    assert second.online and second.pending() == 1  # a fresh start finds the queue
    assert second.replay().replayed == 1
    assert _server_sessions(wire)[0]["notes"] == "before the crash"


def test_outbox_changes_are_published(wire, service_factory):
    service = service_factory(wire)
    events = Recorder()
    service.subscribe(events)
    wire.stop()
    service.save_session(Session(ticket_number="WEB-1"))
    service.save_session(Session(ticket_number="WEB-2"))
    pending = [e.pending for _, e in events.events if isinstance(e, OutboxChanged)]
    assert pending[-1] == 2
