"""Invoices from tracked time: one line per ticket plus billable manual
entries, exact Decimal money, numbering from the store's atomic counter, and
no piece of time billed twice (cancelling an invoice frees its time)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from jtt_tui.domain import money
from jtt_tui.domain.billing import (
    billed_hours,
    check_transition,
    due_date,
    effective_status,
    rounded_seconds,
)
from jtt_tui.domain.calendar import local_date
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import (
    BilledEntry,
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    ManualTask,
    Project,
    Session,
)
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.services.projects import project_rate
from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import ConflictError

ATTEMPTS = 5


@dataclass(frozen=True)
class InvoiceDraft:
    """What an invoice for a scope and period would hold (nothing stored)."""

    lines: list[InvoiceLine]
    billed: list[BilledEntry]
    currency: str
    tax_rate: Decimal
    totals: money.Totals
    client: str | None
    project_id: str | None
    skipped_running: list[str]

    @property
    def empty(self) -> bool:
        return not self.lines


class AlreadyBilled(Exception):
    """A segment or entry was claimed by another invoice meanwhile."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    status: InvoiceStatus  # effective: sent + past due = overdue


class BillingService:
    def __init__(self, store: Storage, *, tz: tzinfo | None = None) -> None:
        self.store = store
        self.tz = tz

    # -- settings ----------------------------------------------------------------------

    def settings(self) -> BillingSettings:
        return self.store.get_billing_settings()

    def update_settings(self, **changes: object) -> BillingSettings:
        return self.store.update_billing_settings(**changes)

    # -- listing -----------------------------------------------------------------------

    def today(self) -> date:
        return local_date(self.store.clock.now(), self.tz)

    def invoices(
        self,
        status: InvoiceStatus | str | None = None,
        client: str | None = None,
        project_id: str | None = None,
    ) -> list[InvoiceView]:
        """Invoices with their effective status; ``overdue`` filters the sent
        ones past their due date."""
        today = self.today()
        wanted = InvoiceStatus(status) if status else None
        stored_filter = InvoiceStatus.SENT if wanted == InvoiceStatus.OVERDUE else wanted
        views = [
            InvoiceView(invoice, effective_status(invoice, today))
            for invoice in self.store.get_invoices(stored_filter, client, project_id)
        ]
        if wanted is not None:
            views = [v for v in views if v.status == wanted]
        return views

    def clients(self) -> list[str]:
        """Client names of the projects, once each (case-insensitively)."""
        names: dict[str, str] = {}
        for project in self.store.get_projects():
            name = project.client.name.strip()
            if name:
                names.setdefault(name.casefold(), name)
        return sorted(names.values(), key=str.casefold)

    # -- building ----------------------------------------------------------------------

    def preview(
        self,
        *,
        first: date,
        last: date,
        project_id: str | None = None,
        client: str | None = None,
    ) -> InvoiceDraft:
        if last < first:
            raise DomainError(f"the period ends ({last}) before it starts ({first})")
        billing = self.store.get_billing_settings()
        projects = self._scope(project_id, client)
        currency = self._currency(projects, billing)
        covered = self._covered()
        lines: list[InvoiceLine] = []
        billed: list[BilledEntry] = []
        skipped_running: list[str] = []
        for project in projects:
            rate = project_rate(project, billing)
            rule = project.rounding or billing.rounding
            per_ticket: dict[str, list[tuple[Session, int, int]]] = defaultdict(list)
            for session in self.store.sessions_for_project(project.project_id, project.key):
                for segment in session.segments:
                    day = local_date(segment.start, self.tz)
                    if not first <= day <= last:
                        continue
                    if segment.end is None:
                        skipped_running.append(session.ticket_number)
                        continue
                    if (session.ticket_number, segment.start) in covered:
                        continue
                    seconds = int((segment.end - segment.start).total_seconds())
                    per_ticket[session.ticket_number].append(
                        (session, seconds, rounded_seconds(seconds, rule))
                    )
                    billed.append(
                        BilledEntry(
                            ticket_number=session.ticket_number, segment_start=segment.start
                        )
                    )
            for ticket, pieces in sorted(per_ticket.items()):
                name = pieces[0][0].ticket_name
                hours = billed_hours(sum(billed for _, _, billed in pieces))
                tracked = billed_hours(sum(raw for _, raw, _ in pieces))
                lines.append(
                    InvoiceLine(
                        description=f"{ticket} — {name}" if name else ticket,
                        ticket_number=ticket,
                        hours=hours,
                        tracked_hours=tracked if tracked != hours else None,
                        rate=rate,
                        amount=money.line_amount(hours, rate, currency),
                    )
                )
        for task in self._billable_tasks(projects, first, last, covered):
            project = ProjectIndex(projects).for_ticket(task.ticket_number, task.project_id)
            assert project is not None
            rate = money.resolve_rate(
                global_rate=billing.global_hourly_rate,
                task_rate=task.hourly_rate,
                project_rate=project.hourly_rate,
                billing_project_rate=billing.project_rates.get(project.key),
            )
            raw = int(task.duration.total_seconds())
            hours = billed_hours(rounded_seconds(raw, project.rounding or billing.rounding))
            tracked = billed_hours(raw)
            label = f"{task.ticket_number} — {task.title}" if task.ticket_number else task.title
            lines.append(
                InvoiceLine(
                    description=label[:500],
                    ticket_number=task.ticket_number,
                    task_id=task.task_id,
                    hours=hours,
                    tracked_hours=tracked if tracked != hours else None,
                    rate=rate,
                    amount=money.line_amount(hours, rate, currency),
                )
            )
            billed.append(BilledEntry(task_id=task.task_id))
        totals = money.invoice_totals([line.amount for line in lines], billing.tax_rate, currency)
        return InvoiceDraft(
            lines,
            billed,
            currency,
            billing.tax_rate,
            totals,
            client or (projects[0].client.name or None if project_id else None),
            project_id,
            sorted(set(skipped_running)),
        )

    def create(
        self,
        *,
        first: date,
        last: date,
        project_id: str | None = None,
        client: str | None = None,
        notes: str = "",
        issue_date: date | None = None,
    ) -> Invoice:
        """A draft invoice for the period; its time is marked as billed."""
        draft = self.preview(first=first, last=last, project_id=project_id, client=client)
        if draft.empty:
            raise DomainError(
                f"nothing to bill from {first} to {last}: no unbilled, finished time in that period"
            )
        billing = self.store.get_billing_settings()
        issued = issue_date or self.today()
        invoice = Invoice(
            invoice_number=self.store.next_invoice_number(),
            client_id=draft.client,
            project_id=draft.project_id,
            issue_date=issued,
            due_date=due_date(issued, billing.payment_terms),
            items=draft.lines,
            subtotal=draft.totals.subtotal,
            tax_rate=draft.tax_rate,
            tax_amount=draft.totals.tax,
            total=draft.totals.total,
            currency=draft.currency,
            notes=notes,
            billed=draft.billed,
        )
        # The invoice (with what it covers) is stored first: even if marking
        # the segments below is interrupted, the time counts as billed.
        self.store.save_invoice(invoice)
        try:
            # each segment / entry is claimed by exactly one invoice: a
            # conditional write per record, so two invoices created at once
            # for the same time cannot both take it
            self._mark(invoice.billed, invoice.invoice_id, claim=True)
        except AlreadyBilled as taken:
            self._mark(invoice.billed, None, only_if=invoice.invoice_id)
            note = f"Cancelled at creation: {taken.what} was invoiced at the same time elsewhere."
            self.store.update_invoice(
                invoice.invoice_id, status=InvoiceStatus.CANCELLED, notes=note
            )
            raise DomainError(
                f"{taken.what} was just invoiced elsewhere (at the same moment); "
                f"{invoice.invoice_number} was cancelled so nothing is billed twice. "
                "Create the invoice again."
            ) from None
        return invoice

    # -- changing ----------------------------------------------------------------------

    def update_lines(
        self, invoice_id: str, lines: Iterable[tuple[str, Decimal, Decimal]]
    ) -> Invoice:
        """Replace a draft's lines (description, hours, rate); totals follow."""
        invoice = self._get(invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise DomainError(
                f"invoice {invoice.invoice_number} is {invoice.status}; only drafts can be edited"
            )
        items = [
            InvoiceLine(
                description=text,
                hours=hours,
                rate=rate,
                amount=money.line_amount(hours, rate, invoice.currency),
            )
            for text, hours, rate in lines
        ]
        totals = money.invoice_totals([i.amount for i in items], invoice.tax_rate, invoice.currency)
        return self.store.update_invoice(
            invoice_id,
            expected_version=invoice.version,
            items=items,
            subtotal=totals.subtotal,
            tax_amount=totals.tax,
            total=totals.total,
        )

    def set_status(
        self, invoice_id: str, status: InvoiceStatus | str, on: date | None = None
    ) -> Invoice:
        invoice = self._get(invoice_id)
        target = InvoiceStatus(status)
        check_transition(invoice, target)
        changes: dict[str, object] = {"status": target}
        if target == InvoiceStatus.PAID:
            changes["paid_date"] = on or self.today()
        updated = self.store.update_invoice(invoice_id, expected_version=invoice.version, **changes)
        if target == InvoiceStatus.CANCELLED:
            self._mark(invoice.billed, None, only_if=invoice_id)
        return updated

    # -- helpers -----------------------------------------------------------------------

    def _get(self, invoice_id: str) -> Invoice:
        invoice = self.store.get_invoice(invoice_id)
        if invoice is None:
            raise DomainError("that invoice no longer exists")
        return invoice

    def _scope(self, project_id: str | None, client: str | None) -> list[Project]:
        projects = self.store.get_projects()
        if project_id:
            chosen = [p for p in projects if p.project_id == project_id]
            if not chosen:
                raise DomainError("that project no longer exists")
            return chosen
        if client and client.strip():
            wanted = client.strip().casefold()
            chosen = [p for p in projects if p.client.name.strip().casefold() == wanted]
            if not chosen:
                raise DomainError(f"no project has the client {client.strip()!r}")
            return chosen
        raise DomainError("choose a project or a client to invoice")

    @staticmethod
    def _currency(projects: list[Project], billing: BillingSettings) -> str:
        currencies = {p.currency or billing.currency for p in projects}
        if len(currencies) > 1:
            raise DomainError(
                "these projects bill in different currencies ("
                + ", ".join(sorted(currencies))
                + "); invoice them one by one"
            )
        return currencies.pop()

    def _covered(self) -> set[tuple[str, datetime] | str]:
        covered: set[tuple[str, datetime] | str] = set()
        for invoice in self.store.get_invoices():
            if invoice.status == InvoiceStatus.CANCELLED:
                continue
            for entry in invoice.billed:
                if entry.task_id:
                    covered.add(entry.task_id)
                elif entry.ticket_number and entry.segment_start:
                    covered.add((entry.ticket_number, entry.segment_start))
        return covered

    def _billable_tasks(
        self,
        projects: list[Project],
        first: date,
        last: date,
        covered: set[tuple[str, datetime] | str],
    ) -> list[ManualTask]:
        index = ProjectIndex(projects)
        return [
            task
            for task in self.store.manual_tasks_between(first, last)
            if task.billable
            and task.task_id not in covered
            and index.for_ticket(task.ticket_number, task.project_id) is not None
        ]

    def _mark(
        self,
        entries: list[BilledEntry],
        invoice_id: str | None,
        only_if: str | None = None,
        *,
        claim: bool = False,
    ) -> None:
        """Record on each segment / manual entry the invoice it went on (or
        clear it), re-reading on concurrent changes. With ``claim``, a record
        already on another (not cancelled) invoice raises AlreadyBilled."""
        by_ticket: dict[str, set[datetime]] = defaultdict(set)
        for entry in entries:
            if entry.task_id:
                self._retry(
                    lambda t=entry.task_id: self._mark_task(t, invoice_id, only_if, claim=claim)
                )
            elif entry.ticket_number and entry.segment_start:
                by_ticket[entry.ticket_number].add(entry.segment_start)
        for ticket, starts in by_ticket.items():
            self._retry(
                lambda t=ticket, s=starts: self._mark_session(
                    t, s, invoice_id, only_if, claim=claim
                )
            )

    def _taken(self, other: str | None, mine: str | None) -> bool:
        """Whether a record marked with ``other`` belongs to another live invoice."""
        if other is None or other == mine:
            return False
        invoice = self.store.get_invoice(other)
        return invoice is not None and invoice.status != InvoiceStatus.CANCELLED

    def _mark_session(
        self,
        ticket: str,
        starts: set[datetime],
        invoice_id: str | None,
        only_if: str | None,
        *,
        claim: bool = False,
    ) -> None:
        session = self.store.get_session(ticket)
        if session is None:
            return  # deleted since: nothing to mark
        if claim:
            for seg in session.segments:
                if seg.start in starts and self._taken(seg.invoice_id, invoice_id):
                    raise AlreadyBilled(f"time on {ticket}")
        segments = [
            seg.model_copy(update={"invoice_id": invoice_id})
            if seg.start in starts and (only_if is None or seg.invoice_id == only_if)
            else seg
            for seg in session.segments
        ]
        if segments != session.segments:
            session.segments = segments
            self.store.save_session(session)

    def _mark_task(
        self, task_id: str, invoice_id: str | None, only_if: str | None, *, claim: bool = False
    ) -> None:
        task = self.store.get_manual_task(task_id)
        if task is None or (only_if is not None and task.invoice_id != only_if):
            return
        if claim and self._taken(task.invoice_id, invoice_id):
            raise AlreadyBilled(f"the manual entry {task.title!r}")
        if task.invoice_id != invoice_id:
            self.store.update_manual_task(
                task_id, expected_version=task.version, invoice_id=invoice_id
            )

    @staticmethod
    def _retry(action: object) -> None:
        assert callable(action)
        for attempt in range(ATTEMPTS):
            try:
                action()
                return
            except ConflictError:
                if attempt == ATTEMPTS - 1:
                    raise
