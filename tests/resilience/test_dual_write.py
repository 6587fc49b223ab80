"""Gradual mode: every write to the local store and MongoDB (the real driver
over the wire server), reads from the primary; MongoDB's copy of writes made
while it is down waits in the outbox and arrives once, never dropped."""

from __future__ import annotations

import time

import pytest

from jtt_tui.domain import Project, SessionStatus, Ticket
from jtt_tui.services.dual import DualStorage
from jtt_tui.services.opening import open_storage
from jtt_tui.services.timer import TimerService
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.errors import StorageError
from tests.support.remote import open_service


def _wait(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.fixture
def dual(wire, tmp_path):
    opened = []

    def make(read: str = "read-local") -> DualStorage:
        local = SQLiteStore(tmp_path / "local.db", user_id="alice")
        remote = open_service(wire, tmp_path, user_id="alice")
        store = DualStorage(local, remote, read, health_interval_s=0.3)  # type: ignore[arg-type]
        store.connect()
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.disconnect()


def _remote_doc(wire, collection: str, **query):
    return wire.data["jtt"][collection].find_one({"userId": "alice", **query})


def test_writes_reach_both_and_reads_come_from_the_local_store(dual, wire):
    store = dual("read-local")
    timer = TimerService(store)
    timer.start("WEB-1", name="both stores")
    store.save_project(Project(key="WEB", name="Website"))
    assert store.local.get_session("WEB-1").status == SessionStatus.RUNNING
    assert _remote_doc(wire, "sessions", ticketNumber="WEB-1")["status"] == "running"
    assert _remote_doc(wire, "projects", key="WEB") is not None
    # someone edits MongoDB directly: the local store stays the source of truth
    wire.data["jtt"]["sessions"].update_one(
        {"ticketNumber": "WEB-1"}, {"$set": {"ticketName": "changed in MongoDB"}}
    )
    assert store.get_session("WEB-1").ticket_name == "both stores"


def test_read_remote_reads_mongodb(dual, wire):
    store = dual("read-remote")
    store.save_ticket(Ticket(ticket_number="API-1", ticket_name="first"))
    wire.data["jtt"]["tickets"].update_one(
        {"ticketNumber": "API-1"}, {"$set": {"ticketName": "from MongoDB"}}
    )
    assert store.get_ticket("API-1").ticket_name == "from MongoDB"
    assert store.local.get_ticket("API-1").ticket_name == "first"


def test_read_both_falls_back_to_mongodb_when_the_local_store_fails(dual):
    store = dual("read-both")
    store.save_ticket(Ticket(ticket_number="API-2", ticket_name="kept twice"))

    def broken(*args, **kwargs):
        raise StorageError("disk I/O error")

    store.local._load = broken  # type: ignore[method-assign]
    assert store.get_ticket("API-2").ticket_name == "kept twice"


def test_mongodb_down_the_copies_wait_in_the_outbox_and_arrive_once(dual, wire):
    store = dual("read-local")
    timer = TimerService(store)
    timer.start("WEB-1")
    wire.stop()
    # the local store takes every write at once; MongoDB's copies queue
    timer.pause("WEB-1")
    for number in range(2, 12):
        store.save_ticket(Ticket(ticket_number=f"OPS-{number}", ticket_name=f"offline {number}"))
    assert store.local.get_session("WEB-1").status == SessionStatus.PAUSED
    assert store.pending() == 11
    wire.start()
    _wait(lambda: store.pending() == 0 and store.remote.online)
    assert _remote_doc(wire, "sessions", ticketNumber="WEB-1")["status"] == "paused"
    tickets = list(wire.data["jtt"]["tickets"].find({"userId": "alice"}))
    assert sorted(t["ticketNumber"] for t in tickets) == sorted(f"OPS-{n}" for n in range(2, 12))


def test_an_import_is_copied_across(dual, wire):
    store = dual("read-local")
    bundle = store.export_all().model_copy(
        update={"tickets": [Ticket(ticket_number=f"IMP-{n}") for n in range(1, 6)]}
    )
    store.import_all(bundle)
    assert wire.data["jtt"]["tickets"].count_documents({"userId": "alice"}) == 5
    assert store.resync() == 0  # nothing left to bring in line


def test_open_storage_builds_it_from_the_settings(wire, jtt_env, monkeypatch):
    from jtt_tui.config import load_settings

    monkeypatch.setenv("DEFAULT_USER_ID", "alice")
    monkeypatch.setenv("MONGODB_URI", wire.uri)
    monkeypatch.setenv("MONGODB_DUAL_WRITE", "read-local")
    opened = open_storage(load_settings())
    try:
        store = opened.store
        assert store.kind == "local" and "read-local" in store.location
        store.save_ticket(Ticket(ticket_number="ENV-1"))
        assert _remote_doc(wire, "tickets", ticketNumber="ENV-1") is not None
    finally:
        opened.store.disconnect()
