"""Log tables, exports, reset with backup, rolling local backups."""

from __future__ import annotations

import csv
import io
import sqlite3
import stat
from datetime import UTC, date, datetime, timedelta

import pytest

from jtt_tui.domain import DataBundle, ManualTask, Project, Segment, Session, SessionStatus
from jtt_tui.services.backup import LocalBackups
from jtt_tui.services.data import export_data, reset_data
from jtt_tui.services.reports import segment_log
from jtt_tui.storage import SQLiteStore
from tests.conftest import START


def _closed(ticket: str, start: datetime, minutes: int, **fields) -> Session:
    return Session(
        ticket_number=ticket,
        status=SessionStatus.STOPPED,
        segments=[Segment(start=start, end=start + timedelta(minutes=minutes))],
        **fields,
    )


def test_segment_log_splits_at_midnight_and_adds_manual_entries(store, clock):
    store.save_project(Project(key="WEB", name="Web"))
    evening = datetime(2025, 3, 9, 23, 30, tzinfo=UTC)
    store.save_session(_closed("WEB-1", evening, 60, ticket_name="Late"))
    store.save_session(_closed("API-2", START, 30))
    store.save_manual_task(
        ManualTask(
            title="Standup",
            date=date(2025, 3, 10),
            duration=timedelta(minutes=15),
            ticket_number="WEB-9",
        )
    )
    days = segment_log(store, date(2025, 3, 9), date(2025, 3, 10), tz=UTC)
    assert [d.day for d in days] == [date(2025, 3, 9), date(2025, 3, 10)]
    assert days[0].total == timedelta(minutes=30)
    assert [(r.ticket, r.duration) for r in days[1].rows] == [
        ("WEB-1", timedelta(minutes=30)),
        ("API-2", timedelta(minutes=30)),
        ("WEB-9", timedelta(minutes=15)),
    ]
    assert days[1].rows[-1].manual
    web_only = segment_log(store, date(2025, 3, 9), date(2025, 3, 10), project_key="web", tz=UTC)
    assert {r.ticket for d in web_only for r in d.rows} == {"WEB-1", "WEB-9"}
    with pytest.raises(ValueError, match="before"):
        segment_log(store, date(2025, 3, 10), date(2025, 3, 9))


def test_segment_log_costs_its_segments_not_the_length_of_the_period(store, monkeypatch):
    """A log over 2,000 years with three segments looks at their days only
    (it looked at every day of the period for every segment)."""
    from jtt_tui.services import reports

    store.save_session(_closed("WEB-1", datetime(2025, 3, 9, 23, 30, tzinfo=UTC), 60))
    store.save_session(_closed("API-2", START, 30))
    calls = []
    real = reports.day_bounds
    monkeypatch.setattr(reports, "day_bounds", lambda *a: calls.append(a) or real(*a))
    days = segment_log(store, date(1000, 1, 1), date(2999, 12, 31), tz=UTC)
    assert [d.day for d in days] == [date(2025, 3, 9), date(2025, 3, 10)]
    assert len(calls) == 3  # WEB-1's two days, API-2's one


def test_running_segment_shows_as_open(store, clock):
    from jtt_tui.domain import TimerMachine

    store.save_session(TimerMachine(clock).start("WEB-1").session)
    clock.advance(minutes=20)
    (day,) = segment_log(store, date(2025, 3, 10), date(2025, 3, 10), tz=UTC)
    assert day.rows[0].end is None and day.rows[0].duration == timedelta(minutes=20)


