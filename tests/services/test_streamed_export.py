"""Exports are written a batch of records at a time (#17): the bytes are
those of the whole-bundle export they replace, on every backend; the file
appears whole or not at all."""

from __future__ import annotations

import csv
import io
import stat
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from jtt_tui.domain import (
    BillingSettings,
    DataBundle,
    Invoice,
    ManualTask,
    Project,
    Segment,
    Session,
    SessionStatus,
    TimerMachine,
)
from jtt_tui.domain.models import Ticket
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.services.data import export_data, export_to
from jtt_tui.storage import exporters
from jtt_tui.storage.exporters import CSV_HEADER, cell, sorted_stably
from tests.conftest import START


def _fill(store, clock) -> None:
    """A varied store: every kind, running and paused timers, text that needs
    escaping, non-ASCII, money, optional fields set and unset."""
    machine = TimerMachine(clock)
    store.save_session(machine.start("WEB-1", ticket_name='Say "hi"\n\tthen ✓').session)
    clock.advance(minutes=50)
    store.save_session(machine.pause(store.get_session("WEB-1")))
    clock.advance(minutes=5)
    store.save_session(machine.start("OPS-9", ticket_name="=SUM(A1)", tags=["x", "y"]).session)
    for n in range(1, 40):
        begin = START - timedelta(days=n, hours=n % 5)
        store.save_session(
            Session(
                ticket_number=f"API-{n}",
                ticket_name=f"Ticket {n} — 漢字",
                notes="ünïcödé" * (n % 3),
                status=SessionStatus.COMPLETED if n % 2 else SessionStatus.STOPPED,
                segments=[
                    Segment(start=begin, end=begin + timedelta(minutes=20 + n)),
                    Segment(
                        start=begin + timedelta(hours=1, microseconds=n),
                        end=begin + timedelta(hours=2),
                    ),
                ],
                story_points=Decimal("2.5") if n % 4 == 0 else None,
            )
        )
    store.save_project(
        Project(key="WEB", name="Website", hourly_rate="60", budget="5000.00", tags=["a"])
    )
    store.save_project(Project(key="API", name="API \\ backslash", client={"name": "Acme"}))
    for n in range(12):
        store.save_manual_task(
            ManualTask(
                title=f"Call {n}" if n else "@risky",
                date=date(2025, 3, 10) - timedelta(days=n * 3),
                duration=timedelta(minutes=30 + n),
                hourly_rate="72.5" if n % 2 else None,
                ticket_number="WEB-1" if n % 3 == 0 else None,
                category="meeting",
                billable=bool(n % 2),
            )
        )
    store.save_billing_settings(
        BillingSettings(global_hourly_rate="50", tax_rate="10", project_rates={"WEB": "60"})
    )
    store.save_invoice(
        Invoice(invoice_number="INV-1", issue_date=date(2025, 3, 1), notes="first — ✓")
    )
    store.save_invoice(Invoice(invoice_number="INV-2", issue_date=date(2025, 1, 1)))
    store.save_ticket(Ticket(ticket_number="WEB-77", ticket_name="Known", story_points="3"))


def _whole_bundle_json(bundle: DataBundle) -> bytes:
    """The export as it was written before it was streamed."""
    return (bundle.model_dump_json(indent=2) + "\n").encode()


def test_the_streamed_json_export_is_byte_identical_to_the_whole_bundle(
    store, clock, tmp_path, monkeypatch
):
    _fill(store, clock)
    monkeypatch.setattr(exporters, "_WRITE_EVERY", 7)  # several writes per kind
    size = export_data(store, tmp_path / "all.json", "json")
    written = (tmp_path / "all.json").read_bytes()
    assert size == len(written)
    assert written == _whole_bundle_json(store.export_all())
    assert stat.S_IMODE((tmp_path / "all.json").stat().st_mode) == 0o600


def test_an_empty_store_and_a_range_export_match_the_whole_bundle(store, clock, tmp_path):
    empty = io.BytesIO()
    export_to(store, empty, "json")
    assert empty.getvalue() == _whole_bundle_json(store.export_all())
    _fill(store, clock)
    start, end = START - timedelta(days=10), START - timedelta(days=2)
    ranged = io.BytesIO()
    export_to(store, ranged, "json", start=start, end=end, tz=UTC)
    whole = store.export_all()
    expected = whole.model_copy(
        update={
            "sessions": [s for s in whole.sessions if s.touches(start, end, clock.now())],
            "manual_tasks": [t for t in whole.manual_tasks if start.date() <= t.date < end.date()],
            "invoices": [i for i in whole.invoices if start.date() <= i.issue_date < end.date()],
        }
    )
    assert 0 < len(expected.sessions) < len(whole.sessions)
    assert ranged.getvalue() == _whole_bundle_json(expected)


