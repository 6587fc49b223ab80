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
    Segment,
    Session,
)
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.services.ledger import Change, Committed, Ledger, Plan
from jtt_tui.services.projects import project_rate
from jtt_tui.storage.base import Storage
from jtt_tui.storage.kinds import BILLING, INVOICES, MANUAL_TASKS, SESSIONS


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


class AlreadyBilled(DomainError):
    """Time an invoice was to claim is on another live invoice already."""


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    status: InvoiceStatus  # effective: sent + past due = overdue


class BillingService:
    def __init__(
        self, store: Storage, *, tz: tzinfo | None = None, ledger: Ledger | None = None
    ) -> None:
        self.store = store
        self.tz = tz
        self.ledger = ledger or Ledger(store, tz=tz)

    # -- settings ----------------------------------------------------------------------

    def settings(self) -> BillingSettings:
        return self.store.get_billing_settings()

    def update_settings(self, **changes: object) -> BillingSettings:
        """Change some billing settings (validated as a whole first)."""

        def plan() -> Plan:
            stored = self.store.load(BILLING, self.store.user_id)
            current = stored or BillingSettings(user_id=self.store.user_id)
            updated = BillingSettings.model_validate({**current.model_dump(), **changes})
            what = ", ".join(sorted(name.replace("_", " ") for name in changes))
            return Plan(
                "billing-settings",
                f"billing settings: {what}",
                [Change(BILLING, self.store.user_id, stored, updated)],
            )

        done = self.ledger.apply(plan)
        saved = done.get(BILLING, self.store.user_id)
        assert isinstance(saved, BillingSettings)
        return saved

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
        """What an invoice for the period would bill: finished time not on a
        live invoice yet, a line per ticket and per billable manual entry."""
        if last < first:
            raise DomainError(f"the period ends ({last}) before it starts ({first})")
        billing = self.store.get_billing_settings()
        projects = self._scope(project_id, client)
        currency = self._currency(projects, billing)
        live = self._live_invoices()
        covered = _covered(live.values())
        per_ticket: dict[str, list[tuple[Session, Segment]]] = defaultdict(list)
        skipped_running: list[str] = []
        for project in projects:
            for session in self.store.sessions_for_project(project.project_id, project.key):
                for segment in session.segments:
                    if not first <= local_date(segment.start, self.tz) <= last:
                        continue
                    if segment.end is None:
                        skipped_running.append(session.ticket_number)
                    elif segment.invoice_id not in live and (
                        (session.ticket_number, segment.start) not in covered
                    ):
                        per_ticket[session.ticket_number].append((session, segment))
        tasks = self._billable_tasks(projects, first, last, covered, live)
        lines, billed = self._lines(projects, billing, currency, per_ticket, tasks)
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

    def _lines(
        self,
        projects: list[Project],
        billing: BillingSettings,
        currency: str,
        per_ticket: dict[str, list[tuple[Session, Segment]]],
        tasks: list[ManualTask],
    ) -> tuple[list[InvoiceLine], list[BilledEntry]]:
        """Invoice lines (each naming its kind) and the time they cover."""
        index = ProjectIndex(projects)
        lines: list[InvoiceLine] = []
        billed: list[BilledEntry] = []
        for ticket, pieces in sorted(per_ticket.items()):
            session = pieces[0][0]
            project = index.for_ticket(ticket, session.project_id)
            if project is None:
                continue
            rule = project.rounding or billing.rounding
            rate = project_rate(project, billing)
            raw = [int((seg.end - seg.start).total_seconds()) for _, seg in pieces if seg.end]
            hours = billed_hours(sum(rounded_seconds(r, rule) for r in raw))
            tracked = billed_hours(sum(raw))
            name = f"{ticket} — {session.ticket_name}" if session.ticket_name else ticket
            lines.append(
                InvoiceLine(
                    description=f"{name} (tracked time)",
                    ticket_number=ticket,
                    hours=hours,
                    tracked_hours=tracked if tracked != hours else None,
                    rate=rate,
                    amount=money.line_amount(hours, rate, currency),
                )
            )
            billed += [
                BilledEntry(ticket_number=ticket, segment_start=seg.start, seconds=seconds)
                for (_, seg), seconds in zip(pieces, raw, strict=True)
            ]
        for task in tasks:
            project = index.for_ticket(task.ticket_number, task.project_id)
            if project is None:
                continue
            rate = money.resolve_rate(
                global_rate=billing.global_hourly_rate,
                task_rate=task.hourly_rate,
                project_rate=project.hourly_rate,
                billing_project_rate=billing.project_rates.get(project.key),
            )
            raw_seconds = int(task.duration.total_seconds())
            rule = project.rounding or billing.rounding
            hours = billed_hours(rounded_seconds(raw_seconds, rule))
            tracked = billed_hours(raw_seconds)
            label = f"{task.ticket_number} — {task.title}" if task.ticket_number else task.title
            kind = task.category.strip() or "manual entry"
            lines.append(
                InvoiceLine(
                    description=f"{label[:450]} ({kind[:40]})",
                    ticket_number=task.ticket_number,
                    task_id=task.task_id,
                    hours=hours,
                    tracked_hours=tracked if tracked != hours else None,
                    rate=rate,
                    amount=money.line_amount(hours, rate, currency),
                )
            )
            billed.append(BilledEntry(task_id=task.task_id, seconds=raw_seconds))
        return lines, billed

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
        """A draft invoice for the period; its time is claimed by it in the
        same change, so two invoices made at once never bill the same time."""
        if self.preview(first=first, last=last, project_id=project_id, client=client).empty:
            raise DomainError(
                f"nothing to bill from {first} to {last}: no unbilled, finished time in that period"
            )
        billing = self.store.get_billing_settings()
        issued = issue_date or self.today()
        number = self.store.next_invoice_number()  # once: a retry keeps it

        def plan() -> Plan:
            draft = self.preview(first=first, last=last, project_id=project_id, client=client)
            invoice = Invoice(
                invoice_number=number,
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
            try:
                claims = self._claims(invoice.billed, invoice.invoice_id)
            except AlreadyBilled:
                claims = None
            if draft.empty or claims is None:
                # billed meanwhile by another invoice made at the same moment:
                # the number is kept (no gap), on a cancelled invoice that says why
                claims = []
                invoice = invoice.model_copy(
                    update={
                        "status": InvoiceStatus.CANCELLED,
                        "notes": "Cancelled at creation: its time was invoiced at the same "
                        "time elsewhere.",
                    }
                )
            changes = [Change(INVOICES, invoice.invoice_id, None, invoice), *claims]
            total = f"{money.quantize_money(invoice.total, invoice.currency)} {invoice.currency}"
            return Plan(
                "invoice-create",
                f"create invoice {number} ({len(invoice.items)} lines, {total})",
                changes,
            )

        done = self.ledger.apply(plan)
        invoice = next(r for r in done.stored.values() if isinstance(r, Invoice))
        if invoice.status == InvoiceStatus.CANCELLED:
            raise DomainError(
                f"that time was just invoiced elsewhere (at the same moment); {number} was "
                "cancelled so nothing is billed twice. Create the invoice again."
            )
        return invoice

    # -- changing ----------------------------------------------------------------------

    def update_lines(
        self, invoice_id: str, lines: Iterable[tuple[str, Decimal, Decimal]]
    ) -> Invoice:
        """Replace a draft's lines (description, hours, rate); totals follow."""
        items_in = list(lines)

        def plan() -> Plan:
            invoice = self._get(invoice_id)
            if invoice.status != InvoiceStatus.DRAFT:
                raise DomainError(
                    f"invoice {invoice.invoice_number} is {invoice.status}; only drafts can be "
                    "edited"
                )
            items = [
                InvoiceLine(
                    description=text,
                    hours=hours,
                    rate=rate,
                    amount=money.line_amount(hours, rate, invoice.currency),
                )
                for text, hours, rate in items_in
            ]
            totals = money.invoice_totals(
                [i.amount for i in items], invoice.tax_rate, invoice.currency
            )
            updated = invoice.model_copy(
                update={
                    "items": items,
                    "subtotal": totals.subtotal,
                    "tax_amount": totals.tax,
                    "total": totals.total,
                }
            )
            return Plan(
                "invoice-edit",
                f"edit the lines of {invoice.invoice_number}",
                [Change(INVOICES, invoice_id, invoice, updated)],
            )

        return self._invoice_of(self.ledger.apply(plan), invoice_id)

    def set_status(
        self, invoice_id: str, status: InvoiceStatus | str, on: date | None = None
    ) -> Invoice:
        """Move an invoice along its lifecycle; cancelling frees its time."""
        target = InvoiceStatus(status)

        def plan() -> Plan:
            invoice = self._get(invoice_id)
            check_transition(invoice, target)
            changes: dict[str, object] = {"status": target}
            if target == InvoiceStatus.PAID:
                changes["paid_date"] = on or self.today()
            updated = Invoice.model_validate({**invoice.model_dump(), **changes})
            planned = [Change(INVOICES, invoice_id, invoice, updated)]
            text = f"mark {invoice.invoice_number} {target}"
            if target == InvoiceStatus.CANCELLED:
                planned += self._claims(invoice.billed, None, only_if=invoice_id)
                text += " (its time can be billed again)"
            return Plan("invoice-status", text, planned)

        return self._invoice_of(self.ledger.apply(plan), invoice_id)

    def out_of_date(self, invoice: Invoice) -> list[str]:
        """Why a draft's lines no longer match the time it bills (empty: they
        do): time edited, deleted or added since it was made."""
        if invoice.status != InvoiceStatus.DRAFT:
            return []
        recorded = {_entry_key(e): e.seconds for e in invoice.billed}
        current = {_entry_key(e): e.seconds for e in self._claimed_by(invoice)}
        reasons = []
        for key, seconds in recorded.items():
            if key not in current:
                reasons.append(f"{_entry_text(key, self.tz)} was edited or deleted")
            elif seconds is not None and current[key] != seconds:
                reasons.append(f"{_entry_text(key, self.tz)} changed length")
        for key in current:
            if key not in recorded:
                reasons.append(f"{_entry_text(key, self.tz)} is not on its lines yet")
        return reasons

    def refresh(self, invoice_id: str) -> Invoice:
        """Rebuild a draft's lines from the time it bills now."""

        def plan() -> Plan:
            invoice = self._get(invoice_id)
            if invoice.status != InvoiceStatus.DRAFT:
                raise DomainError(
                    f"invoice {invoice.invoice_number} is {invoice.status}: only a draft's lines "
                    "follow its time"
                )
            billing = self.store.get_billing_settings()
            projects = self.store.get_projects()
            per_ticket: dict[str, list[tuple[Session, Segment]]] = defaultdict(list)
            for ticket in sorted({e.ticket_number for e in invoice.billed if e.ticket_number}):
                session = self.store.get_session(ticket)
                for segment in session.segments if session is not None else []:
                    if segment.invoice_id == invoice_id and segment.end is not None:
                        per_ticket[ticket].append((session, segment))  # type: ignore[arg-type]
            tasks = [
                task
                for task in (
                    self.store.get_manual_task(e.task_id) for e in invoice.billed if e.task_id
                )
                if task is not None and task.invoice_id == invoice_id
            ]
            lines, billed = self._lines(projects, billing, invoice.currency, per_ticket, tasks)
            totals = money.invoice_totals(
                [line.amount for line in lines], invoice.tax_rate, invoice.currency
            )
            updated = invoice.model_copy(
                update={
                    "items": lines,
                    "billed": billed,
                    "subtotal": totals.subtotal,
                    "tax_amount": totals.tax,
                    "total": totals.total,
                }
            )
            return Plan(
                "invoice-refresh",
                f"refresh {invoice.invoice_number} from its time ({len(lines)} lines)",
                [Change(INVOICES, invoice_id, invoice, updated)],
            )

        return self._invoice_of(self.ledger.apply(plan), invoice_id)

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

    def _live_invoices(self) -> dict[str, Invoice]:
        """Invoices that hold their time (every one but the cancelled)."""
        return {
            i.invoice_id: i
            for i in self.store.get_invoices()
            if i.status != InvoiceStatus.CANCELLED
        }

    def _billable_tasks(
        self,
        projects: list[Project],
        first: date,
        last: date,
        covered: set[tuple[str, datetime] | str],
        live: dict[str, Invoice],
    ) -> list[ManualTask]:
        index = ProjectIndex(projects)
        return [
            task
            for task in self.store.manual_tasks_between(first, last)
            if task.billable
            and task.task_id not in covered
            and task.invoice_id not in live
            and index.for_ticket(task.ticket_number, task.project_id) is not None
        ]

    def _claims(
        self, entries: list[BilledEntry], invoice_id: str | None, only_if: str | None = None
    ) -> list[Change]:
        """Changes that mark each segment / manual entry with the invoice it
        is on (or clear the mark of ``only_if``): part of the same change as
        the invoice, so a claim is all or nothing. Time already on another
        live invoice raises AlreadyBilled."""
        changes: list[Change] = []
        live = self._live_invoices() if invoice_id is not None else {}

        def taken(mark: str | None) -> bool:
            return mark is not None and mark != invoice_id and mark in live

        starts: dict[str, set[datetime]] = defaultdict(set)
        for entry in entries:
            if entry.ticket_number and entry.segment_start:
                starts[entry.ticket_number].add(entry.segment_start)
            elif entry.task_id:
                task = self.store.get_manual_task(entry.task_id)
                if task is None or (only_if is not None and task.invoice_id != only_if):
                    continue
                if taken(task.invoice_id):
                    raise AlreadyBilled(f"the manual entry {task.title!r} is billed already")
                if task.invoice_id != invoice_id:
                    updated = task.model_copy(update={"invoice_id": invoice_id})
                    changes.append(Change(MANUAL_TASKS, task.task_id, task, updated))
        for ticket, wanted in sorted(starts.items()):
            session = self.store.get_session(ticket)
            if session is None:
                continue  # deleted since: nothing to mark
            if any(seg.start in wanted and taken(seg.invoice_id) for seg in session.segments):
                raise AlreadyBilled(f"time on {ticket} is billed already")
            segments = [
                seg.model_copy(update={"invoice_id": invoice_id})
                if seg.start in wanted and (only_if is None or seg.invoice_id == only_if)
                else seg
                for seg in session.segments
            ]
            if only_if is not None:  # also time of this invoice edited since (another start)
                segments = [
                    seg.model_copy(update={"invoice_id": None})
                    if seg.invoice_id == only_if
                    else seg
                    for seg in segments
                ]
            if segments != session.segments:
                marked = session.model_copy(update={"segments": segments})
                changes.append(Change(SESSIONS, ticket, session, marked))
        return changes

    def _claimed_by(self, invoice: Invoice) -> list[BilledEntry]:
        """The time marked with this invoice now, as billed entries."""
        found: list[BilledEntry] = []
        for ticket in sorted({e.ticket_number for e in invoice.billed if e.ticket_number}):
            session = self.store.get_session(ticket)
            for seg in session.segments if session is not None else []:
                if seg.invoice_id == invoice.invoice_id and seg.end is not None:
                    seconds = int((seg.end - seg.start).total_seconds())
                    found.append(
                        BilledEntry(ticket_number=ticket, segment_start=seg.start, seconds=seconds)
                    )
        for entry in invoice.billed:
            if entry.task_id:
                task = self.store.get_manual_task(entry.task_id)
                if task is not None and task.invoice_id == invoice.invoice_id:
                    seconds = int(task.duration.total_seconds())
                    found.append(BilledEntry(task_id=task.task_id, seconds=seconds))
        return found

    @staticmethod
    def _invoice_of(done: Committed, invoice_id: str) -> Invoice:
        invoice = done.get(INVOICES, invoice_id)
        assert isinstance(invoice, Invoice)
        return invoice


def _covered(invoices: Iterable[Invoice]) -> set[tuple[str, datetime] | str]:
    """What live invoices list as billed (also time whose segment was not
    marked: an interrupted older version of jtt)."""
    covered: set[tuple[str, datetime] | str] = set()
    for invoice in invoices:
        for entry in invoice.billed:
            if entry.task_id:
                covered.add(entry.task_id)
            elif entry.ticket_number and entry.segment_start:
                covered.add((entry.ticket_number, entry.segment_start))
    return covered


EntryKey = tuple[str, ...]


def _entry_key(entry: BilledEntry) -> EntryKey:
    if entry.task_id:
        return ("task", entry.task_id)
    assert entry.ticket_number and entry.segment_start
    return ("segment", entry.ticket_number, entry.segment_start.isoformat())


def _entry_text(key: EntryKey, tz: tzinfo | None) -> str:
    if key[0] == "task":
        return "a manual entry"
    from jtt_tui.domain.calendar import to_local

    start = to_local(datetime.fromisoformat(key[2]), tz)
    return f"the time on {key[1]} from {start:%Y-%m-%d %H:%M}"
