"""The one storage interface both backends implement.

Public CRUD methods are written once here on top of a handful of primitives
(``_load``, ``_load_all``, ``_store``, ``_remove``) that each backend
implements; queries that should run inside the database (date ranges, active
timers, invoice filters, the invoice counter, bulk import) are abstract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Hashable, Iterable, Iterator, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol, runtime_checkable

from jtt_tui.domain.clock import Clock, SystemClock
from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import (
    BillingSettings,
    DataBundle,
    Invoice,
    InvoiceStatus,
    ManualTask,
    Project,
    Record,
    Session,
    SessionStatus,
    Ticket,
)
from jtt_tui.domain.timer import TimerMachine
from jtt_tui.storage.bulk import batched, gc_paused
from jtt_tui.storage.crypto import NO_ENCRYPTION, FieldCipher
from jtt_tui.storage.errors import ConflictError, InvalidChangeError, NotFoundError
from jtt_tui.storage.kinds import (
    ALL_KINDS,
    BILLING,
    INVOICES,
    MANUAL_TASKS,
    PROJECTS,
    PROTECTED_FIELDS,
    SESSIONS,
    TICKETS,
    Kind,
    R,
)

ImportMode = Literal["merge", "replace"]

# Records decoded at a time when a whole kind is read in order (an export):
# what is held in memory is a batch, not the store.
READ_BATCH = 500


@dataclass(frozen=True)
class Stored:
    """A kind's records as the store holds them, a batch at a time
    (:meth:`Storage.stored`): ``check`` validates a batch into its records.
    ``as_text``: a batch is stored text (cheap to hand to another process
    to check: an export shares that work with a second core)."""

    batches: Iterator[list[Any]]
    check: Callable[[list[Any]], list[Any]]
    as_text: bool = False


# How often a partial update re-reads and re-applies itself when another
# writer got in between (each attempt is a fresh read, so nothing is lost).
UPDATE_ATTEMPTS = 8
META_FIELDS = frozenset({"user_id", "version", "created_at", "updated_at"})


@dataclass(frozen=True)
class ProjectTime:
    """Finished time of the sessions of one (project id, ticket prefix) pair,
    summed in the database. ``project_id`` is None for sessions that belong
    to a project only by their ticket prefix."""

    project_id: str | None
    project_key: str
    closed: timedelta


@dataclass(frozen=True)
class TrackedTime:
    """Time of one ticket on one local day (segments counted on the day they
    start; a running one up to now), summed in the database."""

    day: int  # local days since 1970-01-01
    project_id: str | None
    ticket_number: str
    seconds: int


# A local calendar as the database can apply it: from each UTC instant (epoch
# ms) on, the UTC offset (ms) in force; the first entry covers everything before.
Offsets = list[tuple[int, int]]
DAY_MS = 86_400_000


def offset_at(moment_ms: int, offsets: Offsets) -> int:
    offset = offsets[0][1]
    for since, value in offsets:
        if moment_ms >= since:
            offset = value
    return offset


def local_day_of(moment_ms: int, offsets: Offsets) -> int:
    return (moment_ms + offset_at(moment_ms, offsets)) // DAY_MS


def split_days(start_ms: int, end_ms: int, offsets: Offsets) -> list[tuple[int, int]]:
    """``[start, end)`` cut at local midnights: (local day, milliseconds)."""
    pieces: list[tuple[int, int]] = []
    cursor = start_ms
    while cursor < end_ms:
        day = local_day_of(cursor, offsets)
        midnight_local = (day + 1) * DAY_MS
        boundary = midnight_local - offset_at(midnight_local - offset_at(cursor, offsets), offsets)
        if boundary <= cursor:  # (cannot happen with real offsets; never loop forever)
            boundary = cursor + DAY_MS
        piece_end = min(end_ms, boundary)
        pieces.append((day, piece_end - cursor))
        cursor = piece_end
    return pieces


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def add_pieces(
    totals: dict[tuple[int, str | None, str], int],
    project: str | None,
    ticket: str,
    pieces: list[tuple[int, int]],
) -> None:
    for day, ms in pieces:
        key = (day, project, ticket)
        totals[key] = totals.get(key, 0) + ms


def tracked_rows(totals: dict[tuple[int, str | None, str], int]) -> list[TrackedTime]:
    ordered = sorted(totals.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1] or ""))
    return [TrackedTime(d, p, t, ms // 1000) for (d, p, t), ms in ordered]


@dataclass(frozen=True)
class Write:
    """One conditional write of a :meth:`Storage.commit`: ``record`` stored
    (None: the record deleted) iff the stored version is still
    ``expected_version`` (0: it must not exist yet). ``before`` is the record
    as read, for a store that has to take an earlier write back by hand."""

    kind: Kind
    key: str
    record: Record | None
    expected_version: int
    before: Record | None = None


@dataclass
class KindReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_existing: int = 0
    deleted: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated


@dataclass
class ImportReport:
    """What an import did, per collection, plus the records where the store
    held a newer version than the bundle (kept, and listed here) and those
    where a different stored version was overwritten by the bundle's."""

    mode: ImportMode
    kinds: dict[str, KindReport] = field(default_factory=dict)
    kept_existing: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)

    def for_kind(self, kind: Kind) -> KindReport:
        return self.kinds.setdefault(kind.name, KindReport())

    @property
    def written(self) -> int:
        return sum(report.written for report in self.kinds.values())


