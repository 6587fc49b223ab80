"""The migration engine: local → MongoDB → local, dry runs, conflicts,
replace, cancel, verification, changes made while copying, and how many
write commands a big migration sends over the real driver."""

from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.datasets import make_sessions
from jtt_tui.domain import FixedClock, SessionStatus, Ticket
from jtt_tui.storage import MongoStore, SQLiteStore
from jtt_tui.storage.base import Storage
from jtt_tui.storage.importers import read_import
from jtt_tui.storage.migrate import (
    CopyProgress,
    MigrationCancelled,
    MigrationError,
    StepChanged,
    canonical_bundle,
    migrate,
)
from tests.conftest import WIRE_OPTIONS, mongomock_server
from tests.ui.conftest import NOW, seed

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "electron-store" / "app-data.json"
WRITE_COMMANDS = ("insert", "update", "delete", "findAndModify", "findandmodify")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def sqlite(tmp_path: Path, clock: FixedClock):
    opened: list[Storage] = []

    def open_one(name: str, user_id: str = "tester") -> SQLiteStore:
        store = SQLiteStore(tmp_path / f"{name}.db", user_id=user_id, clock=clock)
        store.connect()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.disconnect()


@pytest.fixture
def mongo(clock: FixedClock, request: pytest.FixtureRequest):
    """A MongoDB target: in-process (mongomock) or over TCP (the wire server)."""
    opened: list[Storage] = []

    def open_one(
        flavour: str = "mongomock", database: str = "jtt_migrate", **options: object
    ) -> MongoStore:
        if flavour == "wire":
            server = request.getfixturevalue("wire")
            store = MongoStore(
                server.uri,
                database,
                user_id="tester",
                clock=clock,
                **{**WIRE_OPTIONS, **options},  # type: ignore[arg-type]
            )
        else:
            store = MongoStore(
                "mongodb://localhost:27017",
                database,
                user_id="tester",
                clock=clock,
                client_factory=mongomock_server(),
            )
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.disconnect()


def _rich(store: Storage, extra_sessions: int = 120) -> Storage:
    """Every kind of record: projects with Decimal rates, a running timer,
    paused and stopped ones, a manual entry, billing settings, an invoice,
    known tickets, non-ASCII text — plus a bulk of ordinary sessions."""
    seed(store)  # type: ignore[arg-type]
    store.import_all(
        store.export_all().model_copy(
            update={"sessions": make_sessions(extra_sessions, now=NOW - timedelta(days=3))}
        )
    )
    store.save_ticket(Ticket(ticket_number="WEB-9", ticket_name="Überschrift — 見出し"))
    return store


def test_local_to_mongodb_and_back_gives_the_same_export(sqlite, mongo, tmp_path):
    source = _rich(sqlite("source"))
    first = source.export_all()
    remote = mongo()
    there = migrate(source, remote, batch_size=40, backup_path=tmp_path / "b1.json")
    assert there.verified and there.copied == first.record_count()
    back = sqlite("back")
    again = migrate(remote, back, batch_size=40, backup_path=tmp_path / "b2.json")
    assert again.verified
    assert canonical_bundle(back.export_all()) == canonical_bundle(first)
    # the backup is the whole source, versioned
    backup = json.loads((tmp_path / "b1.json").read_text())
    assert backup["format_version"] == 1 and len(backup["sessions"]) == len(first.sessions)


def test_the_same_round_trip_over_the_real_driver(sqlite, mongo, tmp_path):
    source = _rich(sqlite("source"), extra_sessions=60)
    remote = mongo("wire")
    assert migrate(source, remote, batch_size=25).verified
    back = sqlite("back")
    assert migrate(remote, back).verified
    assert canonical_bundle(back.export_all()) == canonical_bundle(source.export_all())