def test_csv_export_quotes_properly_and_filters_by_range(store, clock, tmp_path):
    store.save_session(_closed("WEB-1", START, 90, ticket_name='Say "hi", then\nleave'))
    store.save_session(_closed("OLD-1", START - timedelta(days=30), 10))
    for day, title in ((date(2025, 3, 10), "=call(1)"), (date(2025, 2, 1), "old call")):
        store.save_manual_task(
            ManualTask(
                title=title,
                date=day,
                duration=timedelta(minutes=90),
                ticket_number="WEB-1",
                category="meeting",
            )
        )
    path = tmp_path / "out.csv"
    export_data(
        store, path, "csv", start=START - timedelta(hours=1), end=START + timedelta(days=1), tz=UTC
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    assert rows[0] == [
        "kind",
        "ticket",
        "name",
        "project",
        "date",
        "start",
        "end",
        "duration_hours",
        "status",
        "category",
        "billable",
    ]
    # every tracked item: the segment and the manual entry (#14: 1h30m was missing)
    assert rows[1:] == [
        [
            "segment",
            "WEB-1",
            'Say "hi", then\nleave',
            "WEB",
            "2025-03-10",
            "2025-03-10T09:00:00+00:00",
            "2025-03-10T10:30:00+00:00",
            "1.5000",
            "stopped",
            "",
            "",
        ],
        [
            "manual",
            "WEB-1",
            "'=call(1)",
            "WEB",
            "2025-03-10",
            "",
            "",
            "1.5000",
            "",
            "meeting",
            "yes",
        ],
    ]


def test_json_export_is_a_bundle_that_reimports_identically(make_store, clock, tmp_path):
    source = make_store("alice")
    source.save_session(_closed("WEB-1", START, 30, notes="ünïcode ✓"))
    source.save_project(Project(key="WEB", name="Web", hourly_rate="72.50"))
    size = export_data(source, tmp_path / "a.json", "json")
    first = (tmp_path / "a.json").read_bytes()
    assert size == len(first)
    target = make_store("alice", where="other")
    target.import_all(DataBundle.model_validate_json(first))
    export_data(target, tmp_path / "b.json", "json")
    assert first == (tmp_path / "b.json").read_bytes()


def test_reset_writes_a_backup_first_and_deletes_only_what_was_asked(store, clock, tmp_path):
    store.save_session(_closed("WEB-1", START, 30))
    store.save_project(Project(key="WEB", name="Web"))
    backup, report = reset_data(store, {"sessions"}, tmp_path / "backups")
    assert store.get_sessions() == {}
    assert len(store.get_projects()) == 1
    assert report.kinds["sessions"].deleted == 1
    saved = DataBundle.model_validate_json(backup.read_bytes())
    assert [s.ticket_number for s in saved.sessions] == ["WEB-1"]
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with pytest.raises(ValueError, match="unknown"):
        reset_data(store, {"everything"}, tmp_path / "backups")


def test_rolling_backups_are_consistent_and_pruned(tmp_path, clock):
    store = SQLiteStore(tmp_path / "jtt.db", user_id="alice", clock=clock)
    store.connect()
    store.save_session(_closed("WEB-1", START, 30))
    backups = LocalBackups(tmp_path / "backups", keep=3)
    now = datetime(2025, 3, 10, 12, 0).astimezone()
    assert backups.due(24, now)
    paths = [backups.run(store, now + timedelta(hours=i)) for i in range(5)]
    kept = backups.list()
    assert kept == paths[-3:]
    for path in kept:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        copy = sqlite3.connect(path)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
        copy.close()
    assert backups.run_if_due(store, 24, datetime.now().astimezone()) is None
    assert backups.due(1, datetime.now().astimezone() + timedelta(hours=2))


# -- the ledger's rules hold for whole files too (#14) ----------------------------------


def _bundle_file(tmp_path, *sessions: Session) -> object:
    path = tmp_path / "in.json"
    path.write_text(DataBundle(sessions=list(sessions)).model_dump_json())
    return path


def test_an_import_that_would_overlap_is_refused_whole(store, clock, tmp_path):
    from jtt_tui.services.data import import_data
    from jtt_tui.services.ledger import OverlapRefused

    store.save_session(_closed("WEB-1", START, 60))
    path = _bundle_file(
        tmp_path,
        _closed("API-1", START - timedelta(hours=2), 30),  # fine on its own
        _closed("API-2", START + timedelta(minutes=30), 60),  # over WEB-1's time
    )
    with pytest.raises(OverlapRefused, match="API-2 .* would overlap WEB-1"):
        import_data(store, path, dry_run=True)
    with pytest.raises(OverlapRefused):
        import_data(store, path)
    assert sorted(store.get_sessions()) == ["WEB-1"]  # all or nothing


def test_an_import_is_undone_in_one_step(store, clock, tmp_path):
    from jtt_tui.services.data import import_data
    from jtt_tui.services.ledger import Ledger

    store.save_session(_closed("WEB-1", START, 60, ticket_name="mine"))
    path = _bundle_file(
        tmp_path,
        _closed("API-1", START - timedelta(hours=2), 30),
        _closed("WEB-1", START, 60, ticket_name="theirs").model_copy(
            update={"updated_at": START + timedelta(days=1)}
        ),
    )
    ledger = Ledger(store)
    import_data(store, path, mode="replace", ledger=ledger)
    assert store.get_session("WEB-1").ticket_name == "theirs"
    undone = ledger.undo()
    assert undone.description == "undo: import in.json (2 records)"
    assert sorted(store.get_sessions()) == ["WEB-1"]
    assert store.get_session("WEB-1").ticket_name == "mine"


def test_reset_keeps_time_billed_on_a_sent_invoice(store, clock, tmp_path):
    from decimal import Decimal

    from jtt_tui.domain import BillingSettings
    from jtt_tui.services.billing import BillingService
    from jtt_tui.services.ledger import BilledTimeLocked

    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(50)))
    store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
    store.save_session(_closed("WEB-1", START - timedelta(hours=3), 60))
    clock.advance(hours=1)
    billing = BillingService(store, tz=UTC)
    invoice = billing.create(first=date(2025, 3, 10), last=date(2025, 3, 10), client="Acme")
    billing.set_status(invoice.invoice_id, "sent")
    with pytest.raises(BilledTimeLocked, match=f"billed on {invoice.invoice_number}"):
        reset_data(store, {"sessions"}, tmp_path / "backups")
    assert list(store.get_sessions()) == ["WEB-1"]
    assert not (tmp_path / "backups").exists()  # refused before anything was written
    # with the invoice itself: nothing holds the time any more
    reset_data(store, {"sessions", "invoices"}, tmp_path / "backups")
    assert store.get_sessions() == {} and store.get_invoices() == []
