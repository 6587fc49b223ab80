"""Streamed import (#17): a jtt bundle goes into a SQLite store a batch at a
time, in one transaction with the ledger's checks and its journal entry.
It must do exactly what reading the whole file did: the same records,
report and journal, the same refusals, the same words for a broken file."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from jtt_tui.domain import DataBundle, Segment, Session, SessionStatus
from jtt_tui.domain.models import (
    BilledEntry,
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ManualTask,
)
from jtt_tui.services import data as data_service
from jtt_tui.services.data import import_data
from jtt_tui.services.ledger import BilledTimeLocked, Ledger, OverlapRefused
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.importers import ImportFileError, read_import, streaming
from jtt_tui.storage.kinds import SESSIONS
from tests.conftest import START


def _sessions(count: int) -> list[Session]:
    return [
        Session(
            ticket_number=f"BIG-{n + 1}",
            status=SessionStatus.STOPPED,
            tags=["t"],
            segments=[
                Segment(
                    start=START - timedelta(minutes=10 * (n + 1)),
                    end=START - timedelta(minutes=10 * (n + 1) - 5),
                )
            ],
        )
        for n in range(count)
    ]


def _bundle() -> DataBundle:
    task = ManualTask(
        title="Review", duration=timedelta(hours=1), date=START.date(), hourly_rate=Decimal("80.5")
    )
    return DataBundle(
        sessions=_sessions(1_200),
        manual_tasks=[task],
        billing_settings=BillingSettings(user_id="someone-else", tax_rate=Decimal("19")),
    )


def _store(path: Path, clock) -> SQLiteStore:
    store = SQLiteStore(path, user_id="alice", clock=clock)
    store.connect()
    return store


@pytest.fixture
def whole(monkeypatch):
    """Import through the whole-file path only (as before streaming)."""

    def use_whole() -> None:
        monkeypatch.setattr(SQLiteStore, "streams_import", False)

    return use_whole


def _state(store: SQLiteStore) -> tuple:
    bundle = store.export_all()
    (entry,) = store.journal_entries(1)
    return (
        bundle.model_dump(exclude={"exported_at"}),
        entry.description,
        entry.undoable,
        [(i.kind, i.key, i.before, i.after) for i in entry.images],
    )


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_streamed_and_whole_imports_leave_the_same_store(tmp_path, clock, whole, mode):
    path = tmp_path / "in.json"
    path.write_text(_bundle().model_dump_json(indent=2))
    results = []
    for name in ("streamed", "whole"):
        if name == "whole":
            whole()
        store = _store(tmp_path / f"{name}.db", clock)
        store.save_session(Session(ticket_number="OLD-1"))  # (replace deletes it)
        outcome = import_data(store, path, mode=mode)
        results.append((outcome.parsed.format, outcome.report, _state(store)))
    assert results[0] == results[1]


def test_a_streamed_import_reads_a_batch_at_a_time(tmp_path, clock, monkeypatch):
    """Only a batch of records is held: the store gets them while the file is read."""
    path = tmp_path / "in.json"
    path.write_text(DataBundle(sessions=_sessions(1_200)).model_dump_json(indent=2))
    monkeypatch.setattr(streaming, "CHUNK", 4_096)
    store = _store(tmp_path / "s.db", clock)
    sizes = []
    batches = streaming.stream_bundle(path, user_id="alice", detect=True)
    sizes = [len(batch) for _kind, batch in batches]
    assert sizes == [500, 500, 200]
    outcome = import_data(store, path)
    assert outcome.report.written == 1_200
    (entry,) = store.journal_entries(1)
    assert entry.description == "import in.json (1200 records)"
    Ledger(store).undo()
    assert store.get_sessions() == {}


@pytest.mark.parametrize(
    ("mode", "refusal"),
    [
        ("merge", "billed on INV-1 \\(sent\\)"),
        # (the invoice is not in the file: deleting it would free time that stays)
        ("replace", "INV-1 \\(sent\\) bills time that would stay"),
    ],
)
def test_a_big_import_whose_last_record_touches_billed_time_changes_nothing(
    tmp_path, clock, mode, refusal
):
    store = _store(tmp_path / "s.db", clock)
    billed = Session(
        ticket_number="PAID-1",
        segments=[Segment(start=START, end=START + timedelta(hours=1), invoice_id="inv-1")],
    )
    store.save_session(billed)
    store.save_invoice(
        Invoice(
            invoice_id="inv-1",
            invoice_number="INV-1",
            status=InvoiceStatus.SENT,
            issue_date=START.date(),
            items=[
                InvoiceLine(
                    description="work", hours=Decimal(1), rate=Decimal(10), amount=Decimal(10)
                )
            ],
            billed=[BilledEntry(ticket_number="PAID-1", segment_start=START)],
            subtotal=Decimal(10),
            total=Decimal(10),
        )
    )
    moved = billed.model_copy(
        update={
            "segments": [Segment(start=START, end=START + timedelta(hours=2))],
            "updated_at": START + timedelta(days=1),  # newer: a merge takes it
        }
    )
    path = tmp_path / "in.json"
    path.write_text(DataBundle(sessions=[*_sessions(1_200), moved]).model_dump_json())
    before = store.export_all().model_dump(exclude={"exported_at"})
    with pytest.raises(BilledTimeLocked, match=refusal):
        import_data(store, path, mode=mode)
    assert store.export_all().model_dump(exclude={"exported_at"}) == before
    assert store.journal_entries() == []


def test_a_streamed_import_refuses_overlaps_with_the_whole_paths_words(tmp_path, clock, whole):
    sessions = _sessions(1_200)
    late = sessions[3].segments[0].start + timedelta(minutes=1)
    sessions.append(
        Session(ticket_number="LAST-1", segments=[Segment(start=late, end=late + timedelta(1))])
    )
    path = tmp_path / "in.json"
    path.write_text(DataBundle(sessions=sessions).model_dump_json())
    messages = []
    for name in ("streamed", "whole"):
        if name == "whole":
            whole()
        store = _store(tmp_path / f"{name}.db", clock)
        with pytest.raises(OverlapRefused) as refused:
            import_data(store, path)
        messages.append(str(refused.value))
        assert store.get_sessions() == {} and store.journal_entries() == []
    assert messages[0] == messages[1]
    assert "LAST-1" in messages[0]


def _variants(good: str) -> dict[str, bytes]:
    """Broken and odd versions of a good bundle's text."""
    data = json.loads(good)
    last = data["sessions"][-1]
    cases: dict[str, object] = {}
    for name, change in {
        "invalid last": lambda d: d["sessions"][-1].update(status="flying"),
        "hostile key": lambda d: d["sessions"][-1].update({"$set": 1}),
        "dotted key deep": lambda d: d["sessions"][-1]["segments"][0].update({"a.b": 1}),
        "nul in text": lambda d: d["sessions"][-1].update(notes="a\0b"),
        "duplicate key": lambda d: d["sessions"].append(dict(last)),
        "future time": lambda d: d["sessions"][-1]["segments"][0].update(
            end="2999-01-01T00:00:00Z"
        ),
        "not a record": lambda d: d["sessions"].append(7),
        "unknown field": lambda d: d.update(extra=1),
        "wrong version": lambda d: d.update(format_version=2),
    }.items():
        copy = json.loads(good)
        change(copy)
        cases[name] = json.dumps(copy, indent=2)
    text = good
    cases |= {
        "cut off": text[: len(text) * 2 // 3],
        "extra data": text + "{}",
        "trailing comma": text.replace("}\n  ]", "},\n  ]", 1),
        "huge number": text.replace('"version": 0', '"version": 1' + "0" * 30, 1),
        "nan": text.replace('"version": 0', '"version": NaN', 1),
        "nested": text[:-2] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}",
        "not an object": "[1, 2]",
        "empty object": "{}",
        "no bundle mark": json.dumps({"sessions": []}),
    }
    raw = {name: str(value).encode() for name, value in cases.items()}
    raw["bad utf-8"] = good.encode()[:500] + b"\xff\xfe" + good.encode()[500:]
    raw["bom"] = b"\xef\xbb\xbf" + good.encode()
    return raw