def test_a_running_timer_arrives_running(sqlite, mongo, clock):
    source = _rich(sqlite("source"))
    running = source.get_session("WEB-1")
    assert running.status == SessionStatus.RUNNING
    remote = mongo()
    migrate(source, remote)
    moved = remote.get_session("WEB-1")
    assert moved.status == SessionStatus.RUNNING
    assert moved.segments[-1].start == running.segments[-1].start
    assert moved.segments[-1].end is None
    clock.advance(timedelta(minutes=10))
    assert moved.elapsed(clock.now()) == running.elapsed(clock.now()) > timedelta(minutes=10)


def test_running_it_again_changes_nothing(sqlite, mongo):
    source = _rich(sqlite("source"))
    remote = mongo()
    migrate(source, remote, batch_size=50)
    counts = remote.count_records()
    again = migrate(source, remote, batch_size=50)
    assert again.verified and again.copied == 0
    assert (
        sum(r.unchanged for r in again.collections.values()) == source.export_all().record_count()
    )
    assert remote.count_records() == counts


def test_dry_run_reads_and_reports_but_writes_nothing(sqlite, tmp_path, clock):
    source = _rich(sqlite("source"))
    target = sqlite("target")
    clock.advance(timedelta(hours=1))
    target.save_ticket(Ticket(ticket_number="WEB-9", ticket_name="newer in the target"))
    before = canonical_bundle(target.export_all())
    report = migrate(source, target, dry_run=True, backup_path=tmp_path / "backup.json")
    assert canonical_bundle(target.export_all()) == before
    assert not (tmp_path / "backup.json").exists()
    assert report.dry_run and not report.verified
    assert report.copied == source.export_all().record_count() - 1
    assert [(c.collection, c.key, c.winner) for c in report.conflicts] == [
        ("tickets", "WEB-9", "target")
    ]


def test_merge_keeps_the_newer_side_and_lists_every_conflict(sqlite, tmp_path, clock):
    target = sqlite("target")
    target.save_ticket(Ticket(ticket_number="WEB-9", ticket_name="older, in the target"))
    target.save_ticket(Ticket(ticket_number="ONLY-1", ticket_name="only in the target"))
    clock.advance(timedelta(hours=1))
    source = _rich(sqlite("source"))  # its WEB-9 is newer
    source.save_ticket(Ticket(ticket_number="OPS-1", ticket_name="older in the source"))
    clock.advance(timedelta(hours=1))
    target.save_ticket(Ticket(ticket_number="OPS-1", ticket_name="newer in the target"))

    report = migrate(source, target, backup_path=tmp_path / "b.json")
    assert report.verified
    assert target.get_ticket("WEB-9").ticket_name == "Überschrift — 見出し"
    assert target.get_ticket("OPS-1").ticket_name == "newer in the target"
    assert target.get_ticket("ONLY-1") is not None  # merge keeps what only the target has
    assert sorted((c.key, c.winner) for c in report.conflicts) == [
        ("OPS-1", "target"),
        ("WEB-9", "source"),
    ]
    # the target's losing version is not lost: it was backed up before the copy
    saved = json.loads(report.target_backup_path.read_text())
    assert {t["ticket_number"]: t["ticket_name"] for t in saved["tickets"]}["WEB-9"] == (
        "older, in the target"
    )


def test_replace_empties_the_target_first(sqlite, tmp_path):
    source = _rich(sqlite("source"))
    target = sqlite("target")
    target.save_ticket(Ticket(ticket_number="ONLY-1"))
    report = migrate(source, target, mode="replace", backup_path=tmp_path / "b.json")
    assert report.verified and report.collections["tickets"].deleted == 1
    assert canonical_bundle(target.export_all()) == canonical_bundle(source.export_all())
    assert report.target_backup_path is not None and report.target_backup_path.exists()


def test_progress_reports_every_step_and_each_batch(sqlite, mongo, tmp_path):
    source = _rich(sqlite("source"), extra_sessions=200)
    events: list[object] = []
    migrate(source, mongo(), batch_size=50, progress=events.append, backup_path=tmp_path / "b")
    steps = [(e.step, e.state) for e in events if isinstance(e, StepChanged)]
    assert steps == [
        (step, state)
        for step in ("backup", "connect", "copy", "verify")
        for state in ("running", "done")
    ]
    sessions = [e for e in events if isinstance(e, CopyProgress) and e.collection == "sessions"]
    total = len(source.get_sessions())
    assert [e.done for e in sessions] == [0, *range(50, total, 50), total]
    assert all(e.total == total for e in sessions)
    assert sessions[-1].rate > 0 and sessions[-1].eta_s == 0


