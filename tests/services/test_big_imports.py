"""Big imports (#17): still all or nothing, still journaled; a change too
large to keep a copy of is journaled without one (and says so on undo)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from jtt_tui.domain import DataBundle, Segment, Session, SessionStatus
from jtt_tui.services import ledger_checks
from jtt_tui.services.data import import_data
from jtt_tui.services.ledger import Ledger, LedgerRefused, OverlapRefused
from jtt_tui.storage.importers import ImportFileError
from tests.conftest import START


def _sessions(count: int) -> list[Session]:
    return [
        Session(
            ticket_number=f"BIG-{n + 1}",
            status=SessionStatus.STOPPED,
            segments=[
                Segment(
                    start=START - timedelta(minutes=10 * (n + 1)),
                    end=START - timedelta(minutes=10 * (n + 1) - 5),
                )
            ],
        )
        for n in range(count)
    ]


def _write(path, sessions: list[Session]) -> None:
    path.write_text(DataBundle(sessions=sessions).model_dump_json(indent=2))


def test_a_big_import_whose_last_record_overlaps_changes_nothing(store, clock, tmp_path):
    store.save_session(
        Session(
            ticket_number="MINE-1",
            segments=[Segment(start=START + timedelta(hours=1), end=START + timedelta(hours=2))],
        )
    )
    sessions = _sessions(3000)
    late = START + timedelta(hours=1, minutes=30)
    sessions.append(
        Session(ticket_number="LAST-1", segments=[Segment(start=late, end=late + timedelta(1))])
    )
    _write(tmp_path / "big.json", sessions)
    with pytest.raises(OverlapRefused, match="LAST-1 .* would overlap MINE-1"):
        import_data(store, tmp_path / "big.json")
    assert list(store.get_sessions()) == ["MINE-1"]
    assert store.journal_entries() == []


def test_a_big_file_whose_last_record_is_invalid_changes_nothing(store, clock, tmp_path):
    path = tmp_path / "big.json"
    _write(path, _sessions(3000))
    data = json.loads(path.read_text())
    data["sessions"][-1]["segments"][0]["end"] = "2020-01-01T00:00:00Z"  # before its start
    path.write_text(json.dumps(data))
    with pytest.raises(ImportFileError, match="sessions.2999.segments.0"):
        import_data(store, path)
    data["sessions"][-1]["segments"][0]["end"] = None
    data["sessions"][-1]["notes"] = "a\0b"
    path.write_text(json.dumps(data))
    with pytest.raises(ImportFileError, match=r"NUL character in sessions\[2999\]\.notes"):
        import_data(store, path)
    assert store.get_sessions() == {}


def test_an_import_too_large_to_copy_is_journaled_without_copies(
    store, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr(ledger_checks, "MAX_IMAGES_BYTES", 2_000)
    _write(tmp_path / "big.json", _sessions(50))
    ledger = Ledger(store)
    import_data(store, tmp_path / "big.json", ledger=ledger)
    assert len(store.get_sessions()) == 50
    (entry,) = store.journal_entries()
    assert entry.description == "import big.json (50 records)"
    assert not entry.undoable and entry.images == []
    with pytest.raises(LedgerRefused, match="too large to keep a copy of"):
        ledger.undo()


def test_a_small_import_keeps_its_copies_and_is_undone(store, clock, tmp_path):
    _write(tmp_path / "small.json", _sessions(5))
    ledger = Ledger(store)
    import_data(store, tmp_path / "small.json", ledger=ledger)
    (entry,) = store.journal_entries()
    assert entry.undoable and len(entry.images) == 5
    ledger.undo()
    assert store.get_sessions() == {}
