"""The records jtt keeps: pydantic v2 models with validation at the edge.

Field names are snake_case in Python and in the SQLite JSON documents; the
camelCase aliases (``ticketNumber``, ``startTime`` …) are the MongoDB schema
and are accepted on input too.
"""

import itertools
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from jtt_tui.domain import money
from jtt_tui.domain.money import NumberFormat
from jtt_tui.domain.types import (
    Address,
    Color,
    Currency,
    Duration,
    Email,
    InvoiceNumber,
    LineText,
    LongText,
    Money,
    Percent,
    ProjectKey,
    Quantity,
    RecordId,
    RequiredName,
    ShortText,
    Tags,
    TicketNumber,
    UserId,
    UtcDatetime,
    new_id,
)

FORMAT_VERSION: Final = 1


class Model(BaseModel):
    """Base for every domain model: unknown fields are an error, not ignored."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=False,
        defer_build=True,
    )


class Record(Model):
    """A stored record: owned by a user, stamped, versioned for optimistic
    concurrency (a save carrying a stale ``version`` is refused)."""

    user_id: str = ""
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    version: int = Field(default=0, ge=0)


class SessionStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"


ACTIVE_STATUSES = frozenset({SessionStatus.RUNNING, SessionStatus.PAUSED})


class WorklogState(StrEnum):
    PENDING = "pending"  # on its way to Jira (or unknown: a retry checks first)
    PUSHED = "pushed"
    FAILED = "failed"  # Jira refused it; ``error`` says why
    # deleted in Jira and kept here only, on purpose (reconcile's "forget"):
    # never pushed again
    LOCAL = "local"


class WorklogLink(Model):
    """Where a segment's time went in Jira, or is going: the worklog id once
    Jira has it, and what was sent (a change of either re-sends it)."""

    # our marker, also written into the worklog's comment: finds the worklog
    # again after a timeout that hid Jira's answer
    push_id: str = Field(pattern=r"^[0-9a-f]{16,40}$")
    state: WorklogState = WorklogState.PENDING
    worklog_id: str | None = Field(default=None, max_length=40, pattern=r"^[0-9]+$")
    issue: TicketNumber
    started: UtcDatetime
    seconds: int = Field(ge=0, le=10 * 86_400)
    error: LongText = ""
    at: UtcDatetime | None = None


class Segment(Model):
    """One stretch of work. ``end`` is None while the timer runs."""

    start: UtcDatetime = Field(alias="startTime")
    end: UtcDatetime | None = Field(default=None, alias="endTime")
    invoice_id: RecordId | None = None
    worklog: WorklogLink | None = None
    # set when the user said a timer left running for long was real work
    # (the forgotten-timer question): it is not asked again, and it may
    # close longer than a day
    confirmed: UtcDatetime | None = Field(default=None, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError(
                f"a segment cannot end ({self.end:%Y-%m-%d %H:%M}) before it starts "
                f"({self.start:%Y-%m-%d %H:%M})"
            )
        return self

    @property
    def is_open(self) -> bool:
        return self.end is None

    def duration(self, now: datetime) -> timedelta:
        """Wall-clock length; an open segment counts up to ``now``."""
        end = self.end if self.end is not None else now
        return max(end - self.start, timedelta(0))

    def overlap(self, start: datetime, end: datetime, now: datetime) -> timedelta:
        """How much of this segment falls inside ``[start, end)``."""
        seg_end = self.end if self.end is not None else now
        inside = min(seg_end, end) - max(self.start, start)
        return max(inside, timedelta(0))


class Session(Record):
    """One Jira ticket's tracking record, keyed by ``ticket_number``."""

    ticket_number: TicketNumber
    ticket_name: ShortText = ""
    project_id: RecordId | None = None
    description: LongText = ""
    tags: Tags = Field(default_factory=list)
    status: SessionStatus = SessionStatus.STOPPED
    segments: list[Segment] = Field(default_factory=list)
    notes: LongText = ""
    story_points: Quantity | None = None

    @model_validator(mode="after")
    def _segments_consistent(self) -> Self:
        segments = self.segments
        for earlier, later in itertools.pairwise(segments):
            if earlier.end is None:
                raise ValueError(
                    f"{self.ticket_number}: only the last segment may be open (still running)"
                )
            if later.start < earlier.end:
                raise ValueError(
                    f"{self.ticket_number}: segments overlap or are out of order "
                    f"(one ends {earlier.end:%Y-%m-%d %H:%M:%S}, the next starts "
                    f"{later.start:%Y-%m-%d %H:%M:%S})"
                )
        has_open = bool(segments) and segments[-1].end is None
        if has_open != (self.status == SessionStatus.RUNNING):
            if has_open:
                raise ValueError(
                    f"{self.ticket_number}: status is {self.status} but its last segment "
                    "is still open"
                )
            raise ValueError(f"{self.ticket_number}: status is running but no segment is open")
        return self

    @property
    def project_key(self) -> str:
        """The Jira project key prefix of the ticket (``WEB`` for ``WEB-12``)."""
        return self.ticket_number.rsplit("-", 1)[0]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def open_segment(self) -> Segment | None:
        if self.segments and self.segments[-1].end is None:
            return self.segments[-1]
        return None

    @property
    def first_start(self) -> datetime | None:
        return self.segments[0].start if self.segments else None

    @property
    def last_end(self) -> datetime | None:
        """End of the last segment; None when there is none or it is open."""
        return self.segments[-1].end if self.segments else None

    def closed_duration(self) -> timedelta:
        """Sum of finished segments (what a stored record can state exactly)."""
        return sum(
            (seg.end - seg.start for seg in self.segments if seg.end is not None), timedelta(0)
        )

    def elapsed(self, now: datetime) -> timedelta:
        """Total tracked time, derived only from segment timestamps."""
        return sum((seg.duration(now) for seg in self.segments), timedelta(0))

    def elapsed_between(self, start: datetime, end: datetime, now: datetime) -> timedelta:
        """Tracked time inside ``[start, end)``, e.g. today's total."""
        return sum((seg.overlap(start, end, now) for seg in self.segments), timedelta(0))

    def touches(self, start: datetime, end: datetime, now: datetime) -> bool:
        """Whether any segment lies (even partly) inside ``[start, end)``; one
        that merely ends where the range begins does not."""
        for seg in self.segments:
            seg_end = seg.end if seg.end is not None else now
            if seg.start < end and (seg_end > start or seg.start >= start):
                return True
        return False