Decision = Literal["insert", "update", "unchanged", "keep"]


def content_of(record: Record) -> dict[str, Any]:
    """A record's data without the bookkeeping fields (for comparisons)."""
    return record.model_dump(exclude=set(META_FIELDS))


def decide_import(existing: Record | None, incoming: Record) -> Decision:
    """Merge rule shared by both backends: new keys are inserted, identical
    content is left alone, otherwise the newer ``updated_at`` wins (ties and
    undated incoming records keep what the store has)."""
    if existing is None:
        return "insert"
    if content_of(existing) == content_of(incoming):
        return "unchanged"
    if existing.updated_at is None:
        return "update"
    if incoming.updated_at is not None and incoming.updated_at > existing.updated_at:
        return "update"
    return "keep"


def imported_version(existing: Record | None, incoming: Record) -> int:
    """Version an imported record is stored with: its own, but always past the
    stored one so clients holding the old version get a conflict, not a lost
    update."""
    if existing is None:
        return max(incoming.version, 1)
    return incoming.version if incoming.version > existing.version else existing.version + 1


def plan_import_record(
    kind: Kind[R],
    existing: R | None,
    incoming: R,
    report: ImportReport,
    *,
    user_id: str,
    now: datetime,
) -> R | None:
    """Apply the import rule to one record: returns the record to write (with
    owner, version and timestamps settled) or None when nothing is written.
    Counts go into ``report``. In ``replace`` mode the bundle always wins."""
    counts = report.for_kind(kind)
    decision = decide_import(existing, incoming)
    if decision == "keep" and report.mode == "replace":
        decision = "update"
    if decision == "unchanged":
        counts.unchanged += 1
        return None
    if decision == "keep":
        counts.kept_existing += 1
        report.kept_existing.append((kind.name, kind.key_of(incoming)))
        return None
    if existing is None:
        counts.inserted += 1
    else:
        counts.updated += 1
        report.replaced.append((kind.name, kind.key_of(incoming)))
    return incoming.model_copy(
        update={
            "user_id": existing.user_id if existing else user_id,
            "version": imported_version(existing, incoming),
            "created_at": (existing.created_at if existing else None) or incoming.created_at or now,
            "updated_at": incoming.updated_at or now,
        }
    )


def imported_settings(settings: BillingSettings, user_id: str) -> BillingSettings:
    """Billing settings as imported: re-keyed to ``user_id`` (an import
    always lands in the importing user's space)."""
    return settings.model_copy(update={"user_id": user_id})


def bundle_records(bundle: DataBundle, user_id: str) -> list[tuple[Kind, list[Record]]]:
    """The bundle's records per kind, billing settings re-keyed to ``user_id``
    (an import always lands in the importing user's space)."""
    billing: list[Record] = []
    if bundle.billing_settings is not None:
        billing = [imported_settings(bundle.billing_settings, user_id)]
    return [
        (SESSIONS, list(bundle.sessions)),
        (PROJECTS, list(bundle.projects)),
        (MANUAL_TASKS, list(bundle.manual_tasks)),
        (BILLING, billing),
        (INVOICES, list(bundle.invoices)),
        (TICKETS, list(bundle.tickets)),
    ]


