"""MongoStore specifics: the published schema (camelCase, Decimal128, ms
durations), indexes, options passed to the client, and how many round trips
bulk work takes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from bson.decimal128 import Decimal128

from jtt_tui.domain import (
    BillingSettings,
    DataBundle,
    FixedClock,
    ManualTask,
    Project,
    Segment,
    Session,
    TimerMachine,
)
from jtt_tui.storage import MongoStore, StoreUnavailableError
from tests.conftest import START, mongomock_server


@pytest.fixture
def backend() -> str:
    """Only the MongoDB backend here (overrides the parametrised fixture)."""
    return "mongomock"


def _raw(store: MongoStore, collection: str) -> list[dict[str, Any]]:
    return list(store.client[store.database_name][collection].find({}, {"_id": 0}))


def test_session_documents_follow_the_published_schema(store, clock):
    machine = TimerMachine(clock)
    session = machine.start("WEB-1", ticket_name="Login", tags=["ui"]).session
    store.save_session(session)
    clock.advance(minutes=90)
    store.save_session(machine.pause(store.get_session("WEB-1")))
    (doc,) = _raw(store, "sessions")
    assert doc["ticketNumber"] == "WEB-1"
    assert doc["ticketName"] == "Login"
    assert doc["userId"] == "alice"
    assert doc["status"] == "paused"
    assert doc["projectName"] == "WEB"
    assert doc["duration"] == 90 * 60 * 1000  # milliseconds
    assert doc["startTime"] == START.replace(tzinfo=None)
    assert doc["endTime"] == (START + timedelta(minutes=90)).replace(tzinfo=None)
    assert doc["segments"] == [
        {
            "startTime": doc["startTime"],
            "endTime": doc["endTime"],
            "invoiceId": None,
            "worklog": None,
        }
    ]
    assert doc["version"] == 2
    assert {"createdAt", "updatedAt"} <= doc.keys()
    assert not any("_" in key for key in doc)  # camelCase throughout


def test_money_is_decimal128_and_dates_are_iso_strings(store):
    store.save_project(
        Project(
            key="WEB", name="Web", hourly_rate="72.50", budget="1000", start_date=date(2025, 1, 1)
        )
    )
    store.save_billing_settings(BillingSettings(project_rates={"WEB": "60.00"}, tax_rate="7.5"))
    store.save_manual_task(
        ManualTask(title="Call", date=date(2025, 3, 1), duration=timedelta(minutes=45))
    )
    (project,) = _raw(store, "projects")
    assert project["hourlyRate"] == Decimal128("72.50")
    assert project["startDate"] == "2025-01-01"
    (billing,) = _raw(store, "billing_settings")
    assert billing["projectRates"] == {"WEB": Decimal128("60.00")}
    assert billing["taxRate"] == Decimal128("7.5")
    (task,) = _raw(store, "manual_tasks")
    assert task["duration"] == 45 * 60 * 1000
    assert task["date"] == "2025-03-01"


def test_indexes_are_created_on_connect(store):
    names = store.index_names()
    assert {
        "ticketNumber",
        "userId_ticketNumber_unique",
        "userId_startTime",
        "status_userId",
    } <= names["sessions"]
    assert {"projectId_unique", "userId_status", "teamMembers"} <= names["projects"]
    assert {"userId_date", "projectId", "taskId_unique"} <= names["manual_tasks"]
    assert {"userId_unique"} <= names["billing_settings"]
    assert {"invoiceId_unique", "userId_status", "clientId"} <= names["invoices"]


def test_client_options_pass_through_and_the_password_is_redacted():
    seen: dict[str, Any] = {}
    factory = mongomock_server()

    def capture(uri: str, **options: Any):
        seen.update(options, uri=uri)
        return factory(uri, **options)

    store = MongoStore(
        "mongodb://jtt:s3cret-pw@db.example:27017/?authSource=admin",
        "jtt",
        user_id="alice",
        client_factory=capture,
        maxPoolSize=7,
        tls=True,
        retryWrites=True,
        w="majority",
        serverSelectionTimeoutMS=1500,
    )
    store.connect()
    assert seen["maxPoolSize"] == 7 and seen["tls"] is True and seen["w"] == "majority"
    assert seen["serverSelectionTimeoutMS"] == 1500
    assert "s3cret-pw" in seen["uri"]
    assert "s3cret-pw" not in store.location
    assert store.location.startswith("mongodb://jtt:***@db.example")


def test_unreachable_server_gives_a_redacted_error():
    from pymongo.errors import ServerSelectionTimeoutError

    def refuse(uri: str, **options: Any):
        raise ServerSelectionTimeoutError(f"{uri}: [Errno 111] Connection refused")

    store = MongoStore(
        "mongodb://jtt:s3cret-pw@db.example", "jtt", user_id="alice", client_factory=refuse
    )
    with pytest.raises(StoreUnavailableError) as info:
        store.connect()
    assert "s3cret-pw" not in str(info.value)
    assert "Connection refused" in str(info.value)
    assert not store.is_connected()


def test_bad_database_name_is_refused():
    with pytest.raises(ValueError, match="database name"):
        MongoStore("mongodb://localhost", "my.db", user_id="alice")


def test_a_save_is_one_round_trip(store):
    calls = _count_calls(store)
    store.save_session(Session(ticket_number="WEB-1"))
    assert calls == {"sessions.find_one_and_update": 1}


def test_next_invoice_number_is_one_round_trip_once_settings_exist(store):
    store.next_invoice_number()
    calls = _count_calls(store)
    assert store.next_invoice_number() == "INV-1002"
    assert calls == {"billing_settings.find_one_and_update": 1}


def _count_calls(store: MongoStore) -> dict[str, int]:
    """Wrap the store's database so every collection call is counted."""
    counts: dict[str, int] = {}
    db = store._db

    class CountingCollection:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            attr = getattr(self._inner, name)
            if not callable(attr):
                return attr

            def counted(*args: Any, **kwargs: Any) -> Any:
                key = f"{self._inner.name}.{name}"
                counts[key] = counts.get(key, 0) + 1
                return attr(*args, **kwargs)

            return counted

    class CountingDatabase:
        def __getitem__(self, name: str) -> CountingCollection:
            return CountingCollection(db[name])

    store._db = CountingDatabase()
    return counts


