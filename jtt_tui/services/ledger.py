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

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from jtt_tui.domain.clock import Clock
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.journal import EntryOp, JournalEntry, entry_id
from jtt_tui.domain.models import Record
from jtt_tui.domain.timeline import Overlap, Piece, refusal, trim_of
from jtt_tui.services.ledger_checks import (
    LOCKING,
    BilledTimeLocked,
    Change,
    Images,
    LedgerRefused,
    OverlapRefused,
    PlanChecks,
    _as_session,
)
from jtt_tui.storage.base import Storage, Write, content_of
from jtt_tui.storage.errors import ConflictError
from jtt_tui.storage.kinds import JOURNAL, KINDS_BY_NAME, SESSIONS, Kind

__all__ = [
    "LOCKING",
    "BilledTimeLocked",
    "Change",
    "Committed",
    "Ledger",
    "LedgerRefused",
    "LedgerRules",
    "NothingToUndo",
    "OverlapRefused",
    "Plan",
]

T = TypeVar("T")
ATTEMPTS = 6
PRUNE_EVERY = 25


class NothingToUndo(DomainError):
    pass


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
        checks = self._checks(force=force, recorded=plan.recorded)
        for change in plan.changes:
            checks.add(change)

        def shorten(found: list[Overlap], notes: list[str]) -> list[Change]:
            self._trim(plan, found, checks.now, notes)
            return [c for c in plan.changes if c.kind is SESSIONS]

        pending = {(c.kind.name, c.key): c.after for c in plan.changes}
        return checks.finish(pending, shorten if trim else None)

    def _checks(self, *, force: bool, recorded: bool) -> PlanChecks:
        return PlanChecks(
            self.store,
            self.clock.now(),
            tz=self.tz,
            allow_overlap=self.rules.allow_overlap,
            force=force,
            recorded=recorded,
        )

    def stream_change(
        self,
        action: str,
        describe: Callable[[int], str],
        write: Callable[[Callable[[Change], None], Callable[[], JournalEntry]], T],
    ) -> T:
        """A change too large to plan in memory (an import of 100,000
        records), checked as it is written: ``write(add, close)`` writes it in
        one transaction, passing every record it changes to ``add``, and
        calls ``close()`` last, inside that transaction. ``close`` makes the
        checks a plan gets (history as recorded: only overlaps and billed
        time are refused), raising LedgerRefused (the transaction must then
        be undone), and returns the stamped journal entry to write with it;
        ``describe(count)`` says what it did. Not retried: the transaction
        holds the store, so no other writer can get in between."""
        checks = self._checks(force=False, recorded=True)

        def close() -> JournalEntry:
            notes = checks.finish(None)
            entry = self._new_entry(
                action, describe(checks.count), checks.images, checks.now, notes
            )
            return self.store.stamped(entry, 0, checks.now)

        result = write(checks.add, close)
        self._prune(checks.now)
        return result

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
        images = Images()
        for change in plan.changes:
            images.add(change)
        return self._new_entry(
            plan.action, plan.description, images, now, notes, op=plan.op, target=plan.target
        )

    def _new_entry(
        self,
        action: str,
        description: str,
        images: Images,
        now: datetime,
        notes: list[str],
        *,
        op: EntryOp = "change",
        target: str | None = None,
    ) -> JournalEntry:
        # (the notes go to the user, not into history)
        return JournalEntry(
            entry_id=entry_id(self.store.last_journal_seq() + 1),
            at=now,
            op=op,
            action=action,
            description=description[:10_000],
            images=images.images if images.undoable else [],
            target=target,
            undoable=images.undoable,
        )

    def _prune(self, now: datetime) -> None:
        """Keep the journal bounded: at the first change of a process and
        every PRUNE_EVERY after (one indexed delete)."""
        if self._commits % PRUNE_EVERY == 0:
            self.store.prune_journal(
                self.rules.journal_keep, now - timedelta(days=self.rules.journal_days)
            )
        self._commits += 1

    # -- --trim ------------------------------------------------------------------------

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


def _label(kind: Kind, key: str) -> str:
    return {"sessions": key, "tickets": f"ticket {key}"}.get(kind.name, kind.label)


def _when(record: Record | None, tz: tzinfo | None) -> str:
    if record is None:
        return " (it was deleted)"
    if record.updated_at is None:
        return ""
    from jtt_tui.domain.calendar import to_local

    return f" (at {to_local(record.updated_at, tz):%Y-%m-%d %H:%M})"
