"""The record kinds a store keeps, and how each is keyed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic.alias_generators import to_camel

from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import (
    BillingSettings,
    Invoice,
    ManualTask,
    Project,
    Record,
    Session,
    Ticket,
)

R = TypeVar("R", bound=Record)


@dataclass(frozen=True)
class Kind(Generic[R]):
    """A collection (MongoDB) / table (SQLite) of one record type."""

    name: str
    model: type[R]
    key_field: str
    # Keys unique per user (sessions by ticket, settings by user) rather than
    # globally (uuid ids of projects, tasks, invoices).
    per_user_key: bool

    @property
    def mongo_key(self) -> str:
        return to_camel(self.key_field)

    def key_of(self, record: Record) -> str:
        return str(getattr(record, self.key_field))

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").rstrip("s")


SESSIONS: Kind[Session] = Kind("sessions", Session, "ticket_number", per_user_key=True)
PROJECTS: Kind[Project] = Kind("projects", Project, "project_id", per_user_key=False)
MANUAL_TASKS: Kind[ManualTask] = Kind("manual_tasks", ManualTask, "task_id", per_user_key=False)
BILLING: Kind[BillingSettings] = Kind(
    "billing_settings", BillingSettings, "user_id", per_user_key=True
)
INVOICES: Kind[Invoice] = Kind("invoices", Invoice, "invoice_id", per_user_key=False)

TICKETS: Kind[Ticket] = Kind("tickets", Ticket, "ticket_number", per_user_key=True)

ALL_KINDS: tuple[Kind, ...] = (SESSIONS, PROJECTS, MANUAL_TASKS, BILLING, INVOICES, TICKETS)
KINDS_BY_NAME: dict[str, Kind] = {kind.name: kind for kind in ALL_KINDS}

# The undo journal: stored like the records (same conditional writes, same
# outbox while offline) but not user data: never exported, migrated or counted.
JOURNAL: Kind[JournalEntry] = Kind("journal", JournalEntry, "entry_id", per_user_key=True)

# Fields a partial update may never touch: identity and bookkeeping.
PROTECTED_FIELDS = frozenset({"user_id", "version", "created_at", "updated_at"})
