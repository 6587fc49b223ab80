"""Rounding rules: per entry, up or to the nearest 1/6/15/30 minutes, with a
minimum; per project over a global default; totals always add up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jtt_tui.domain import BillingSettings, Project, Segment, Session, SessionStatus
from jtt_tui.domain.billing import rounded_seconds
from jtt_tui.domain.models import Rounding
from jtt_tui.services.billing import BillingService
from jtt_tui.storage import SQLiteStore

T = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
DAY = date(2025, 3, 10)


@pytest.mark.parametrize(
    ("seconds", "rule", "billed"),
    [
        (0, Rounding(mode="up", minutes=15), 0),
        (1, Rounding(mode="up", minutes=15), 900),
        (900, Rounding(mode="up", minutes=15), 900),
        (901, Rounding(mode="up", minutes=15), 1800),
        (449, Rounding(mode="nearest", minutes=15), 0),
        (450, Rounding(mode="nearest", minutes=15), 900),
        (7 * 60, Rounding(mode="nearest", minutes=6), 6 * 60),
        (9 * 60, Rounding(mode="nearest", minutes=6), 12 * 60),
        (61, Rounding(mode="up", minutes=1), 120),
        (31 * 60, Rounding(mode="up", minutes=30), 60 * 60),
        (125, Rounding(mode="none"), 125),
        (125, Rounding(mode="none", minimum_minutes=15), 900),
        (20 * 60, Rounding(mode="up", minutes=6, minimum_minutes=15), 24 * 60),
    ],
)
def test_rounded_seconds(seconds, rule, billed):
    assert rounded_seconds(seconds, rule) == billed


def _session(ticket: str, *minutes: tuple[int, int]) -> Session:
    return Session(
        ticket_number=ticket,
        status=SessionStatus.STOPPED,
        segments=[
            Segment(start=T + timedelta(minutes=a), end=T + timedelta(minutes=b))
            for a, b in minutes
        ],
    )


def test_project_rounding_overrides_the_global_default_and_raw_time_is_kept(store):
    store.save_billing_settings(
        BillingSettings(global_hourly_rate=Decimal(100), rounding=Rounding(mode="up", minutes=15))
    )
    store.save_project(Project(key="WEB", name="Web"))
    store.save_project(Project(key="API", name="Api", rounding=Rounding(mode="nearest", minutes=6)))
    store.save_session(_session("WEB-1", (0, 7), (10, 12)))  # 7 + 2 min -> 15 + 15
    store.save_session(_session("API-1", (0, 7)))  # 7 min -> 6
    billing = BillingService(store, tz=UTC)
    web = billing.preview(first=DAY, last=DAY, project_id=store.get_projects()[1].project_id)
    assert [(line.hours, line.tracked_hours) for line in web.lines] == [
        (Decimal("0.50"), Decimal("0.15"))
    ]
    api = billing.preview(first=DAY, last=DAY, project_id=store.get_projects()[0].project_id)
    assert [(line.hours, line.tracked_hours) for line in api.lines] == [
        (Decimal("0.10"), Decimal("0.12"))
    ]
    assert api.totals.total == Decimal("10.00")
    # the tracked segments themselves are untouched
    assert store.get_session("WEB-1").segments[0].end == T + timedelta(minutes=7)


def test_exact_time_by_default(store):
    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(60)))
    store.save_project(Project(key="WEB", name="Web"))
    store.save_session(_session("WEB-1", (0, 7)))
    project = store.get_projects()[0]
    line = (
        BillingService(store, tz=UTC)
        .preview(first=DAY, last=DAY, project_id=project.project_id)
        .lines[0]
    )
    assert line.hours == Decimal("0.12") and line.tracked_hours is None


entries = st.lists(
    st.tuples(st.sampled_from(["WEB-1", "WEB-2", "API-3"]), st.integers(1, 100)),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries,
    st.tuples(
        st.decimals(min_value=0, max_value=500, places=2),
        st.decimals(min_value=0, max_value=30, places=2),
        st.sampled_from(["USD", "EUR", "JPY", "GBP"]),
        st.sampled_from(
            [Rounding(), Rounding(mode="up", minutes=6), Rounding(mode="nearest", minutes=15)]
        ),
    ),
)
def test_totals_are_the_sum_of_the_lines_plus_tax(tmp_path_factory, pieces, terms):
    rate, tax, currency, rule = terms
    path = tmp_path_factory.mktemp("prop") / "jtt.db"
    store = SQLiteStore(path, user_id="p")
    store.connect()
    try:
        store.save_billing_settings(
            BillingSettings(global_hourly_rate=rate, tax_rate=tax, currency=currency, rounding=rule)
        )
        store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
        store.save_project(Project(key="API", name="Api", client={"name": "Acme"}))
        offset = 0
        sessions: dict[str, list[tuple[int, int]]] = {}
        for ticket, minutes in pieces:
            sessions.setdefault(ticket, []).append((offset, offset + minutes))
            offset += minutes + 1
        for ticket, spans in sessions.items():
            store.save_session(_session(ticket, *spans))
        draft = BillingService(store, tz=UTC).preview(
            first=DAY, last=DAY + timedelta(days=2), client="Acme"
        )
        amounts = [line.amount for line in draft.lines]
        assert draft.totals.subtotal == sum(amounts, Decimal(0))
        assert draft.totals.total == draft.totals.subtotal + draft.totals.tax
        for line in draft.lines:
            assert line.amount == line.amount.quantize(
                Decimal(1) if currency == "JPY" else Decimal("0.01")
            )
    finally:
        store.disconnect()


def test_two_invoices_racing_for_the_same_time_never_both_bill_it(store):
    """B previews, A creates and claims the time, then B saves: B's claim
    fails, B is cancelled (its number kept: no gap) and nothing is billed twice."""
    from jtt_tui.domain import DomainError, InvoiceStatus

    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(60)))
    web = store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
    store.save_session(_session("WEB-1", (0, 30), (40, 70)))
    a, b = BillingService(store, tz=UTC), BillingService(store, tz=UTC)
    stale = b.preview(first=DAY, last=DAY, project_id=web.project_id)
    first = a.create(first=DAY, last=DAY, project_id=web.project_id)
    b.preview = lambda **_: stale  # type: ignore[method-assign]  # B still believes it is free
    with pytest.raises(DomainError, match="invoiced elsewhere"):
        b.create(first=DAY, last=DAY, project_id=web.project_id)
    invoices = {i.invoice_number: i for i in store.get_invoices()}
    assert invoices["INV-1001"].status == InvoiceStatus.DRAFT
    assert invoices["INV-1002"].status == InvoiceStatus.CANCELLED
    assert "at the same time" in invoices["INV-1002"].notes
    marks = {seg.invoice_id for seg in store.get_session("WEB-1").segments}
    assert marks == {first.invoice_id}  # still A's, not cleared by B's retreat