class _RecordingDatabase:
    """A database double that stores nothing and records every call: used
    only to count the commands a 10,000-record import sends, which mongomock
    cannot execute in reasonable time (it is O(n) per upsert)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def __getitem__(self, name: str) -> _RecordingCollection:
        return _RecordingCollection(name, self.calls)


class _RecordingCollection:
    def __init__(self, name: str, calls: list[tuple[str, str, int]]) -> None:
        self.name, self.calls = name, calls

    def find(self, query: dict[str, Any], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        self.calls.append((self.name, "find", 1))
        return []

    def bulk_write(self, operations: list[Any], **kwargs: Any) -> None:
        self.calls.append((self.name, "bulk_write", len(operations)))

    def delete_many(self, query: dict[str, Any], **kwargs: Any) -> Any:
        self.calls.append((self.name, "delete_many", 1))
        return type("Result", (), {"deleted_count": 0})()


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_importing_10000_records_takes_few_write_round_trips(store, mode):
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    bundle = DataBundle(
        sessions=[
            Session(
                ticket_number=f"WEB-{i}",
                segments=[
                    Segment(start=t0 + timedelta(hours=i), end=t0 + timedelta(hours=i, minutes=30))
                ],
            )
            for i in range(9_000)
        ],
        manual_tasks=[ManualTask(title=f"t{i}", date=date(2024, 1, 1)) for i in range(999)],
        billing_settings=BillingSettings(),
    )
    assert bundle.record_count() == 10_000
    recording = _RecordingDatabase()
    store._db = recording
    report = store.import_all(bundle, mode=mode)
    writes = [c for c in recording.calls if c[1] in ("bulk_write", "delete_many")]
    assert len(writes) <= 25
    assert sum(n for _, op, n in writes if op == "bulk_write") == 10_000
    assert report.written == 10_000


def test_import_writes_in_batches_on_mongomock(make_store):
    store = make_store(batch_size=7)
    calls = _count_calls(store)
    bundle = DataBundle(sessions=[Session(ticket_number=f"WEB-{i}") for i in range(30)])
    store.import_all(bundle)
    assert calls["sessions.bulk_write"] == 5  # ceil(30 / 7)
    assert len(store.get_sessions()) == 30


def test_transactions_are_used_where_the_deployment_has_them(store):
    class Topology:
        topology_type_name = "Single"

    store._client.topology_description = Topology()  # a standalone mongod
    with store._transaction() as session:
        assert session is None


def test_concurrent_timer_start_on_two_stores_is_refused_not_overwritten(make_store):
    clock = FixedClock(START)
    one = make_store("alice")
    two = make_store("alice")
    machine = TimerMachine(clock)
    one.save_session(machine.start("WEB-1").session)
    from jtt_tui.storage import ConflictError

    with pytest.raises(ConflictError):
        two.save_session(machine.start("WEB-1").session)
    assert len(one.get_sessions()) == 1
