"""Time reports: the database's per-day sums match the reference, local days
follow the time zone (DST included), and a fixed data set gives exactly
these tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jtt_tui.domain import BillingSettings, ManualTask, Project, Segment, Session, SessionStatus
from jtt_tui.domain.calendar import day_start
from jtt_tui.services.reports import calendar_offsets, time_report
from jtt_tui.storage.base import Storage

BERLIN = ZoneInfo("Europe/Berlin")


def _session(ticket: str, *spans: tuple[datetime, datetime | None], **fields) -> Session:
    running = spans[-1][1] is None
    return Session(
        ticket_number=ticket,
        status=SessionStatus.RUNNING if running else SessionStatus.STOPPED,
        segments=[Segment(start=a, end=b) for a, b in spans],
        **fields,
    )


def _seed(store: Storage) -> None:
    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(100), currency="EUR"))
    store.save_project(Project(key="WEB", name="Web", hourly_rate=Decimal(80)))
    store.save_project(Project(key="OPS", name="Ops", hourly_rate=Decimal(0)))
    store.save_project(Project(key="API", name="Api", currency="USD"))
    d = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # Monday
    next_day = d + timedelta(days=1)
    store.save_session(
        _session("WEB-1", (d, d + timedelta(hours=2)), (next_day, next_day + timedelta(minutes=30)))
    )
    store.save_session(_session("OPS-1", (d + timedelta(hours=3), d + timedelta(hours=4))))
    store.save_session(_session("API-1", (d + timedelta(days=7), d + timedelta(days=7, hours=1))))
    store.save_session(
        _session("WEB-2", (d - timedelta(days=30), d - timedelta(days=30, minutes=-10)))
    )  # outside the range
    store.save_manual_task(
        ManualTask(
            title="Call",
            date=date(2025, 3, 11),
            duration=timedelta(minutes=45),
            ticket_number="WEB-1",
        )
    )
    store.save_manual_task(
        ManualTask(
            title="Internal",
            date=date(2025, 3, 12),
            duration=timedelta(hours=1),
            ticket_number="WEB-3",
            billable=False,
        )
    )


def test_golden_tables(store, clock):
    _seed(store)
    first, last = date(2025, 3, 10), date(2025, 3, 23)
    by_day = time_report(store, first, last, by="day", tz=UTC)
    assert [(r.label, str(r.hours), str(r.billable_hours), r.amounts) for r in by_day.rows] == [
        ("2025-03-10", "3.00", "2.00", {"EUR": Decimal("160.00")}),
        ("2025-03-11", "1.25", "1.25", {"EUR": Decimal("100.00")}),
        ("2025-03-12", "1.00", "0.00", {}),
        ("2025-03-17", "1.00", "1.00", {"USD": Decimal("100.00")}),
    ]
    assert (str(by_day.total.hours), str(by_day.total.billable_hours)) == ("6.25", "4.25")
    assert by_day.total.amounts == {"EUR": Decimal("260.00"), "USD": Decimal("100.00")}
    by_week = time_report(store, first, last, by="week", tz=UTC)
    assert [(r.label, str(r.hours)) for r in by_week.rows] == [
        ("2025-03-10", "5.25"),
        ("2025-03-17", "1.00"),
    ]
    by_project = time_report(store, first, last, by="project", tz=UTC)
    assert [(r.label, str(r.hours), str(r.billable_hours)) for r in by_project.rows] == [
        ("API", "1.00", "1.00"),
        ("OPS", "1.00", "0.00"),
        ("WEB", "4.25", "3.25"),
    ]
    only_web = time_report(store, first, last, by="ticket", project_key="web", tz=UTC)
    assert [(r.label, str(r.hours)) for r in only_web.rows] == [
        ("WEB-1", "3.25"),
        ("WEB-3", "1.00"),
    ]


def test_the_database_sums_match_the_reference(store, clock):
    _seed(store)
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
    offsets = calendar_offsets(start, end, BERLIN)
    assert len(offsets) == 2  # summer time began on 30 March
    assert store.tracked_time(start, end, offsets) == Storage.tracked_time(
        store, start, end, offsets
    )


def test_local_days_follow_the_time_zone_across_dst(store, clock):
    store.save_project(Project(key="WEB", name="Web"))
    # 23:30 in Berlin on 29 March (winter, UTC+1) and on 30 March (summer, UTC+2)
    late_winter = datetime(2025, 3, 29, 22, 30, tzinfo=UTC)
    late_summer = datetime(2025, 3, 30, 21, 30, tzinfo=UTC)
    store.save_session(_session("WEB-1", (late_winter, late_winter + timedelta(minutes=20))))
    store.save_session(_session("WEB-2", (late_summer, late_summer + timedelta(minutes=20))))
    report = time_report(store, date(2025, 3, 29), date(2025, 3, 31), by="day", tz=BERLIN)
    assert [r.label for r in report.rows] == ["2025-03-29", "2025-03-30"]
    in_utc = time_report(store, date(2025, 3, 29), date(2025, 3, 31), by="day", tz=UTC)
    assert [r.label for r in in_utc.rows] == ["2025-03-29", "2025-03-30"]


def test_a_running_timer_counts_up_to_now(store, clock):
    store.save_project(Project(key="WEB", name="Web"))
    started = clock.now() - timedelta(minutes=90)
    store.save_session(_session("WEB-1", (started, None)))
    today = clock.now().date()
    report = time_report(store, today, today, by="ticket", tz=UTC)
    assert str(report.total.hours) == "1.50"


def test_bad_ranges_are_refused(store):
    with pytest.raises(ValueError, match="before the start"):
        time_report(store, date(2025, 3, 2), date(2025, 3, 1))


def test_mongodb_sums_in_one_aggregation(wire, clock):
    from jtt_tui.storage import MongoStore
    from tests.conftest import WIRE_OPTIONS

    store = MongoStore(wire.uri, "jtt_report", user_id="alice", clock=clock, **WIRE_OPTIONS)
    store.connect()
    try:
        _seed(store)
        wire.commands.clear()
        start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
        rows = store.tracked_time(start, end, calendar_offsets(start, end, BERLIN))
        assert len(rows) == 4
        assert wire.commands == ["aggregate"]
    finally:
        store.disconnect()


def test_time_across_local_midnight_is_split_between_the_days(store, clock):
    store.save_project(Project(key="WEB", name="Web"))
    # 22:30 to 01:30 in Berlin (UTC+1): 1.5 h on each day
    late = datetime(2025, 3, 5, 21, 30, tzinfo=UTC)
    store.save_session(_session("WEB-1", (late, late + timedelta(hours=3))))
    report = time_report(store, date(2025, 3, 5), date(2025, 3, 6), by="day", tz=BERLIN)
    assert [(r.label, str(r.hours)) for r in report.rows] == [
        ("2025-03-05", "1.50"),
        ("2025-03-06", "1.50"),
    ]
    # a report of the second day alone sees only its part
    second = time_report(store, date(2025, 3, 6), date(2025, 3, 6), by="day", tz=BERLIN)
    assert str(second.total.hours) == "1.50"


def test_a_timer_left_running_counts_only_inside_the_period(store, clock):
    store.save_project(Project(key="WEB", name="Web"))
    store.save_session(_session("WEB-1", (clock.now() - timedelta(days=9), None)))
    today = clock.now().date()  # 2025-03-10, now 09:00 UTC
    report = time_report(store, today - timedelta(days=1), today, by="day", tz=UTC)
    assert [(r.label, str(r.hours)) for r in report.rows] == [
        ("2025-03-09", "24.00"),
        ("2025-03-10", "9.00"),
    ]
    start, end = (
        day_start(today - timedelta(days=1), UTC),
        day_start(today + timedelta(days=1), UTC),
    )
    offsets = calendar_offsets(start, end, UTC)
    assert store.tracked_time(start, end, offsets) == Storage.tracked_time(
        store, start, end, offsets
    )