def bundle_batches(
    bundle: DataBundle, user_id: str, size: int = READ_BATCH
) -> Iterator[tuple[Kind, list[Record]]]:
    """The bundle's records (as :func:`bundle_records`) in batches of
    ``size``, kind by kind: what :meth:`Storage.import_batches` takes."""
    for kind, records in bundle_records(bundle, user_id):
        for start in range(0, len(records), size):
            yield kind, records[start : start + size]


# What an import reports of each record it changes: (kind, key, as stored
# before (None: new), as written (None: deleted)).
ImportWatch = Callable[[Kind, str, Record | None, Record | None], None]


def visible_to(kind: Kind, record: Record, user_id: str) -> bool:
    """Whether ``user_id`` may see ``record`` (owner, or team member of a project)."""
    if record.user_id == user_id:
        return True
    return kind is PROJECTS and user_id in getattr(record, "team_members", [])


def sort_active(sessions: list[Session]) -> list[Session]:
    """Running timers first, then the most recently paused."""

    def order(session: Session) -> tuple[bool, float]:
        last = session.last_end or session.first_start
        return (session.status != SessionStatus.RUNNING, -last.timestamp() if last else 0.0)

    return sorted(sessions, key=order)


class Storage(ABC):
    """A user's view of one store. Every method is synchronous and may block:
    call it from a worker thread, never the UI thread."""

    def __init__(self, user_id: str, *, clock: Clock | None = None) -> None:
        if not user_id or not user_id.strip():
            raise ValueError("a store needs a user id")
        self._user_id = user_id.strip()
        self.clock: Clock = clock or SystemClock()
        # field encryption of the stored form (off unless the factory sets it)
        self.cipher: FieldCipher = NO_ENCRYPTION

    # -- lifecycle -----------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    @abstractmethod
    def kind(self) -> str:
        """``"local"`` or ``"mongodb"``."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the data lives, safe to show (file path or redacted URI)."""

    @abstractmethod
    def connect(self) -> None:
        """Open the store (create/migrate the schema, build indexes)."""

    @abstractmethod
    def disconnect(self) -> None: ...

    @abstractmethod
    def is_connected(self) -> bool: ...

    @abstractmethod
    def health_check(self) -> bool:
        """True when the store answers right now (never raises)."""

    def __enter__(self) -> Storage:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    # -- primitives each backend implements --------------------------------------

    @abstractmethod
    def _load(self, kind: Kind[R], key: str) -> R | None:
        """The record visible to this user under ``key``, or None."""

    @abstractmethod
    def _load_all(self, kind: Kind[R]) -> list[R]:
        """Every record of ``kind`` visible to this user."""

    @abstractmethod
    def _store(self, kind: Kind[R], record: R, expected_version: int) -> R:
        """Write ``record`` iff the stored version equals ``expected_version``
        (0 = must not exist yet), in one atomic step; raise ConflictError
        otherwise. ``record`` already carries the new version and timestamps;
        the store keeps the stored ``created_at`` and owner. Returns what was
        stored."""

    @abstractmethod
    def _remove(self, kind: Kind, key: str) -> bool: ...

    # -- queries that run in the database ------------------------------------------

    @abstractmethod
    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        """Sessions with any segment touching ``[start, end)`` (a running one
        counts up to now), oldest first."""

    def iter_sessions_between(
        self, start: datetime, end: datetime, skip: Container[str] = frozenset()
    ) -> Iterator[Session]:
        """:meth:`sessions_between` a batch at a time where the backend can
        (the ledger's check of a big import), without the tickets in
        ``skip`` (not even read, where the backend can); this version reads
        them all."""
        return (s for s in self.sessions_between(start, end) if s.ticket_number not in skip)

    @abstractmethod
    def active_sessions(self) -> list[Session]:
        """Running and paused sessions."""

    @abstractmethod
    def recent_sessions(
        self, limit: int = 50, offset: int = 0, text: str | None = None
    ) -> list[Session]:
        """One page of sessions, most recently worked on first; ``text``
        narrows to tickets whose number or name contains it (any case)."""

    @abstractmethod
    def time_by_project(self) -> list[ProjectTime]:
        """Finished time summed per project (in the database, not in Python)."""

    @abstractmethod
    def sessions_for_project(self, project_id: str, key: str) -> list[Session]:
        """Sessions of a project: its id, or no id and the project's key prefix."""

    def tracked_time(self, start: datetime, end: datetime, offsets: Offsets) -> list[TrackedTime]:
        """Seconds per (local day, project id, ticket) of segment time inside
        ``[start, end)`` — a running segment up to now, a segment across
        local midnight split between its days. Backends override this to
        aggregate in the database; this version works on any store."""
        lo, hi = _ms(start), _ms(end)
        now = _ms(self.clock.now())
        totals: dict[tuple[int, str | None, str], int] = {}
        for session in self.sessions_between(start, end):
            for segment in session.segments:
                seg_start = _ms(segment.start)
                seg_end = _ms(segment.end) if segment.end is not None else now
                pieces = split_days(max(seg_start, lo), min(seg_end, hi), offsets)
                add_pieces(totals, session.project_id, session.ticket_number, pieces)
        return tracked_rows(totals)

    def team_time(self, project: Project) -> list[tuple[str, timedelta]]:
        """Finished time on ``project`` per person of its team (owner and
        members), summed in the database; only for people who can see the
        project. This version knows only this user's own sessions."""
        if not visible_to(PROJECTS, project, self.user_id):
            return []
        own = sum(
            (
                s.closed_duration()
                for s in self.sessions_for_project(project.project_id, project.key)
            ),
            timedelta(0),
        )
        return [(self.user_id, own)]

    @abstractmethod
    def owners(self) -> dict[str, int]:
        """Records per user id in the store, whoever they belong to (the
        store knows its owners: see ``storage/owners.py``)."""

    @abstractmethod
    def manual_tasks_between(self, first: date, last: date) -> list[ManualTask]:
        """Manual entries dated ``first`` to ``last`` (inclusive), by date."""

    @abstractmethod
    def get_invoices(
        self,
        status: InvoiceStatus | str | None = None,
        client_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Invoice]:
        """Invoices, newest issue date first, optionally filtered."""

    # -- change notification ---------------------------------------------------------

    @abstractmethod
    def change_token(self) -> Hashable:
        """A value that differs whenever this user's data may have changed in
        the store — written by another process or machine. One quick read,
        polled about once a second: never a reload."""

    def wait_for_change(self, timeout_s: float) -> bool | None:
        """Wait up to ``timeout_s`` for the store to say something changed
        (a MongoDB change stream); None when it cannot say (then poll
        :meth:`change_token`)."""
        return None

    # -- the journal -----------------------------------------------------------------

    @abstractmethod
    def journal_entries(self, limit: int = 20, before: int | None = None) -> list[JournalEntry]:
        """This user's journal, newest first: ``limit`` entries numbered
        below ``before`` (None: from the newest)."""

    @abstractmethod
    def last_journal_seq(self) -> int:
        """The number of this user's newest journal entry (0: none yet)."""

    @abstractmethod
    def prune_journal(self, keep: int, older_than: datetime) -> int:
        """Drop this user's entries beyond the newest ``keep`` and those
        written before ``older_than``; returns how many went."""

    @abstractmethod
    def next_invoice_number(self) -> str:
        """Hand out the next invoice number (e.g. ``INV-1001``) and advance the
        counter, atomically: concurrent callers never get the same number."""

    @abstractmethod
    def import_all(
        self,
        bundle: DataBundle,
        mode: ImportMode = "merge",
        journal: JournalEntry | None = None,
    ) -> ImportReport:
        """Write a whole bundle. ``merge`` keeps records not in the bundle and
        lets the newer ``updated_at`` win; ``replace`` leaves exactly the
        bundle's records for this user. All or nothing. ``journal`` (stamped,
        see :meth:`stamped`) is written with it: a taken number is a
        ConflictError and nothing is imported."""

    # Whether this store imports a batch at a time (see BatchImporter): an
    # import then holds a batch of records, not the file (a store without it
    # imports the whole bundle)
    streams_import = False

    def load(self, kind: Kind[R], key: str) -> R | None:
        """The record of ``kind`` under ``key`` visible to this user, or None
        (for code that handles any kind, such as the journal's undo)."""
        return self._load(kind, key)

    def load_all(self, kind: Kind[R]) -> list[R]:
        """Every record of ``kind`` visible to this user."""
        return self._load_all(kind)

    # -- sessions ------------------------------------------------------------------

    def get_sessions(self) -> dict[str, Session]:
        return {s.ticket_number: s for s in self._load_all(SESSIONS)}

    def get_session(self, ticket_number: str) -> Session | None:
        return self._load(SESSIONS, _ticket_key(ticket_number))

    def save_session(self, session: Session) -> Session:
        return self._save(SESSIONS, session)

    def update_session(
        self, ticket_number: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> Session:
        return self._update(SESSIONS, _ticket_key(ticket_number), changes, expected_version)

    def modify_session(self, ticket_number: str, change: Callable[[Session], Session]) -> Session:
        """Read the session, apply ``change``, write conditionally; on a
        concurrent write, read again and re-apply. ``change`` may raise to
        give up (nothing is written)."""
        return self._modify(SESSIONS, _ticket_key(ticket_number), change)

    def delete_session(self, ticket_number: str) -> bool:
        return self._remove(SESSIONS, _ticket_key(ticket_number))

    def update_session_status(self, ticket_number: str, status: SessionStatus | str) -> Session:
        """Move a timer to ``status`` through the timer state machine (closing
        or opening segments as needed); illegal moves raise IllegalTransition."""
        machine = TimerMachine(self.clock)
        target = SessionStatus(status)
        return self._modify(
            SESSIONS, _ticket_key(ticket_number), lambda s: machine.apply(s, target)
        )

    # -- projects -------------------------------------------------------------------

    def get_projects(self) -> list[Project]:
        """Projects this user owns or is a team member of, by key."""
        return sorted(self._load_all(PROJECTS), key=lambda p: (p.key, p.name, p.project_id))

    def get_project(self, project_id: str) -> Project | None:
        return self._load(PROJECTS, project_id)

    def save_project(self, project: Project) -> Project:
        return self._save(PROJECTS, project)

    def update_project(
        self, project_id: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> Project:
        return self._update(PROJECTS, project_id, changes, expected_version)

    def delete_project(self, project_id: str) -> bool:
        return self._remove(PROJECTS, project_id)

    # -- manual tasks ---------------------------------------------------------------

    def get_manual_tasks(self) -> list[ManualTask]:
        """Manual entries, newest date first."""
        tasks = self._load_all(MANUAL_TASKS)
        return sorted(tasks, key=lambda t: (t.date, t.created_at or t.date), reverse=True)

    def get_manual_task(self, task_id: str) -> ManualTask | None:
        return self._load(MANUAL_TASKS, task_id)

    def save_manual_task(self, task: ManualTask) -> ManualTask:
        return self._save(MANUAL_TASKS, task)

    def update_manual_task(
        self, task_id: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> ManualTask:
        return self._update(MANUAL_TASKS, task_id, changes, expected_version)

    def modify_manual_task(
        self, task_id: str, change: Callable[[ManualTask], ManualTask]
    ) -> ManualTask:
        """Like :meth:`modify_session`, for a manual entry."""
        return self._modify(MANUAL_TASKS, task_id, change)

    def delete_manual_task(self, task_id: str) -> bool:
        return self._remove(MANUAL_TASKS, task_id)

    # -- billing settings -----------------------------------------------------------

    def get_billing_settings(self) -> BillingSettings:
        """This user's settings, or the defaults (version 0) if never saved."""
        stored = self._load(BILLING, self.user_id)
        return stored if stored is not None else BillingSettings(user_id=self.user_id)

    def save_billing_settings(self, settings: BillingSettings) -> BillingSettings:
        settings.user_id = self.user_id
        return self._save(BILLING, settings)

    def update_billing_settings(
        self, *, expected_version: int | None = None, **changes: Any
    ) -> BillingSettings:
        """Change some settings; creates the settings from the defaults first
        if none are stored."""
        if self._load(BILLING, self.user_id) is None:
            # Created concurrently by someone else: fine, we update that one.
            with suppress(ConflictError):
                self._save(BILLING, BillingSettings(user_id=self.user_id))
        return self._update(BILLING, self.user_id, changes, expected_version)

    # -- invoices -------------------------------------------------------------------

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        return self._load(INVOICES, invoice_id)

    def save_invoice(self, invoice: Invoice) -> Invoice:
        return self._save(INVOICES, invoice)

    def update_invoice(
        self, invoice_id: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> Invoice:
        return self._update(INVOICES, invoice_id, changes, expected_version)

    def delete_invoice(self, invoice_id: str) -> bool:
        return self._remove(INVOICES, invoice_id)

    # -- known tickets --------------------------------------------------------------

    def get_tickets(self) -> dict[str, Ticket]:
        """The catalogue of known tickets (imported, typed in, cached from Jira)."""
        return {t.ticket_number: t for t in self._load_all(TICKETS)}

    def get_ticket(self, ticket_number: str) -> Ticket | None:
        return self._load(TICKETS, _ticket_key(ticket_number))

    def save_ticket(self, ticket: Ticket) -> Ticket:
        return self._save(TICKETS, ticket)

    def update_ticket(
        self, ticket_number: str, /, *, expected_version: int | None = None, **changes: Any
    ) -> Ticket:
        return self._update(TICKETS, _ticket_key(ticket_number), changes, expected_version)

    def delete_ticket(self, ticket_number: str) -> bool:
        return self._remove(TICKETS, _ticket_key(ticket_number))

    # -- whole store ----------------------------------------------------------------

    def iter_records(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Iterator[R]:
        """Every record of ``kind`` visible to this user, in key order, read
        from the database ``batch_size`` at a time (so an export holds a
        batch, not the store). This version, for a store that cannot stream,
        loads the whole kind first."""
        return iter(sorted(self._load_all(kind), key=kind.key_of))

    def stored(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Stored:
        """:meth:`iter_records`, a batch at a time in the stored form, with
        the function that checks a batch into its records (which may run in
        another process; it never reads the database). This version: the
        records, already checked."""
        return Stored(batched(self.iter_records(kind, batch_size), batch_size), list)

    def export_records(self) -> Iterator[tuple[Kind, Record]]:
        """Everything this user has, as :meth:`export_all` orders it (kind by
        kind, each by key), one record at a time, all read in one state."""
        with self._consistent_read():
            for kind in ALL_KINDS:
                if kind is BILLING:
                    billing = self._load(BILLING, self.user_id)
                    if billing is not None:
                        yield BILLING, billing
                    continue
                for record in self.iter_records(kind):
                    yield kind, record

    def consistent_read(self) -> Any:
        """A context in which several reads see one state (an export that
        reads kind by kind)."""
        return self._consistent_read()

    def export_all(self) -> DataBundle:
        """Everything this user has, as one versioned bundle (in memory: a
        file export streams :meth:`export_records` instead)."""
        kinds: dict[str, list[Record]] = {kind.name: [] for kind in ALL_KINDS}
        with gc_paused():  # many small objects, no cycles (see bulk.py)
            for kind, record in self.export_records():
                kinds[kind.name].append(record)
        billing = kinds.pop(BILLING.name)
        return DataBundle.model_validate(
            {
                "exported_at": self.clock.now(),
                "user_id": self.user_id,
                **kinds,
                "billing_settings": billing[0] if billing else None,
            }
        )

    def preview_import(self, bundle: DataBundle, mode: ImportMode = "merge") -> ImportReport:
        """What :meth:`import_all` would do, computed from reads only (a dry
        run: nothing is written)."""
        report = ImportReport(mode=mode)
        now = self.clock.now()
        for kind, records in bundle_records(bundle, self.user_id):
            existing = {kind.key_of(r): r for r in self._load_all(kind)}
            for incoming in records:
                plan_import_record(
                    kind,
                    existing.get(kind.key_of(incoming)),
                    incoming,
                    report,
                    user_id=self.user_id,
                    now=now,
                )
            if mode == "replace":
                keep = {kind.key_of(r) for r in records}
                report.for_kind(kind).deleted = sum(
                    1
                    for key, r in existing.items()
                    if key not in keep and r.user_id == self.user_id
                )
        return report

    def count_records(self) -> dict[str, int]:
        """Number of visible records per collection (backends count natively)."""
        return {kind.name: len(self._load_all(kind)) for kind in ALL_KINDS}

    def _consistent_read(self) -> Any:
        """A context in which several reads see one state (backend hook)."""
        return nullcontext()

    # -- several writes as one change -------------------------------------------------

    def commit(self, writes: Sequence[Write]) -> list[Record | None]:
        """Make several conditional writes as one change: in one transaction
        where the backend has them (SQLite; MongoDB replica sets), else in
        order with earlier writes taken back if a later one conflicts. Any
        stale version is a ConflictError and nothing is changed. Returns what
        was stored (None for a deletion), in the order given."""
        now = self.clock.now()
        stamped = [
            w
            if w.record is None
            else Write(
                w.kind, w.key, self.stamped(w.record, w.expected_version, now), w.expected_version,
                w.before,
            )
            for w in writes
        ]  # fmt: skip
        return self._commit(stamped)

    def stamped(self, record: R, expected_version: int, now: datetime | None = None) -> R:
        """A copy of ``record`` as it is written over ``expected_version``:
        the next version, this user as owner (the backend keeps a stored
        record's owner), created and updated times."""
        now = now or self.clock.now()
        return record.model_copy(
            update={
                "user_id": self.user_id,
                "version": expected_version + 1,
                "updated_at": now,
                "created_at": record.created_at or now,
            }
        )

    def _commit(self, writes: Sequence[Write]) -> list[Record | None]:
        """The writes of :meth:`commit`, already stamped. This version, for
        stores without transactions, writes in order and takes the earlier
        writes back (conditionally) when one conflicts."""
        done: list[tuple[Write, Record | None]] = []
        try:
            for write in writes:
                if write.record is None:
                    self._delete(write.kind, write.key, write.expected_version)
                    done.append((write, None))
                else:
                    done.append(
                        (write, self._store(write.kind, write.record, write.expected_version))
                    )
        except ConflictError:
            self._take_back(done)
            raise
        return [stored for _write, stored in done]

    def _take_back(self, done: list[tuple[Write, Record | None]]) -> None:
        """Undo writes of a change that could not be completed, newest first,
        each only if nobody changed the record since (best effort: a store
        without transactions cannot do better)."""
        for write, stored in reversed(done):
            with suppress(ConflictError, NotFoundError):
                version = stored.version if stored is not None else 0
                if write.before is None:  # it was created: remove it again
                    self._delete(write.kind, write.key, version)
                else:  # changed or deleted: put the old version back
                    self._store(write.kind, self.stamped(write.before, version), version)

    def _delete(self, kind: Kind, key: str, expected_version: int) -> None:
        """Delete iff the stored version is ``expected_version`` (ConflictError
        otherwise). Backends do it in one step; this version reads first."""
        current = self._load(kind, key)
        if current is None or current.version != expected_version:
            raise ConflictError(
                kind.label, key, expected_version, current.version if current else None
            )
        self._remove(kind, key)

    # -- shared write logic ---------------------------------------------------------

    def _save(self, kind: Kind[R], record: R) -> R:
        """Optimistic save: succeeds only if nobody changed the record since
        ``record.version`` was read. On success the caller's object is updated
        in place (new version, timestamps, owner) and returned."""
        expected = record.version
        # The owner is always this user for a new record; for an existing one
        # the backend keeps the stored owner (a team member editing a project).
        stamped = self.stamped(record, expected)
        stored = self._store(kind, stamped, expected)
        for name in META_FIELDS:
            setattr(record, name, getattr(stored, name))
        return record

    def _update(
        self,
        kind: Kind[R],
        key: str,
        changes: dict[str, Any],
        expected_version: int | None,
    ) -> R:
        _check_changes(kind, changes)

        def merge(current: R) -> R:
            data = current.model_dump()
            data.update(changes)
            return kind.model.model_validate(data)

        return self._modify(kind, key, merge, expected_version)

    def _modify(
        self,
        kind: Kind[R],
        key: str,
        change: Callable[[R], R],
        expected_version: int | None = None,
    ) -> R:
        """Read, apply ``change``, write conditionally; on a concurrent write,
        read again and re-apply (unless the caller pinned a version)."""
        last_version = 0
        for _ in range(UPDATE_ATTEMPTS):
            current = self._load(kind, key)
            if current is None:
                raise NotFoundError(kind.label, key)
            last_version = current.version
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(kind.label, key, expected_version, current.version)
            updated = change(current)
            for name in META_FIELDS:
                setattr(updated, name, getattr(current, name))
            try:
                return self._save(kind, updated)
            except ConflictError:
                if expected_version is not None:
                    raise
        raise ConflictError(
            kind.label,
            key,
            last_version,
            last_version,
            detail=f"other writers kept changing it ({UPDATE_ATTEMPTS} attempts); try again",
        )


def _ticket_key(ticket_number: str) -> str:
    return ticket_number.strip().upper()


def _check_changes(kind: Kind, changes: dict[str, Any]) -> None:
    fields = kind.model.model_fields
    for name in changes:
        if name in PROTECTED_FIELDS or name == kind.key_field:
            raise InvalidChangeError(f"{kind.label}: {name} cannot be changed")
        if name not in fields:
            raise InvalidChangeError(
                f"{kind.label} has no field {name!r} (fields: {', '.join(sorted(fields))})"
            )


class DelegatedQueries(Storage):
    """A store that answers the database-side queries by handing each to
    another store chosen by :meth:`_query` (the remote or its offline copy;
    a dual store's primary). One list of delegations for every such store."""

    @abstractmethod
    def _query(self, call: Callable[[Storage], Any]) -> Any:
        """Run ``call`` on the store that should answer a read now."""

    def count_records(self) -> dict[str, int]:
        return self._query(lambda s: s.count_records())

    def iter_records(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Iterator[R]:
        return self._query(lambda s: s.iter_records(kind, batch_size))

    def stored(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Stored:
        return self._query(lambda s: s.stored(kind, batch_size))

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        return self._query(lambda s: s.sessions_between(start, end))

    def iter_sessions_between(
        self, start: datetime, end: datetime, skip: Container[str] = frozenset()
    ) -> Iterator[Session]:
        return self._query(lambda s: s.iter_sessions_between(start, end, skip))

    def active_sessions(self) -> list[Session]:
        return self._query(lambda s: s.active_sessions())

    def tracked_time(self, start: datetime, end: datetime, offsets: Offsets) -> list[TrackedTime]:
        return self._query(lambda s: s.tracked_time(start, end, offsets))

    def team_time(self, project: Project) -> list[tuple[str, timedelta]]:
        return self._query(lambda s: s.team_time(project))

    def owners(self) -> dict[str, int]:
        return self._query(lambda s: s.owners())

    def recent_sessions(
        self, limit: int = 50, offset: int = 0, text: str | None = None
    ) -> list[Session]:
        return self._query(lambda s: s.recent_sessions(limit, offset, text))

    def time_by_project(self) -> list[ProjectTime]:
        return self._query(lambda s: s.time_by_project())

    def sessions_for_project(self, project_id: str, key: str) -> list[Session]:
        return self._query(lambda s: s.sessions_for_project(project_id, key))

    def manual_tasks_between(self, first: date, last: date) -> list[ManualTask]:
        return self._query(lambda s: s.manual_tasks_between(first, last))

    def get_invoices(
        self,
        status: InvoiceStatus | str | None = None,
        client_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Invoice]:
        return self._query(lambda s: s.get_invoices(status, client_id, project_id))

    def journal_entries(self, limit: int = 20, before: int | None = None) -> list[JournalEntry]:
        return self._query(lambda s: s.journal_entries(limit, before))

    def change_token(self) -> Hashable:
        return self._query(lambda s: s.change_token())

    def last_journal_seq(self) -> int:
        return self._query(lambda s: s.last_journal_seq())


@runtime_checkable
class BatchImporter(Protocol):
    """A store that imports records as they arrive, in one transaction."""

    streams_import: bool

    def import_batches(
        self,
        batches: Iterable[tuple[Kind, list[Record]]],
        mode: ImportMode = "merge",
        *,
        watch: ImportWatch | None = None,
        close: Callable[[], JournalEntry | None] | None = None,
    ) -> ImportReport:
        """:meth:`Storage.import_all` of records that arrive in batches, kind
        by kind in the bundle's order, written as they come in one
        transaction: ``watch`` hears of every record changed (and deleted:
        ``replace``), and ``close``, called last inside the transaction, may
        refuse (the exception undoes everything) or return the journal entry
        written with it. An exception from ``batches`` undoes everything too."""
        ...


def batch_importer(store: Storage) -> BatchImporter | None:
    """``store`` if it imports a batch at a time now, else None (it imports
    whole bundles: MongoDB, the dual store, a service with an offline copy)."""
    if store.streams_import and isinstance(store, BatchImporter):
        return store
    return None