def test_cancel_leaves_the_source_alone_and_a_rerun_completes(sqlite, tmp_path):
    source = _rich(sqlite("source"), extra_sessions=300)
    before = canonical_bundle(source.export_all())
    target = sqlite("target")
    cancel = threading.Event()

    def stop_halfway(event: object) -> None:
        if isinstance(event, CopyProgress) and event.collection == "sessions" and event.done:
            cancel.set()

    with pytest.raises(MigrationCancelled) as cancelled:
        migrate(source, target, batch_size=100, progress=stop_halfway, cancel=cancel)
    assert cancelled.value.step == "copy"
    assert 0 < len(target.get_sessions()) < len(source.get_sessions())
    assert canonical_bundle(source.export_all()) == before
    assert migrate(source, target, batch_size=100).verified


def test_an_unreachable_target_fails_at_connect_after_the_backup(sqlite, tmp_path, clock):
    source = _rich(sqlite("source"))
    dead = MongoStore(
        "mongodb://127.0.0.1:1",
        "jtt",
        user_id="tester",
        clock=clock,
        serverSelectionTimeoutMS=300,
        connectTimeoutMS=300,
    )
    events: list[object] = []
    with pytest.raises(MigrationError) as failed:
        migrate(source, dead, backup_path=tmp_path / "b.json", progress=events.append)
    assert failed.value.step == "connect"
    assert failed.value.failure is not None and failed.value.failure.kind == "network"
    assert (tmp_path / "b.json").exists()
    assert (
        StepChanged(
            "backup",
            "done",
            f"{source.export_all().record_count()} records saved to {tmp_path / 'b.json'}",
        )
        in events
    )
    assert any(isinstance(e, StepChanged) and e.state == "failed" for e in events)


class _Lossy(SQLiteStore):
    """A target that silently drops one record (to prove verification looks)."""

    def import_all(self, bundle, mode="merge"):
        bundle = bundle.model_copy(
            update={"sessions": [s for s in bundle.sessions if s.ticket_number != "OPS-3"]}
        )
        return super().import_all(bundle, mode)


def test_verification_names_the_records_that_differ(sqlite, tmp_path, clock):
    source = _rich(sqlite("source"))
    lossy = _Lossy(tmp_path / "lossy.db", user_id="tester", clock=clock)
    lossy.connect()
    try:
        with pytest.raises(MigrationError) as failed:
            migrate(source, lossy)
    finally:
        lossy.disconnect()
    assert failed.value.step == "verify"
    assert "sessions OPS-3" in str(failed.value)


def test_changes_made_while_copying_are_caught_up(sqlite, clock):
    source = _rich(sqlite("source"))
    target = sqlite("target")
    paused = []

    def pause_meanwhile(event: object) -> None:
        if isinstance(event, CopyProgress) and event.collection == "projects" and not paused:
            clock.advance(timedelta(minutes=5))
            paused.append(source.update_session_status("WEB-1", "paused"))

    report = migrate(source, target, progress=pause_meanwhile)
    assert report.verified and report.caught_up == 1
    assert target.get_session("WEB-1").status == SessionStatus.PAUSED


def test_the_electron_sample_migrates_and_verifies(sqlite, mongo):
    source = sqlite("source")
    source.import_all(read_import(FIXTURE, "auto", user_id="tester").bundle)
    report = migrate(source, mongo())
    assert report.verified and report.records == source.export_all().record_count()