def test_broken_files_get_the_same_words_and_change_nothing(tmp_path, clock, monkeypatch):
    """Read in tiny chunks (every value crosses a chunk boundary somewhere),
    a broken file is refused as the whole-file reader refuses it, and an odd
    but valid one imports as it would."""
    monkeypatch.setattr(streaming, "CHUNK", 7)
    good = DataBundle(sessions=_sessions(30)).model_dump_json(indent=2)
    for name, raw in _variants(good).items():
        path = tmp_path / f"{name.replace(' ', '-')}.json"
        path.write_bytes(raw)
        try:
            read_import(path, "auto", user_id="alice")
            expected = None
        except ImportFileError as exc:
            expected = str(exc)
        store = _store(tmp_path / f"{name.replace(' ', '-')}.db", clock)
        if expected is None:
            outcome = import_data(store, path)
            assert outcome.report.written == len(store.get_sessions()), name
            continue
        with pytest.raises(ImportFileError) as refused:
            import_data(store, path)
        assert str(refused.value) == expected, name
        assert store.get_sessions() == {} and store.journal_entries() == [], name


def test_an_unusual_layout_is_imported_whole(tmp_path, clock, monkeypatch):
    """Record lists out of the bundle's order (or a name given twice) are
    not streamed: the whole-file path imports the file as before."""
    used = []
    real = data_service._import_streamed

    def spy(*args, **kwargs):
        outcome = real(*args, **kwargs)
        used.append(outcome is not None)
        return outcome

    monkeypatch.setattr(data_service, "_import_streamed", spy)
    data = json.loads(DataBundle(sessions=_sessions(3)).model_dump_json())
    reordered = {"tickets": data.pop("tickets"), **data}
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(reordered))
    store = _store(tmp_path / "s.db", clock)
    assert import_data(store, path).report.written == 3
    path.write_text(DataBundle(sessions=_sessions(3)).model_dump_json())
    assert import_data(store, path).report.for_kind(SESSIONS).unchanged == 3
    assert used == [False, True]


def test_the_storage_service_streams_a_local_import(tmp_path, clock, monkeypatch):
    """What `jtt import` and the TUI hold is the storage service: over a local
    store it streams (with an offline copy of a remote it imports whole)."""
    from jtt_tui.services.storage_service import StorageService

    streamed = []
    real = SQLiteStore.import_batches

    def spy(self, *args, **kwargs):
        streamed.append(kwargs.get("watch") is not None)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SQLiteStore, "import_batches", spy)
    service = StorageService(_store(tmp_path / "s.db", clock))
    assert service.streams_import
    path = tmp_path / "in.json"
    path.write_text(DataBundle(sessions=_sessions(3)).model_dump_json())
    assert import_data(service, path).report.written == 3
    assert streamed == [True]
    (entry,) = service.journal_entries(1)
    assert entry.description == "import in.json (3 records)"
