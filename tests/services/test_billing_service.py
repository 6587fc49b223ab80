"""BillingService: invoices from tracked time, never billing time twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from jtt_tui.domain import (
    BillingSettings,
    DomainError,
    Invoice,
    ManualTask,
    Project,
    Segment,
    Session,
    SessionStatus,
    TimerMachine,
)
from jtt_tui.domain.billing import due_date
from jtt_tui.services.billing import BillingService

DAY = date(2025, 3, 10)
T = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def _session(ticket: str, *minutes: tuple[int, int], name: str = "", **fields) -> Session:
    segments = [
        Segment(start=T + timedelta(minutes=a), end=T + timedelta(minutes=b)) for a, b in minutes
    ]
    return Session(
        ticket_number=ticket,
        ticket_name=name,
        status=SessionStatus.STOPPED,
        segments=segments,
        **fields,
    )


@pytest.fixture
def billing(store, clock) -> BillingService:
    store.save_billing_settings(
        BillingSettings(
            global_hourly_rate=Decimal(50),
            project_rates={"API": Decimal("72.50")},
            tax_rate=Decimal(10),
            payment_terms="Net 15",
        )
    )
    web = store.save_project(
        Project(key="WEB", name="Website", hourly_rate=Decimal(60), client={"name": "Acme"})
    )
    store.save_project(Project(key="API", name="API", client={"name": "acme "}))
    store.save_project(Project(key="OPS", name="Ops", client={"name": "Globex"}))
    store.save_session(_session("WEB-1", (0, 90), (120, 150), name="Login"))
    store.save_session(_session("WEB-2", (200, 220)))
    store.save_session(_session("API-7", (300, 340), name="Rate limits"))
    store.save_session(_session("OPS-1", (400, 460)))
    store.save_manual_task(
        ManualTask(
            title="Workshop",
            date=DAY,
            duration=timedelta(hours=2),
            project_id=web.project_id,
            hourly_rate=Decimal(100),
        )
    )
    store.save_manual_task(
        ManualTask(
            title="Coffee",
            date=DAY,
            duration=timedelta(hours=1),
            project_id=web.project_id,
            billable=False,
        )
    )
    clock.advance(days=1)
    return BillingService(store, tz=UTC)


def _web(store) -> str:
    return next(p.project_id for p in store.get_projects() if p.key == "WEB")


def test_preview_has_a_line_per_ticket_and_billable_manual_entries(billing, store):
    draft = billing.preview(project_id=_web(store), first=DAY, last=DAY)
    rows = [(line.description, line.hours, line.rate, line.amount) for line in draft.lines]
    assert rows == [
        # each line names its kind: timed, or entered by hand (its category)
        ("WEB-1 — Login (tracked time)", Decimal("2.00"), Decimal(60), Decimal("120.00")),
        ("WEB-2 (tracked time)", Decimal("0.33"), Decimal(60), Decimal("19.80")),
        ("Workshop (manual entry)", Decimal("2.00"), Decimal(100), Decimal("200.00")),
    ]
    assert draft.totals.subtotal == Decimal("339.80")
    assert draft.totals.tax == Decimal("33.98")
    assert draft.totals.total == Decimal("373.78")
    assert draft.client == "Acme"


def test_client_invoice_spans_its_projects_with_their_rates(billing):
    draft = billing.preview(client="ACME", first=DAY, last=DAY)
    assert [(line.ticket_number, line.rate) for line in draft.lines] == [
        ("API-7", Decimal("72.50")),  # per-project rate from the billing settings
        ("WEB-1", Decimal(60)),  # the project's own rate
        ("WEB-2", Decimal(60)),
        (None, Decimal(100)),  # the manual entry's own rate
    ]


def test_create_numbers_marks_and_never_bills_twice(billing, store):
    invoice = billing.create(project_id=_web(store), first=DAY, last=DAY)
    assert invoice.invoice_number == "INV-1001"
    assert invoice.due_date == date(2025, 3, 26)  # issued the 11th, Net 15
    assert all(seg.invoice_id == invoice.invoice_id for seg in store.get_session("WEB-1").segments)
    assert store.get_manual_task(invoice.billed[-1].task_id).invoice_id == invoice.invoice_id
    assert billing.preview(project_id=_web(store), first=DAY, last=DAY).empty
    with pytest.raises(DomainError, match="nothing to bill"):
        billing.create(project_id=_web(store), first=DAY, last=DAY)
    # cancelling frees the time again
    billing.set_status(invoice.invoice_id, "cancelled")
    assert store.get_session("WEB-1").segments[0].invoice_id is None
    again = billing.create(project_id=_web(store), first=DAY, last=DAY)
    assert again.invoice_number == "INV-1002" and again.total == invoice.total


def test_time_on_a_stored_invoice_stays_billed_even_if_marking_was_interrupted(billing, store):
    draft = billing.preview(project_id=_web(store), first=DAY, last=DAY)
    # as if jtt died right after saving the invoice, before marking segments
    store.save_invoice(
        Invoice(
            invoice_number="INV-9",
            issue_date=DAY,
            items=draft.lines,
            subtotal=draft.totals.subtotal,
            tax_rate=draft.tax_rate,
            tax_amount=draft.totals.tax,
            total=draft.totals.total,
            billed=draft.billed,
        )
    )
    assert billing.preview(project_id=_web(store), first=DAY, last=DAY).empty


def test_running_segments_are_not_billed_but_reported(billing, store, clock):
    store.save_session(TimerMachine(clock).start("WEB-5", at=clock.now()).session)
    draft = billing.preview(project_id=_web(store), first=DAY, last=DAY + timedelta(days=1))
    assert draft.skipped_running == ["WEB-5"]
    assert "WEB-5" not in [line.ticket_number for line in draft.lines]


def test_status_lifecycle(billing, store, clock):
    invoice = billing.create(project_id=_web(store), first=DAY, last=DAY)
    with pytest.raises(DomainError, match="can only become cancelled or sent"):
        billing.set_status(invoice.invoice_id, "paid")
    billing.set_status(invoice.invoice_id, "sent")
    with pytest.raises(DomainError, match="only drafts can be edited"):
        billing.update_lines(invoice.invoice_id, [("x", Decimal(1), Decimal(1))])
    clock.advance(days=30)
    assert [v.status for v in billing.invoices()] == ["overdue"]
    assert [v.invoice.invoice_id for v in billing.invoices(status="overdue")] == [
        invoice.invoice_id
    ]
    assert billing.invoices(status="sent") == []
    with pytest.raises(DomainError, match="not set by hand"):
        billing.set_status(invoice.invoice_id, "overdue")
    paid = billing.set_status(invoice.invoice_id, "paid")
    assert paid.paid_date == billing.today()
    with pytest.raises(DomainError, match="final"):
        billing.set_status(invoice.invoice_id, "cancelled")


def test_editing_a_draft_recomputes_totals(billing, store):
    invoice = billing.create(project_id=_web(store), first=DAY, last=DAY)
    updated = billing.update_lines(
        invoice.invoice_id,
        [
            ("Design work", Decimal("1.5"), Decimal("80")),
            ("Discount rate line", Decimal("0.25"), Decimal("0")),
        ],
    )
    assert updated.subtotal == Decimal("120.00")
    assert updated.tax_amount == Decimal("12.00") and updated.total == Decimal("132.00")


def test_scope_errors(billing):
    with pytest.raises(DomainError, match="choose a project or a client"):
        billing.preview(first=DAY, last=DAY)
    with pytest.raises(DomainError, match="no project has the client"):
        billing.preview(client="Nobody", first=DAY, last=DAY)
    with pytest.raises(DomainError, match="ends"):
        billing.preview(client="Acme", first=DAY, last=DAY - timedelta(days=1))


def test_mixed_currencies_are_refused(billing, store):
    api = next(p for p in store.get_projects() if p.key == "API")
    store.update_project(api.project_id, currency="EUR")
    with pytest.raises(DomainError, match="different currencies"):
        billing.preview(client="Acme", first=DAY, last=DAY)


@pytest.mark.parametrize(
    ("terms", "expected"),
    [
        ("Net 30", date(2025, 4, 9)),
        ("net 15 days", date(2025, 3, 25)),
        ("Due on receipt", date(2025, 3, 10)),
        ("Whenever", None),
    ],
)
def test_due_dates(terms, expected):
    assert due_date(DAY, terms) == expected


def test_clients_are_listed_once_whatever_their_case(billing):
    assert [c.casefold() for c in billing.clients()] == ["acme", "globex"]