class Ticket(Record):
    """A known Jira ticket (imported, typed in, or cached from Jira) that a
    timer can be started on: its summary, story points and project."""

    ticket_number: TicketNumber
    ticket_name: ShortText = ""
    story_points: Quantity | None = None
    project_id: RecordId | None = None
    jira_status: ShortText = ""
    # Jira's status category is Done: Jira refuses worklogs on it
    jira_done: bool = Field(default=False, exclude_if=lambda v: not v)
    source: Literal["manual", "electron", "csv", "jira"] = "manual"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class Rounding(Model):
    """How tracked time is billed: each entry (a segment, a manual entry)
    rounded ``up`` or to the ``nearest`` multiple of ``minutes``, and never
    billed under ``minimum_minutes``. ``none`` bills exact time. Raw times are
    never changed; only the billed hours are."""

    mode: Literal["none", "up", "nearest"] = "none"
    minutes: Literal[1, 6, 15, 30] = 15
    minimum_minutes: int = Field(default=0, ge=0, le=480)

    def describe(self) -> str:
        if self.mode == "none":
            text = "exact time"
        else:
            text = f"each entry {'up' if self.mode == 'up' else 'to the nearest'} " + (
                f"{self.minutes} min"
            )
        if self.minimum_minutes:
            text += f", at least {self.minimum_minutes} min"
        return text


class Client(Model):
    name: ShortText = ""
    email: Email = ""
    address: Address = ""


class Project(Record):
    project_id: RecordId = Field(default_factory=new_id)
    key: ProjectKey
    name: RequiredName
    description: LongText = ""
    status: ProjectStatus = ProjectStatus.ACTIVE
    color: Color | None = None
    hourly_rate: Money | None = None
    currency: Currency | None = None
    client: Client = Field(default_factory=Client)
    estimated_hours: Quantity | None = None
    budget: Money | None = None
    start_date: date | None = None
    end_date: date | None = None
    tags: Tags = Field(default_factory=list)
    team_members: list[UserId] = Field(default_factory=list, max_length=500)
    rounding: Rounding | None = None  # None: the billing settings' rounding

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(
                f"the end date {self.end_date} is before the start date {self.start_date}"
            )
        return self


class ManualTask(Record):
    """Time entered by hand (a meeting, a call) rather than timed."""

    task_id: RecordId = Field(default_factory=new_id)
    title: RequiredName
    description: LongText = ""
    project_id: RecordId | None = None
    ticket_number: TicketNumber | None = None
    duration: Duration = timedelta(0)
    date: date
    category: ShortText = ""
    billable: bool = True
    hourly_rate: Money | None = None
    tags: Tags = Field(default_factory=list)
    invoice_id: RecordId | None = None
    # where this entry's time went in Jira (entries with a ticket are pushed
    # like segments; one imported from Jira carries the worklog it came from)
    worklog: WorklogLink | None = Field(default=None, exclude_if=lambda v: v is None)


class Company(Model):
    name: ShortText = ""
    address: LongText = ""
    email: Email = ""
    phone: ShortText = ""
    tax_id: ShortText = ""


