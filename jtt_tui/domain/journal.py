"""The journal: one entry per change a user makes, with the records it
touched as they were before and after, so the change can be undone (and
redone) later as an ordinary, version-checked write.

Entries are numbered per user (``entry_id`` is the number, zero-padded so
text order is number order). The number is also what serialises writers:
two changes made at once cannot both take the next number, so the second is
re-planned on top of the first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from jtt_tui.domain.models import Model, Record
from jtt_tui.domain.types import LongText, ShortText, UtcDatetime

KindName = Literal[
    "sessions", "projects", "manual_tasks", "billing_settings", "invoices", "tickets"
]
EntryOp = Literal["change", "undo", "redo"]
ENTRY_DIGITS = 12


def entry_id(seq: int) -> str:
    return f"{seq:0{ENTRY_DIGITS}d}"


class JournalImage(Model):
    """One record a change touched: its stored form (snake_case JSON) before
    and after; None where it did not exist."""

    kind: KindName
    key: str = Field(min_length=1, max_length=200)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class JournalEntry(Record):
    entry_id: str = Field(pattern=rf"^\d{{{ENTRY_DIGITS}}}$")
    at: UtcDatetime
    op: EntryOp = "change"
    action: ShortText  # start, stop, delete, import … (for filters and tests)
    description: LongText  # one line a person reads: "delete WEB-12 and its 3 segments"
    images: list[JournalImage] = Field(default_factory=list)
    target: str | None = None  # undo / redo: the change entry it reverted / re-applied
    undone: bool = False  # a change that is currently undone
    undoable: bool = True  # False: too large to keep its before-images

    @property
    def seq(self) -> int:
        return int(self.entry_id)
