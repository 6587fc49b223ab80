"""The ledger: every change a user makes to their data goes through here.

A use case (start a timer, delete a ticket, mark an invoice sent …) plans
its change as the records it reads and the records it wants instead. The
ledger then, in the service layer and for every path (CLI, TUI, import):

1. checks the timeline: no new or changed time overlaps another ticket's
   (unless overlaps are allowed), no time in the future, no segment over a
   day unless forced; with ``trim`` it shortens the other segment instead;
2. checks the billing lock: time on a sent or paid invoice is not edited,
   moved or deleted;
3. writes the change as one unit together with its journal entry (the
   records before and after), so it can be undone and redone later;
4. on a concurrent change (a stale version, or the journal number taken by
   another writer) plans it again on the fresh state.

Undo and redo are ordinary changes built from a journal entry: each record
must still be exactly as the entry left it (else the undo is refused and
says what changed), and they pass the same checks.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from jtt_tui.domain.billing import check_transition
from jtt_tui.domain.clock import Clock
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.journal import EntryOp, JournalEntry, JournalImage, entry_id
from jtt_tui.domain.models import (
    Invoice,
    InvoiceStatus,
    ManualTask,
    Record,
    Segment,
    Session,
)
from jtt_tui.domain.timeline import (
    Overlap,
    Piece,
    changed_pieces,
    check_sane,
    overlaps,
    pieces_of,
    refusal,
    trim_of,
)
from jtt_tui.storage.base import Storage, Write, content_of
from jtt_tui.storage.errors import ConflictError
from jtt_tui.storage.kinds import INVOICES, JOURNAL, KINDS_BY_NAME, MANUAL_TASKS, SESSIONS, Kind

ATTEMPTS = 6
# a change whose before/after copies would exceed this is kept without them
# (it cannot be undone; the entry says so) — a MongoDB document holds 16 MB
MAX_IMAGES_BYTES = 4_000_000
PRUNE_EVERY = 25
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


class NothingToUndo(DomainError):
    pass


@dataclass
class Change:
    """One record a change touches: as read (None: new) and as wanted
    (None: deleted)."""

    kind: Kind
    key: str
    before: Record | None
    after: Record | None


@dataclass
class Plan:
    action: str
    description: str
    changes: list[Change]
    # journal entries rewritten with the change (undo marks its target undone)
    entries: list[tuple[JournalEntry, JournalEntry]] = field(default_factory=list)
    op: EntryOp = "change"
    target: str | None = None
    force: bool = False  # longer than a day is meant (or an undo restoring history)
    # history as recorded elsewhere (an import): its times are not second-guessed
    # (another machine's clock), only overlaps and billed time are checked
    recorded: bool = False


@dataclass
class Committed:
    """What a change did: the stored records and its journal entry."""

    entry: JournalEntry
    stored: dict[tuple[str, str], Record | None]
    notes: list[str]  # said to the user besides the description (trims, stale drafts)

    def get(self, kind: Kind, key: str) -> Any:
        return self.stored.get((kind.name, key))

    @property
    def description(self) -> str:
        return self.entry.description


@dataclass(frozen=True)
class LedgerRules:
    allow_overlap: bool = False
    journal_keep: int = 500
    journal_days: int = 30


class Ledger:
    def __init__(
        self,
        store: Storage,
        *,
        rules: LedgerRules | None = None,
        clock: Clock | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        self.store = store
        self.rules = rules or LedgerRules()
        self.clock = clock or store.clock
        self.tz = tz
        self._commits = 0

    # -- changing -----------------------------------------------------------------------

    def apply(
        self,
        plan: Callable[[], Plan],
        *,
        force: bool = False,
        trim: bool = False,
        write: Callable[[Plan, JournalEntry], None] | None = None,
    ) -> Committed:
        """Plan, check and write one change; plan again when someone else
        wrote in between. LedgerRefused says why nothing was written.
        ``write`` replaces the commit for a change the store writes in bulk
        (an import): it must write the stamped journal entry with it."""
        for attempt in range(ATTEMPTS):
            planned = plan()
            try:
                if write is not None:
                    return self._write_with(planned, write, force=force or planned.force)
                return self._write(planned, force=force or planned.force, trim=trim)
            except ConflictError:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # two writers: part them
        raise AssertionError("unreachable")

    def _write_with(
        self, plan: Plan, write: Callable[[Plan, JournalEntry], None], *, force: bool
    ) -> Committed:
        notes = self.check(plan, force=force)
        now = self.clock.now()
        entry = self.store.stamped(self._entry(plan, now, notes), 0, now)
        write(plan, entry)
        self._prune(now)
        return Committed(entry, {}, notes)

    def check(self, plan: Plan, *, force: bool = False, trim: bool = False) -> list[str]:
        """The rules, without writing (``trim`` adds the shortened segments to
        ``plan``); returns the notes for the user."""
        now = self.clock.now()
        notes: list[str] = []
        self._check_timeline(plan, now, force=force, trim=trim, notes=notes)
        self._check_locks(plan, notes)
        return notes

    def _write(self, plan: Plan, *, force: bool, trim: bool) -> Committed:
        notes = self.check(plan, force=force, trim=trim)
        now = self.clock.now()
        entry = self._entry(plan, now, notes)
        writes = [Write(JOURNAL, entry.entry_id, entry, 0)]
        for old, new in plan.entries:
            writes.append(Write(JOURNAL, old.entry_id, new, old.version, old))
        for change in plan.changes:
            version = change.before.version if change.before is not None else 0
            writes.append(Write(change.kind, change.key, change.after, version, change.before))
        stored = self.store.commit(writes)
        self._prune(now)
        by_key = {(w.kind.name, w.key): r for w, r in zip(writes, stored, strict=True)}
        committed = by_key[(JOURNAL.name, entry.entry_id)]
        assert isinstance(committed, JournalEntry)
        return Committed(committed, by_key, notes)

    def _entry(self, plan: Plan, now: datetime, notes: list[str]) -> JournalEntry:
        images: list[JournalImage] = []
        size = 0
        for change in plan.changes:
            before, after = _image(change.before), _image(change.after)
            size += len(json.dumps([before, after]))
            if size > MAX_IMAGES_BYTES:
                break  # kept without them: no need to copy the rest (an import of 100,000)
            images.append(
                JournalImage(kind=change.kind.name, key=change.key, before=before, after=after)
            )
        undoable = size <= MAX_IMAGES_BYTES
        description = plan.description  # (the notes go to the user, not into history)
        return JournalEntry(
            entry_id=entry_id(self.store.last_journal_seq() + 1),
            at=now,
            op=plan.op,
            action=plan.action,
            description=description[:10_000],
            images=images if undoable else [],
            target=plan.target,
            undoable=undoable,
        )

    def _prune(self, now: datetime) -> None:
        """Keep the journal bounded: at the first change of a process and
        every PRUNE_EVERY after (one indexed delete)."""
        if self._commits % PRUNE_EVERY == 0:
            self.store.prune_journal(
                self.rules.journal_keep, now - timedelta(days=self.rules.journal_days)
            )
        self._commits += 1

    # -- the timeline ------------------------------------------------------------------

    def _check_timeline(
        self, plan: Plan, now: datetime, *, force: bool, trim: bool, notes: list[str]
    ) -> None:
        sessions = [c for c in plan.changes if c.kind is SESSIONS]
        changed: list[Piece] = []
        for change in sessions:
            before, after = _as_session(change.before), _as_session(change.after)
            pieces = changed_pieces(before, after)
            if after is not None and not plan.recorded:
                by_times = {(s.start, s.end): s for s in after.segments}
                for piece in pieces:
                    check_sane(
                        piece, by_times[(piece.start, piece.end)], now, force=force, tz=self.tz
                    )
            changed += pieces
        if not changed or self.rules.allow_overlap:
            return
        found = self._overlaps(plan, changed, now)
        if not found:
            return
        if trim:
            self._trim(plan, found, now, notes)
            found = self._overlaps(plan, changed, now)
            if not found:
                return
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise OverlapRefused(refusal(found[0], self.tz, now) + more, found)

    def _overlaps(self, plan: Plan, changed: list[Piece], now: datetime) -> list[Overlap]:
        lo = min(p.start for p in changed)
        hi = max(p.until(now) for p in changed)
        planned = {c.key: _as_session(c.after) for c in plan.changes if c.kind is SESSIONS}
        others: list[Piece] = []
        for stored in self.store.sessions_between(lo, hi + timedelta(milliseconds=1)):
            if stored.ticket_number not in planned:
                others += pieces_of(stored)
        for after in planned.values():
            others += pieces_of(after)
        return overlaps(changed, others, now)

    def _trim(self, plan: Plan, found: list[Overlap], now: datetime, notes: list[str]) -> None:
        """Shorten each other segment in the way (--trim); refuse where that
        cannot make room (it would have to be split or removed)."""
        for overlap in found:
            times = trim_of(overlap.piece, overlap.other, now)
            if times is None:
                raise OverlapRefused(
                    refusal(overlap, self.tz, now).split(" (")[0]
                    + ": shortening it cannot make room (it would have to be split or "
                    "removed); change the times, or edit that segment first",
                    [overlap],
                )
            change = self._change_for(plan, overlap.other.ticket)
            session = _as_session(change.after)
            assert session is not None
            segments = [
                seg.model_copy(update={"start": times[0], "end": times[1]})
                if (seg.start, seg.end) == (overlap.other.start, overlap.other.end)
                else seg
                for seg in session.segments
            ]
            change.after = session.model_copy(update={"segments": segments})
            shortened = Piece(overlap.other.ticket, *times)
            notes.append(
                f"shortened {overlap.other.describe(self.tz, now=now)} to "
                f"{shortened.describe(self.tz, now=now).split(' ', 1)[1]}"
            )

    def _change_for(self, plan: Plan, ticket: str) -> Change:
        for change in plan.changes:
            if change.kind is SESSIONS and change.key == ticket:
                return change
        current = self.store.get_session(ticket)
        change = Change(SESSIONS, ticket, current, current)
        plan.changes.append(change)
        return change

    # -- the billing lock --------------------------------------------------------------

    def _check_locks(self, plan: Plan, notes: list[str]) -> None:
        self._check_billed_invoices(plan)
        touched: dict[str, list[str]] = {}  # invoice id -> what of it would change
        for change in plan.changes:
            if change.kind is SESSIONS:
                for invoice_id, what in _billed_session_changes(change, self.tz):
                    touched.setdefault(invoice_id, []).append(what)
            elif change.kind is MANUAL_TASKS:
                found = _billed_task_change(change)
                if found is not None:
                    touched.setdefault(found[0], []).append(found[1])
        if not touched:
            return
        planned = {c.key: c.after for c in plan.changes if c.kind is INVOICES}
        locked: list[tuple[Invoice, list[str]]] = []
        for invoice_id, whats in touched.items():
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

    def _check_billed_invoices(self, plan: Plan) -> None:
        """A sent or paid invoice keeps its lines and its time: it moves only
        along the invoice rules (undo and redo may step back), and it is
        deleted only together with all the time it bills (else that time
        could be billed again)."""
        for change in plan.changes:
            before, after = change.before, change.after
            if change.kind is not INVOICES or not isinstance(before, Invoice):
                continue
            if isinstance(after, Invoice) and after.status != before.status:
                # an invoice only moves forward, undone or not: a sent one
                # never becomes a draft again (its copy is with the client)
                check_transition(before, after.status)
            if before.status not in LOCKING:
                continue
            name = f"{before.invoice_number} ({before.status})"
            if after is None:
                if self._time_remains(plan, before):
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

    def _time_remains(self, plan: Plan, invoice: Invoice) -> bool:
        planned = {(c.kind.name, c.key): c.after for c in plan.changes}
        for entry in invoice.billed:
            if entry.task_id:
                key = (MANUAL_TASKS.name, entry.task_id)
                task = planned[key] if key in planned else self.store.get_manual_task(entry.task_id)
                if task is not None:
                    return True
            elif entry.ticket_number:
                key = (SESSIONS.name, entry.ticket_number)
                found = (
                    planned[key] if key in planned else self.store.get_session(entry.ticket_number)
                )
                session = _as_session(found)
                if session is not None and any(
                    seg.invoice_id == invoice.invoice_id or seg.start == entry.segment_start
                    for seg in session.segments
                ):
                    return True
        return False

    # -- undo and redo -----------------------------------------------------------------

    def complete_interrupted(self) -> str | None:
        """Finish the newest change if it was cut off half-way (kill -9, a
        dropped link) on a store without transactions, where its writes go
        one after another: the journal entry is written first, so it says
        what the whole change was. Records still as they were before it get
        their state from after it (each conditional on the version read);
        records already done are left. When any record changed otherwise
        since, nothing is touched. Returns what was completed, or None."""
        entries = self.store.journal_entries(1)
        if not entries:
            return None
        entry = entries[0]
        if entry.op != "change" or entry.undone or not entry.undoable:
            return None
        pending: list[Write] = []
        for image in entry.images:
            kind = KINDS_BY_NAME[image.kind]
            current = self.store.load(kind, image.key)
            after = _from_image(kind, image.after)
            before = _from_image(kind, image.before)
            now, done = _content(current, kind), _content(after, kind)
            if now == done:
                continue
            if now != _content(before, kind):
                return None  # changed by something else since: not ours to finish
            version = current.version if current is not None else 0
            pending.append(Write(kind, image.key, after, version, before=current))
        if not pending:
            return None
        self.store.commit(pending)
        return entry.description

    def history(self, limit: int = 20) -> list[JournalEntry]:
        return self.store.journal_entries(limit)

    def undo(self) -> Committed:
        """Revert the newest change that is not undone yet."""

        def plan() -> Plan:
            target = self._find(lambda e: e.op == "change" and not e.undone)
            if target is None:
                raise NothingToUndo("nothing to undo")
            return self._revert(target, "undo")

        return self.apply(plan)

    def redo(self) -> Committed:
        """Re-apply the change undone last, if nothing else was changed since."""

        def plan() -> Plan:
            target = self._redo_target()
            if target is None:
                raise NothingToUndo("nothing to redo")
            return self._revert(target, "redo")

        return self.apply(plan)

    def _revert(self, target: JournalEntry, op: EntryOp) -> Plan:
        verb = "undo" if op == "undo" else "redo"
        if not target.undoable:
            raise LedgerRefused(
                f"cannot {verb} {target.description!r}: it was too large to keep a copy "
                "of (restore a backup instead)"
            )
        # undo: the records must be as the change left them, and get their
        # state from before it; redo the other way round
        expect, wanted = ("after", "before") if op == "undo" else ("before", "after")
        changes = []
        for image in target.images:
            kind = KINDS_BY_NAME[image.kind]
            current = self.store.load(kind, image.key)
            expected = _from_image(kind, getattr(image, expect))
            if _content(current, kind) != _content(expected, kind):
                raise LedgerRefused(
                    f"cannot {verb} {target.description!r}: {_label(kind, image.key)} "
                    f"{_difference(kind, current, expected)}{_when(current, self.tz)}. Nothing "
                    f"was changed; {verb} can go no further back than this: correct it by hand"
                )
            restored = _from_image(kind, getattr(image, wanted))
            changes.append(
                Change(kind, image.key, current, _keep_counters(kind, current, restored))
            )
        marked = target.model_copy(update={"undone": op == "undo"})
        return Plan(
            op,
            f"{verb}: {target.description}",
            changes,
            entries=[(target, marked)],
            op=op,
            target=target.entry_id,
            force=True,  # restoring what was there: no new day-long segment is made
        )

    def _entries(self) -> Iterator[JournalEntry]:
        """The journal, newest first, a page at a time."""
        before: int | None = None
        while True:
            page = self.store.journal_entries(50, before)
            yield from page
            if len(page) < 50:
                return
            before = page[-1].seq

    def _find(self, wanted: Callable[[JournalEntry], bool]) -> JournalEntry | None:
        return next((e for e in self._entries() if wanted(e)), None)

    def _redo_target(self) -> JournalEntry | None:
        """The change undone most recently, while the newest entries are
        only undos and redos (a new change ends what can be redone)."""
        for entry in self._entries():
            if entry.op == "change":
                return None
            if entry.op == "undo" and entry.target is not None:
                target = self.store.load(JOURNAL, entry.target)
                if target is None:
                    return None
                if target.undone:
                    return target
        return None


# -- helpers ---------------------------------------------------------------------------


def _image(record: Record | None) -> dict[str, Any] | None:
    return record.model_dump(mode="json") if record is not None else None


def _from_image(kind: Kind, image: dict[str, Any] | None) -> Record | None:
    return kind.model.model_validate(image) if image is not None else None


# Fields that only ever move forward, whatever is undone: the invoice
# counter (an undone change never hands out a number again).
_COUNTERS: dict[str, tuple[str, ...]] = {"billing_settings": ("next_invoice_number",)}


def _content(record: Record | None, kind: Kind | None = None) -> dict[str, Any] | None:
    if record is None:
        return None
    content = content_of(record)
    for name in _COUNTERS.get(kind.name if kind else "", ()):
        content.pop(name, None)
    return content


def _without(segments: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in segment.items() if k != name} for segment in segments]


def _keep_counters(kind: Kind, current: Record | None, restored: Record | None) -> Record | None:
    """``restored``, with the counters as they are now; a record with
    counters is never removed (its defaults come back, counters kept)."""
    names = _COUNTERS.get(kind.name, ())
    if current is None or not names:
        return restored
    if restored is None:
        restored = kind.model(user_id=current.user_id)
    return restored.model_copy(update={n: getattr(current, n) for n in names})


def _difference(kind: Kind, current: Record | None, expected: Record | None) -> str:
    """What changed in a record since a journaled change, in words."""
    if current is None:
        return "was deleted after it"
    if expected is None:
        return "was created again after it"
    now, then = _content(current, kind) or {}, _content(expected, kind) or {}
    fields = sorted(k for k in now.keys() | then.keys() if now.get(k) != then.get(k))
    if fields == ["segments"]:
        for name, what in (("worklog", "pushed to Jira"), ("invoice_id", "put on an invoice")):
            if _without(now["segments"], name) == _without(then["segments"], name):
                return f"had its time {what} after it"
    named = ", ".join(f.replace("_", " ") for f in fields) or "its bookkeeping"
    return f"was changed after it ({named})"


def _as_session(record: Record | None) -> Session | None:
    assert record is None or isinstance(record, Session)
    return record


def _label(kind: Kind, key: str) -> str:
    return {"sessions": key, "tickets": f"ticket {key}"}.get(kind.name, kind.label)


def _when(record: Record | None, tz: tzinfo | None) -> str:
    if record is None:
        return " (it was deleted)"
    if record.updated_at is None:
        return ""
    from jtt_tui.domain.calendar import to_local

    return f" (at {to_local(record.updated_at, tz):%Y-%m-%d %H:%M})"


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