def test_10000_records_take_one_write_command_per_batch(sqlite, mongo, wire, tmp_path):
    """The published design upserted records one by one."""
    source = sqlite("source")
    source.import_all(
        source.export_all().model_copy(update={"sessions": make_sessions(10_000, now=NOW)})
    )
    # counting commands, not testing timeouts: a loaded machine (the wire
    # server answers from a thread of this busy process) must not make the
    # driver give up on the server and retry writes
    target = mongo("wire", serverSelectionTimeoutMS=60_000, heartbeatFrequencyMS=60_000)
    target.connect()
    wire.commands.clear()
    report = migrate(source, target, batch_size=500)
    assert report.verified
    writes = wire.count_commands(*WRITE_COMMANDS)
    assert writes <= math.ceil(10_000 / 500) + 20, writes
    assert report.batches == math.ceil(10_000 / 500)


def test_stores_of_different_users_are_refused(sqlite):
    with pytest.raises(ValueError, match="same user id"):
        migrate(sqlite("a"), sqlite("b", user_id="someone-else"))


def test_all_times_survive_to_the_millisecond(sqlite, mongo):
    source = sqlite("source")
    source.save_ticket(Ticket(ticket_number="TT-1"))
    odd = datetime(2025, 3, 1, 8, 0, 0, 123000, tzinfo=UTC)
    source.import_all(
        source.export_all().model_copy(update={"sessions": make_sessions(3, now=odd)})
    )
    remote = mongo()
    assert migrate(source, remote).verified
    assert canonical_bundle(remote.export_all()) == canonical_bundle(source.export_all())


def test_a_throttled_server_gets_smaller_batches_and_the_migration_completes(sqlite, wire, clock):
    """Each write takes 2 ms per record on the server and is applied even
    when the client gave up: a 500-record batch outlasts the 600 ms limit.
    The batch is sent again in halves (idempotent upserts): the migration
    completes and verifies, nothing duplicated."""
    source = sqlite("source")
    source.import_all(
        source.export_all().model_copy(update={"sessions": make_sessions(1500, now=NOW)})
    )
    wire.write_latency_per_doc = 0.002
    target = MongoStore(
        wire.uri, "throttled", user_id="tester", clock=clock, **{**WIRE_OPTIONS, "timeoutMS": 600}
    )
    try:
        report = migrate(source, target, batch_size=500)
        assert report.verified and report.copied == source.export_all().record_count()
        assert target.halvings >= 1 and target.batch_size < 500
        stored = wire.data["throttled"]["sessions"]
        assert stored.count_documents({}) == 1500  # every one once
        keys = [doc["ticketNumber"] for doc in stored.find({}, {"ticketNumber": 1})]
        assert len(set(keys)) == len(keys)
    finally:
        target.disconnect()


def test_when_even_a_small_batch_times_out_the_hint_names_the_operation_limit(sqlite, wire, clock):
    source = sqlite("source")
    source.import_all(
        source.export_all().model_copy(update={"sessions": make_sessions(200, now=NOW)})
    )
    wire.write_latency_per_doc = 0.2  # 8 records: 1.6 s
    target = MongoStore(
        wire.uri, "crawling", user_id="tester", clock=clock, **{**WIRE_OPTIONS, "timeoutMS": 500}
    )
    try:
        with pytest.raises(MigrationError) as caught:
            migrate(source, target, batch_size=100)
    finally:
        wire.write_latency_per_doc = 0.0
        target.disconnect()
    failure = caught.value.failure
    assert failure is not None and failure.kind == "timeout"
    assert "MONGODB_SOCKET_TIMEOUT_MS" in failure.suggestions[0]
    assert "SERVER_SELECTION" not in " ".join(failure.suggestions)


def test_a_server_that_cannot_be_found_keeps_the_server_selection_hint():
    from pymongo.errors import ServerSelectionTimeoutError

    from jtt_tui.storage.errors import StorageError, classify

    try:
        try:
            raise ServerSelectionTimeoutError("db.example.net:27017: timed out")
        except ServerSelectionTimeoutError as exc:
            raise StorageError(f"MongoDB: {exc}") from exc
    except StorageError as wrapped:
        failure = classify(wrapped)
    assert failure.kind == "timeout"
    assert "MONGODB_SERVER_SELECTION_TIMEOUT_MS" in failure.suggestions[0]