class BillingSettings(Record):
    """One per user. ``next_invoice_number`` is the counter that
    ``Storage.next_invoice_number()`` hands out and advances atomically."""

    global_hourly_rate: Money = Decimal("0")
    project_rates: dict[ProjectKey, Money] = Field(default_factory=dict)
    currency: Currency = "USD"
    tax_rate: Percent = Decimal("0")
    company: Company = Field(default_factory=Company)
    invoice_prefix: str = Field(default="INV", max_length=20, pattern=r"^[A-Za-z0-9_/-]*$")
    next_invoice_number: int = Field(default=1001, ge=1, le=10**12)
    payment_terms: ShortText = "Net 30"
    bank_details: LongText = ""
    rounding: Rounding = Field(default_factory=Rounding)
    # how amounts are written everywhere: the currency's custom, or one style
    number_format: NumberFormat = "auto"

    def format_invoice_number(self, number: int) -> str:
        return f"{self.invoice_prefix}-{number}" if self.invoice_prefix else str(number)


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class InvoiceLine(Model):
    description: LineText
    ticket_number: TicketNumber | None = None
    task_id: RecordId | None = None
    hours: Quantity  # billed (after rounding)
    tracked_hours: Quantity | None = None  # as tracked, when rounding changed it
    rate: Money
    amount: Money


class BilledEntry(Model):
    """A piece of tracked time an invoice covers: a segment (ticket + its
    start) or a manual entry. Time covered by a non-cancelled invoice is
    never billed again."""

    ticket_number: TicketNumber | None = None
    segment_start: UtcDatetime | None = None
    task_id: RecordId | None = None
    # the tracked seconds billed: a draft whose time no longer matches them
    # is out of date (None on invoices made before this was kept)
    seconds: int | None = Field(default=None, ge=0, exclude_if=lambda v: v is None)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        segment = self.ticket_number is not None and self.segment_start is not None
        if segment == (self.task_id is not None):
            raise ValueError("an entry is either a segment (ticket and start) or a task")
        return self


class Invoice(Record):
    invoice_id: RecordId = Field(default_factory=new_id)
    invoice_number: InvoiceNumber
    client_id: ShortText | None = None
    project_id: RecordId | None = None
    status: InvoiceStatus = InvoiceStatus.DRAFT
    issue_date: date
    due_date: date | None = None
    paid_date: date | None = None
    items: list[InvoiceLine] = Field(default_factory=list, max_length=10_000)
    subtotal: Money = Decimal("0")
    tax_rate: Percent = Decimal("0")
    tax_amount: Money = Decimal("0")
    total: Money = Decimal("0")
    currency: Currency = "USD"
    notes: LongText = ""
    billed: list[BilledEntry] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _totals_add_up(self) -> Self:
        expected = money.invoice_totals(
            [line.amount for line in self.items], self.tax_rate, self.currency
        )
        if (self.subtotal, self.tax_amount, self.total) != (
            expected.subtotal,
            expected.tax,
            expected.total,
        ):
            raise ValueError(
                f"invoice {self.invoice_number}: totals do not add up (subtotal "
                f"{self.subtotal}, tax {self.tax_amount}, total {self.total}; the lines give "
                f"{expected.subtotal} + {expected.tax} = {expected.total})"
            )
        if self.due_date and self.due_date < self.issue_date:
            raise ValueError(f"invoice {self.invoice_number}: due date is before the issue date")
        return self


# The record collections of a bundle (and of a store), by field name.
ALL_DATA_KINDS = ("sessions", "projects", "manual_tasks", "billing_settings", "invoices", "tickets")


class DataBundle(Model):
    """Everything one user has: the unit of export, import and migration."""

    format_version: Literal[1] = FORMAT_VERSION
    app: Literal["jtt"] = "jtt"
    exported_at: UtcDatetime | None = None
    user_id: str = ""
    sessions: list[Session] = Field(default_factory=list)
    projects: list[Project] = Field(default_factory=list)
    manual_tasks: list[ManualTask] = Field(default_factory=list)
    billing_settings: BillingSettings | None = None
    invoices: list[Invoice] = Field(default_factory=list)
    tickets: list[Ticket] = Field(default_factory=list)

    @model_validator(mode="after")
    def _keys_unique(self) -> Self:
        for label, keys in (
            ("known ticket", (t.ticket_number for t in self.tickets)),
            ("ticket", (s.ticket_number for s in self.sessions)),
            ("project id", (p.project_id for p in self.projects)),
            ("manual task id", (t.task_id for t in self.manual_tasks)),
            ("invoice id", (i.invoice_id for i in self.invoices)),
        ):
            duplicate = _first_duplicate(keys)
            if duplicate is not None:
                raise ValueError(f"the {label} {duplicate} appears twice")
        return self

    def record_count(self) -> int:
        return (
            len(self.sessions)
            + len(self.projects)
            + len(self.manual_tasks)
            + len(self.invoices)
            + len(self.tickets)
            + (1 if self.billing_settings else 0)
        )


def _first_duplicate(keys: Iterable[str]) -> str | None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            return key
        seen.add(key)
    return None