def _whole_csv(store, now, start=None, end=None, tz=None) -> str:
    """The CSV as it was built before: every row in memory, one sort."""
    bundle = store.export_all()
    index, hours = ProjectIndex(bundle.projects), exporters._HoursText()
    rows = [
        *exporters._segment_rows(
            bundle.sessions, index, hours, now=now, start=start, end=end, tz=tz
        ),
        *exporters._manual_rows(bundle.manual_tasks, index, hours, start=start, end=end, tz=tz),
    ]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for _order, row in sorted(rows, key=lambda r: r[0]):
        writer.writerow(row)
    return buffer.getvalue()


@pytest.mark.parametrize("run", [exporters.SORT_RUN, 5])
def test_the_streamed_csv_is_the_one_sorted_in_memory(store, clock, tmp_path, monkeypatch, run):
    """With tiny runs the rows spill to temporary files and are merged: the
    same bytes, ties in the same order."""
    _fill(store, clock)
    # two segments starting at the same instant: the order of ties must hold
    store.save_session(
        Session(
            ticket_number="TIE-1",
            segments=[Segment(start=START - timedelta(days=3), end=START - timedelta(days=2))],
        )
    )
    monkeypatch.setattr(exporters.sorted_stably, "__defaults__", (run,))
    size = export_data(store, tmp_path / "all.csv", "csv", tz=UTC)
    written = (tmp_path / "all.csv").read_bytes()
    assert size == len(written)
    assert written.decode() == _whole_csv(store, clock.now(), tz=UTC)
    rows = list(csv.reader(io.StringIO(written.decode(), newline="")))
    assert len(rows) > 3 * run or run == exporters.SORT_RUN
    start, end = START - timedelta(days=10), START - timedelta(days=2)
    ranged = io.BytesIO()
    export_to(store, ranged, "csv", start=start, end=end, tz=UTC)
    assert ranged.getvalue().decode() == _whole_csv(store, clock.now(), start, end, UTC)


def test_sorted_stably_spills_and_keeps_equal_keys_in_order():
    pairs = [((n * 7919) % 13, n) for n in range(1000)]
    assert list(sorted_stably(pairs, run=17)) == [v for _, v in sorted(pairs, key=lambda p: p[0])]
    assert list(sorted_stably([], run=3)) == []
    assert list(sorted_stably([(1, "a")], run=1)) == ["a"]


def test_an_export_that_fails_half_way_leaves_no_file_and_the_old_one_whole(
    store, clock, tmp_path, monkeypatch
):
    _fill(store, clock)
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / "out.json"
    path.write_bytes(b"the previous export")
    monkeypatch.setattr(exporters, "_WRITE_EVERY", 7)  # several writes per kind
    real = exporters._Counting.write
    calls = []

    def failing(self, text):
        calls.append(1)
        if len(calls) == 4:  # some records written, more to come
            raise OSError("disk full")
        return real(self, text)

    monkeypatch.setattr(exporters._Counting, "write", failing)
    with pytest.raises(OSError, match="disk full"):
        export_data(store, path, "json")
    assert path.read_bytes() == b"the previous export"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]  # no temp file left


def test_cells_are_still_defused():
    assert cell("=1+1") == "'=1+1"
    assert cell("a\x07b") == "ab"


def test_export_all_and_the_streamed_records_agree(store, clock):
    _fill(store, clock)
    streamed = list(store.export_records())
    bundle = store.export_all()
    assert [r for _, r in streamed] == list(exporters_records(bundle))
    assert isinstance(bundle.exported_at, datetime)


def exporters_records(bundle: DataBundle):
    return (r for _, r in exporters.bundle_records_of(bundle))


def test_csv_times_and_hours_are_formatted_per_row():
    """Per-session and per-duration work is shared between rows (#17), but
    each row still gets its own local offset (across a DST change) and its
    own whole-second hours."""
    from zoneinfo import ZoneInfo

    begin = datetime(2025, 3, 9, 6, 30, tzinfo=UTC)  # 01:30 EST, an hour before the change
    session = Session(
        ticket_number="WEB-5",
        ticket_name="=cmd",
        status=SessionStatus.COMPLETED,
        segments=[
            Segment(start=begin, end=begin + timedelta(seconds=3659, milliseconds=900)),
            Segment(start=begin + timedelta(hours=2), end=begin + timedelta(hours=2, seconds=59)),
        ],
    )
    buffer = io.BytesIO()
    exporters.write_tracked_csv(
        buffer, [session], [], [], now=begin + timedelta(days=1), tz=ZoneInfo("America/New_York")
    )
    text = buffer.getvalue().decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert [r[1:9] for r in rows] == [
        ["WEB-5", "'=cmd", "WEB", "2025-03-09", "2025-03-09T01:30:00-05:00",
         "2025-03-09T03:30:59-04:00", "1.0164", "completed"],
        ["WEB-5", "'=cmd", "WEB", "2025-03-09", "2025-03-09T04:30:00-04:00",
         "2025-03-09T04:30:59-04:00", "0.0164", "completed"],
    ]  # fmt: skip
