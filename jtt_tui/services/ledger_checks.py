"""The ledger's rules, checked a record change at a time.

:class:`PlanChecks` is fed every record a change touches (``add``) and then
decides (``finish``): the timeline (no new or changed time over another
ticket's, clock sanity) and the billing lock (time on a sent or paid invoice
untouched). It keeps what the rules need of each record, not the record: a
small change is checked from its plan, and an import of 100,000 records is
checked while it streams into the store, in the same way (see
``Ledger.check`` and ``Ledger.stream_change``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from jtt_tui.domain.billing import check_transition
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.journal import JournalImage
from jtt_tui.domain.models import Invoice, InvoiceStatus, ManualTask, Record, Segment, Session
from jtt_tui.domain.timeline import (
    Overlap,
    Piece,
    check_sane,
    overlaps,
    pieces_of,
    refusal,
)
from jtt_tui.storage.base import Storage
from jtt_tui.storage.kinds import INVOICES, MANUAL_TASKS, SESSIONS, Kind

# a change whose before/after copies would exceed this is kept without them
# (it cannot be undone; the entry says so) — a MongoDB document holds 16 MB
MAX_IMAGES_BYTES = 4_000_000
LOCKING = frozenset({InvoiceStatus.SENT, InvoiceStatus.PAID, InvoiceStatus.OVERDUE})
# the fields of a manual entry that say what is billed
_BILLED_TASK_FIELDS = (
    "duration",
    "date",
    "ticket_number",
    "project_id",
    "billable",
    "hourly_rate",
    "invoice_id",
)
# what a sent or paid invoice says it bills
_BILLED_INVOICE_FIELDS = (
    "items",
    "billed",
    "subtotal",
    "tax_rate",
    "tax_amount",
    "total",
    "currency",
)


class LedgerRefused(DomainError):
    """The change breaks a rule of the ledger; nothing was written."""


class OverlapRefused(LedgerRefused):
    def __init__(self, message: str, found: list[Overlap]) -> None:
        super().__init__(message)
        self.overlaps = found


class BilledTimeLocked(LedgerRefused):
    def __init__(self, message: str, invoices: list[Invoice]) -> None:
        super().__init__(message)
        self.invoices = invoices


@dataclass
class Change:
    """One record a change touches: as read (None: new) and as wanted
    (None: deleted)."""

    kind: Kind
    key: str
    before: Record | None
    after: Record | None


class Images:
    """The before/after copies a journal entry keeps of a change, up to
    MAX_IMAGES_BYTES: past it none are kept (the change cannot be undone)
    and the rest are not even copied (an import of 100,000 records)."""

    def __init__(self) -> None:
        self.images: list[JournalImage] = []
        self.size = 0

    def add(self, change: Change) -> None:
        if self.size > MAX_IMAGES_BYTES:
            return
        before, after = _image(change.before), _image(change.after)
        self.size += len(json.dumps([before, after]))
        if self.size > MAX_IMAGES_BYTES:
            self.images = []
            return
        self.images.append(
            JournalImage(kind=change.kind.name, key=change.key, before=before, after=after)
        )

    @property
    def undoable(self) -> bool:
        return self.size <= MAX_IMAGES_BYTES


# shortens the other segments in the way (--trim) by changing the plan, adding
# notes; returns the plan's session changes as they are then
Trim = Callable[[list[Overlap], list[str]], list[Change]]


class PlanChecks:
    """The rules for one change, its records fed one at a time.

    ``pending`` maps (kind name, key) to each record as the change wants it,
    for a change checked before it is written; None when the store already
    holds the change (an import checked inside its transaction): the store
    is then asked for records as they will be."""

    def __init__(
        self,
        store: Storage,
        now: datetime,
        *,
        tz: tzinfo | None,
        allow_overlap: bool,
        force: bool = False,
        recorded: bool = False,
    ) -> None:
        self.store = store
        self.now = now
        self.tz = tz
        self.allow_overlap = allow_overlap
        self.force = force
        self.recorded = recorded
        self.count = 0
        self.images = Images()
        self._changed: list[Piece] = []
        # the sessions the change writes or deletes, and their time after it
        self._planned: set[str] = set()
        self._planned_pieces: list[Piece] = []
        self._touched: dict[str, list[str]] = {}  # invoice id -> what of it would change
        self._invoices: list[Change] = []

    def add(self, change: Change) -> None:
        """One record of the change (in the change's order)."""
        self.count += 1
        self.images.add(change)
        if change.kind is SESSIONS:
            self._add_session(change)
            for invoice_id, what in _billed_session_changes(change, self.tz):
                self._touched.setdefault(invoice_id, []).append(what)
        elif change.kind is MANUAL_TASKS:
            found = _billed_task_change(change)
            if found is not None:
                self._touched.setdefault(found[0], []).append(found[1])
        elif change.kind is INVOICES:
            self._invoices.append(change)

    def _add_session(self, change: Change) -> None:
        before, after = _as_session(change.before), _as_session(change.after)
        after_pieces = pieces_of(after)
        old = {(p.start, p.end) for p in pieces_of(before)}
        pieces = [p for p in after_pieces if (p.start, p.end) not in old]
        if after is not None and not self.recorded:
            by_times = {(s.start, s.end): s for s in after.segments}
            for piece in pieces:
                check_sane(
                    piece,
                    by_times[(piece.start, piece.end)],
                    self.now,
                    force=self.force,
                    tz=self.tz,
                )
        self._changed += pieces
        self._planned.add(change.key)
        self._planned_pieces += after_pieces

    def finish(
        self, pending: Mapping[tuple[str, str], Record | None] | None, trim: Trim | None = None
    ) -> list[str]:
        """Decide, once every record was added: the timeline, then the
        billing lock. Returns the notes for the user; raises LedgerRefused."""
        notes: list[str] = []
        self._check_overlaps(notes, trim)
        self._check_billed_invoices(pending)
        self._check_touched(notes)
        return notes

    # -- the timeline ------------------------------------------------------------------

    def _check_overlaps(self, notes: list[str], trim: Trim | None) -> None:
        if not self._changed or self.allow_overlap:
            return
        found = self._overlaps()
        if not found:
            return
        if trim is not None:
            # the other segments shortened: the change now holds those sessions too
            sessions = trim(found, notes)
            self._planned = {c.key for c in sessions}
            self._planned_pieces = [p for c in sessions for p in pieces_of(_as_session(c.after))]
            found = self._overlaps()
            if not found:
                return
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise OverlapRefused(refusal(found[0], self.tz, self.now) + more, found)

    def _overlaps(self) -> list[Overlap]:
        now = self.now
        lo = min(p.start for p in self._changed)
        hi = max(p.until(now) for p in self._changed)
        others: list[Piece] = []
        # (the stored state of what the change writes is not what counts)
        stored = self.store.iter_sessions_between(
            lo, hi + timedelta(milliseconds=1), skip=self._planned
        )
        for session in stored:
            others += pieces_of(session)
        others += self._planned_pieces
        return overlaps(self._changed, others, now)

    # -- the billing lock --------------------------------------------------------------

    def _check_touched(self, notes: list[str]) -> None:
        if not self._touched:
            return
        planned = {c.key: c.after for c in self._invoices}
        locked: list[tuple[Invoice, list[str]]] = []
        for invoice_id, whats in self._touched.items():
            invoice = (
                planned[invoice_id] if invoice_id in planned else self.store.get_invoice(invoice_id)
            )
            if not isinstance(invoice, Invoice):
                continue  # deleted with this change (checked above), or gone
            if invoice.status in LOCKING:
                locked.append((invoice, whats))
            elif invoice.status == InvoiceStatus.DRAFT:
                note = (
                    f"draft {invoice.invoice_number} no longer matches its time: rebuild its "
                    f"lines (Billing, u; or `jtt invoice refresh {invoice.invoice_number}`)"
                )
                if note not in notes:
                    notes.append(note)
        if locked:
            invoice, whats = locked[0]
            raise BilledTimeLocked(
                f"{whats[0]} is billed on {invoice.invoice_number} ({invoice.status}), so it "
                "cannot be edited, moved or deleted; to change it, cancel the invoice first "
                f"(`jtt invoice mark {invoice.invoice_number} cancelled`), which frees its time",
                [i for i, _ in locked],
            )

    def _check_billed_invoices(
        self, pending: Mapping[tuple[str, str], Record | None] | None
    ) -> None:
        """A sent or paid invoice keeps its lines and its time: it moves only
        along the invoice rules (undo and redo may step back), and it is
        deleted only together with all the time it bills (else that time
        could be billed again)."""
        for change in self._invoices:
            before, after = change.before, change.after
            if not isinstance(before, Invoice):
                continue
            if isinstance(after, Invoice) and after.status != before.status:
                # an invoice only moves forward, undone or not: a sent one
                # never becomes a draft again (its copy is with the client)
                check_transition(before, after.status)
            if before.status not in LOCKING:
                continue
            name = f"{before.invoice_number} ({before.status})"
            if after is None:
                if self._time_remains(pending, before):
                    raise BilledTimeLocked(
                        f"{name} bills time that would stay: deleting the invoice would let "
                        "that time be billed again; delete its time with it, or keep it",
                        [before],
                    )
                continue
            assert isinstance(after, Invoice)
            if any(getattr(before, f) != getattr(after, f) for f in _BILLED_INVOICE_FIELDS):
                raise BilledTimeLocked(
                    f"{name}: the lines and time of a sent or paid invoice cannot change", [before]
                )

    def _time_remains(
        self, pending: Mapping[tuple[str, str], Record | None] | None, invoice: Invoice
    ) -> bool:
        def after(kind: Kind, key: str) -> Record | None:
            if pending is not None and (kind.name, key) in pending:
                return pending[(kind.name, key)]
            return self.store.load(kind, key)

        for entry in invoice.billed:
            if entry.task_id:
                if after(MANUAL_TASKS, entry.task_id) is not None:
                    return True
            elif entry.ticket_number:
                session = _as_session(after(SESSIONS, entry.ticket_number))
                if session is not None and any(
                    seg.invoice_id == invoice.invoice_id or seg.start == entry.segment_start
                    for seg in session.segments
                ):
                    return True
        return False


def _image(record: Record | None) -> dict[str, Any] | None:
    return record.model_dump(mode="json") if record is not None else None


def _as_session(record: Record | None) -> Session | None:
    assert record is None or isinstance(record, Session)
    return record


def _billed_session_changes(change: Change, tz: tzinfo | None) -> Iterable[tuple[str, str]]:
    """(invoice id, what) for each billed segment of ``before`` that the
    change edits, deletes or moves to another project."""
    before, after = _as_session(change.before), _as_session(change.after)
    if before is None:
        return
    # the same times on the same invoice: untouched (clearing the mark is a change too)
    kept = {(s.start, s.end, s.invoice_id) for s in after.segments} if after is not None else set()
    moved = after is not None and after.project_id != before.project_id
    for segment in before.segments:
        if segment.invoice_id is None:
            continue
        what = _segment_text(before.ticket_number, segment, tz)
        if (segment.start, segment.end, segment.invoice_id) not in kept:
            starts = {s.start for s in after.segments} if after is not None else set()
            verb = "changing" if segment.start in starts else "deleting"
            yield segment.invoice_id, f"{what} ({verb} it)"
        elif moved:
            yield segment.invoice_id, f"{what} (moving it to another project)"


def _segment_text(ticket: str, segment: Segment, tz: tzinfo | None) -> str:
    piece = Piece(ticket, segment.start, segment.end)
    return f"the time on {piece.describe(tz)}"


def _billed_task_change(change: Change) -> tuple[str, str] | None:
    before = change.before
    if not isinstance(before, ManualTask) or before.invoice_id is None:
        return None
    after = change.after
    if after is not None:
        assert isinstance(after, ManualTask)
        if all(getattr(before, f) == getattr(after, f) for f in _BILLED_TASK_FIELDS):
            return None
    return before.invoice_id, f"the manual entry {before.title!r} of {before.date}"
