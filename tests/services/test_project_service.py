"""ProjectService: computed hours and spend, ticket and week breakdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from jtt_tui.domain import (
    BillingSettings,
    DomainError,
    ManualTask,
    Project,
    Segment,
    Session,
    SessionStatus,
    TimerMachine,
)
from jtt_tui.services.projects import ProjectService

T = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # a Monday


def _closed(ticket: str, start: datetime, minutes: int, **fields) -> Session:
    return Session(
        ticket_number=ticket,
        status=SessionStatus.STOPPED,
        segments=[Segment(start=start, end=start + timedelta(minutes=minutes))],
        **fields,
    )


def test_summaries_compute_actual_hours_and_spend(store, clock):
    store.save_billing_settings(
        BillingSettings(global_hourly_rate=Decimal(50), project_rates={"API": Decimal(80)})
    )
    web = store.save_project(
        Project(
            key="WEB",
            name="Web",
            hourly_rate=Decimal(60),
            estimated_hours=Decimal(10),
            budget=Decimal(1000),
        )
    )
    store.save_project(Project(key="API", name="Api"))
    store.save_project(Project(key="IDLE", name="Nothing yet"))
    store.save_session(_closed("WEB-1", T, 90))
    store.save_session(_closed("MISC-1", T + timedelta(hours=3), 30, project_id=web.project_id))
    store.save_session(_closed("API-1", T, 45))
    clock.set(T + timedelta(hours=5))
    store.save_session(TimerMachine(clock).start("WEB-2", at=T + timedelta(hours=4)).session)
    store.save_manual_task(
        ManualTask(
            title="Call",
            date=date(2025, 3, 10),
            duration=timedelta(minutes=30),
            ticket_number="WEB-9",
            hourly_rate=Decimal(100),
        )
    )
    store.save_manual_task(
        ManualTask(
            title="Unbilled",
            date=date(2025, 3, 10),
            duration=timedelta(minutes=30),
            project_id=web.project_id,
            billable=False,
        )
    )
    by_key = {s.project.key: s for s in ProjectService(store, tz=UTC).summaries()}
    web_summary = by_key["WEB"]
    # 90 + 30 tracked + 60 running + 30 + 30 manual
    assert web_summary.actual == timedelta(hours=4)
    assert web_summary.actual_hours == Decimal("4.00")
    assert web_summary.spent == Decimal("230.00")  # 3 h x 60 + 0.5 h x 100 (unbilled excluded)
    assert web_summary.hours_ratio == pytest.approx(0.4)
    assert web_summary.budget_ratio == pytest.approx(0.23)
    assert by_key["API"].spent == Decimal("60.00") and by_key["API"].rate == Decimal(80)
    assert by_key["IDLE"].actual == timedelta(0) and by_key["IDLE"].hours_ratio is None


def test_detail_lists_tickets_and_weeks(store, clock):
    web = store.save_project(Project(key="WEB", name="Web"))
    store.save_session(_closed("WEB-1", T, 60, ticket_name="Login"))
    store.save_session(_closed("WEB-2", T + timedelta(days=7), 30))
    store.save_manual_task(
        ManualTask(
            title="Review",
            date=date(2025, 3, 19),
            duration=timedelta(minutes=15),
            project_id=web.project_id,
        )
    )
    detail = ProjectService(store, tz=UTC).detail(web)
    assert [(t.ticket_number, t.total) for t in detail.tickets] == [
        ("WEB-1", timedelta(hours=1)),
        ("WEB-2", timedelta(minutes=30)),
        ("(manual) Review", timedelta(minutes=15)),
    ]
    assert detail.weeks == [
        (date(2025, 3, 10), timedelta(hours=1)),
        (date(2025, 3, 17), timedelta(minutes=45)),
    ]


def test_two_active_projects_cannot_share_a_key(store):
    service = ProjectService(store)
    old = service.save(Project(key="WEB", name="Old site"))
    with pytest.raises(DomainError, match="already uses the key WEB"):
        service.save(Project(key="WEB", name="New site"))
    service.archive(old.project_id)
    service.save(Project(key="WEB", name="New site"))
    assert service.find_by_key("web").name == "New site"
