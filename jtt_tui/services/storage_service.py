"""The one store the app talks to.

``StorageService`` is itself a :class:`Storage`, so every service and screen
is written against one interface while the backend can change underneath:

- a local store: calls go straight to the SQLite file;
- a remote (MongoDB) store with an :class:`OfflineMirror`: while the server
  answers, calls go to it and every write is mirrored locally; when it stops
  answering, the service goes offline — reads come from the mirror, writes go
  to the mirror and its durable outbox — and a ``ConnectionLost`` event says
  why. Reconnecting replays the outbox in order, idempotently; a write whose
  record changed on the server meanwhile becomes a conflict for the user to
  settle (keep mine / keep theirs), never a silent overwrite.

``switch_to`` swaps the backend live, after the new one has been connected
and checked, without disturbing calls already in flight.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from jtt_tui.domain.journal import JournalEntry, entry_id
from jtt_tui.domain.models import DataBundle, Record
from jtt_tui.services.metrics import MetricsSnapshot, StorageMetrics
from jtt_tui.storage.base import (
    DelegatedQueries,
    ImportMode,
    ImportReport,
    ImportWatch,
    R,
    Storage,
    Write,
    batch_importer,
    content_of,
)
from jtt_tui.storage.errors import ConflictError, StorageError, StorageFailure, classify
from jtt_tui.storage.errors import failure as make_failure
from jtt_tui.storage.kinds import JOURNAL, Kind
from jtt_tui.storage.offline import OfflineMirror, OutboxEntry

log = logging.getLogger(__name__)
JOURNAL_COPY = 100  # journal entries the offline copy keeps (undo while offline)

State = Literal["connected", "offline", "reconnecting"]
# failures that mean "the remote is away", as opposed to a bad request
CONNECTION_KINDS = frozenset({"network", "timeout", "auth", "tls", "config", "permission"})


# -- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionLost:
    failure: StorageFailure


@dataclass(frozen=True)
class ConnectionRestored:
    replayed: int
    conflicts: int


@dataclass(frozen=True)
class RetryScheduled:
    seconds: float
    attempt: int


@dataclass(frozen=True)
class RetryFailed:
    """A reconnection attempt failed (the service stays offline)."""

    failure: StorageFailure


@dataclass(frozen=True)
class OutboxChanged:
    pending: int


@dataclass(frozen=True)
class Switched:
    kind: str
    location: str


Event = (
    ConnectionLost | ConnectionRestored | RetryScheduled | RetryFailed | OutboxChanged | Switched
)


@dataclass(frozen=True)
class PingResult:
    ok: bool
    latency_ms: float | None
    server_version: str | None
    failure: StorageFailure | None
    at: datetime


@dataclass(frozen=True)
class StorageInfo:
    kind: str
    location: str
    user_id: str
    state: State
    counts: dict[str, int]
    last_ping: PingResult | None
    pending: int
    conflicts: int = 0
    metrics: MetricsSnapshot | None = None


@dataclass(frozen=True)
class ReplayResult:
    replayed: int
    conflicts: list[OutboxEntry]


class _InFlight:
    """Counts calls using the backend, so a switch can wait for them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._switching = False

    @contextlib.contextmanager
    def use(self) -> Iterator[None]:
        with self._cond:
            while self._switching:
                self._cond.wait()
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self, timeout: float = 30.0) -> Iterator[None]:
        with self._cond:
            self._switching = True
            deadline = time.monotonic() + timeout
            while self._users and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
        try:
            yield
        finally:
            with self._cond:
                self._switching = False
                self._cond.notify_all()


class StorageService(DelegatedQueries):
    def __init__(
        self,
        backend: Storage,
        *,
        mirror: OfflineMirror | None = None,
        online: bool = True,
        failure: StorageFailure | None = None,
    ) -> None:
        super().__init__(backend.user_id, clock=backend.clock)
        self._remote = backend
        self._mirror = mirror
        self._online = online or mirror is None
        self._failure = failure
        self._state: State = "connected" if self._online else "offline"
        self._subscribers: list[Callable[[Event], None]] = []
        self._in_flight = _InFlight()
        self._lock = threading.RLock()
        # mirroring remote results, and a refresh of the whole mirror, take turns;
        # writes mirrored while a refresh reads the remote are applied again after it
        self._mirror_lock = threading.Lock()
        self._touched: list[tuple[Kind, str, Any]] | None = None
        self.last_ping: PingResult | None = None
        self.metrics = StorageMetrics()
        # writes that went to the outbox (not confirmed by the remote) since
        # this service opened: a command says so instead of claiming it is saved there
        self.queued_writes = 0
        self._heartbeat_watchers: list[Callable[[bool], None]] = []
        self._hear(backend)

    # -- state and events ------------------------------------------------------------

    @property
    def active(self) -> Storage:
        """What calls go to right now: the remote, or the mirror while offline."""
        if self._online or self._mirror is None:
            return self._remote
        return self._mirror

    @property
    def remote(self) -> Storage:
        return self._remote

    @property
    def mirror(self) -> OfflineMirror | None:
        return self._mirror

    @property
    def state(self) -> State:
        return self._state

    @property
    def online(self) -> bool:
        return self._online

    @property
    def failure(self) -> StorageFailure | None:
        """Why the remote is away (None while connected)."""
        return self._failure

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback`` with every event (from any thread); returns an
        unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _publish(self, event: Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def watch_heartbeats(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(ok)`` after each of the driver's own server checks
        (about once a second, on the driver's thread; remote stores only)."""
        self._heartbeat_watchers.append(callback)

    def _hear(self, backend: Storage) -> None:
        if hasattr(backend, "on_heartbeat"):
            backend.on_heartbeat = self._heartbeat

    def _heartbeat(self, ok: bool) -> None:
        for callback in list(self._heartbeat_watchers):
            callback(ok)

    def pending(self) -> int:
        """Writes waiting to be sent (also those of a dual-write store's MongoDB)."""
        if self._mirror is not None:
            return self._mirror.pending_count()
        inner = getattr(self._remote, "pending", None)
        return int(inner()) if callable(inner) else 0

    def conflicts(self) -> list[OutboxEntry]:
        return self._mirror.entries("conflict") if self._mirror is not None else []

    def set_reconnecting(self, seconds: float, attempt: int) -> None:
        if not self._online:
            self._state = "reconnecting"
            self._publish(RetryScheduled(seconds, attempt))

    def mark_offline(self, failure: StorageFailure) -> None:
        """The remote stopped answering (a failed health check)."""
        self._go_offline(failure)

    def _go_offline(self, failure: StorageFailure) -> None:
        with self._lock:
            was_online, before = self._online, self._failure
            self._online = False
            self._failure = failure
            self._state = "offline"
        if was_online or before is None or failure.kind != before.kind:
            log.warning(
                "connection to %s lost (%s): %s; working offline", self.location, failure.kind,
                failure.message,
            )  # fmt: skip
            self._publish(ConnectionLost(failure))  # news; a retry's failure is RetryFailed

    def _is_connection_failure(self, exc: StorageError) -> StorageFailure | None:
        if self._mirror is None:
            return None
        failure = classify(exc)
        return failure if failure.kind in CONNECTION_KINDS else None

    # -- calling the backend ---------------------------------------------------------

    def _call(self, read: Callable[[Storage], Any], *, write: bool = False) -> Any:
        """Run ``read`` on the active backend; if the remote turns out to be
        away, switch to offline and run it on the mirror instead."""
        return self._call_on(read, write=write)[0]

    def _call_on(self, read: Callable[[Storage], Any], *, write: bool = False) -> tuple[Any, bool]:
        """``_call``, also telling whether the remote itself answered (the
        state may change meanwhile: another thread's failure or a reconnect)."""
        started = time.perf_counter()
        with self._in_flight.use():
            if self._online or self._mirror is None:
                try:
                    result = read(self._remote)
                except StorageError as exc:
                    kind = classify(exc).kind
                    self.metrics.record(time.perf_counter() - started, kind)
                    failure = self._is_connection_failure(exc)
                    if failure is None:
                        if kind not in ("conflict",):
                            log.warning("%s failed (%s): %s", self.kind, kind, exc)
                        raise
                    self._go_offline(failure)
                else:
                    self.metrics.record(time.perf_counter() - started)
                    return result, True
            assert self._mirror is not None
            result = read(self._mirror)
            self.metrics.record(time.perf_counter() - started)
            if write:
                self.queued_writes += 1
                self._publish(OutboxChanged(self._mirror.pending_count()))
            return result, False

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self._remote.kind

    @property
    def location(self) -> str:
        return self._remote.location

    def connect(self) -> None:
        self._remote.connect()

    def disconnect(self) -> None:
        self._remote.disconnect()
        if self._mirror is not None:
            self._mirror.disconnect()

    def is_connected(self) -> bool:
        return self._online and self._remote.is_connected()

    def health_check(self) -> bool:
        return self.ping().ok

    def ping(self, timeout_s: float | None = None) -> PingResult:
        """Round-trip the remote now (within ``timeout_s`` if given); remembers
        the result. While offline this is a reconnection attempt's first
        step, not a state change."""
        started = time.perf_counter()
        backend = self._remote
        try:
            check = getattr(backend, "ping", None)
            if callable(check):
                check() if timeout_s is None else check(timeout_s)
            elif not backend.health_check():
                raise StorageError(f"{backend.location} does not answer")
            latency = (time.perf_counter() - started) * 1000
            info = getattr(backend, "server_info", None)
            version = None
            if callable(info):
                version = str(info().get("version") or "") or None
            result = PingResult(True, latency, version, None, self.clock.now())
        except StorageError as exc:
            result = PingResult(False, None, None, classify(exc), self.clock.now())
        self.last_ping = result
        return result

    def info(self) -> StorageInfo:
        return StorageInfo(
            kind=self.kind,
            location=self.location,
            user_id=self.user_id,
            state=self._state,
            counts=self.count_records(),
            last_ping=self.last_ping,
            pending=self.pending(),
            conflicts=len(self.conflicts()),
            metrics=self.metrics.snapshot(),
        )

    # -- going back online -------------------------------------------------------------

    def reconnect(self) -> bool:
        """Try the remote now: on success replay the outbox, refresh the
        mirror and come back online (publishing ConnectionRestored)."""
        if self._online or self._mirror is None:
            return True
        try:
            if not self._remote.is_connected():
                self._remote.connect()
            ping = self.ping()
            if not ping.ok:
                assert ping.failure is not None
                self._retry_failed(ping.failure)
                return False
            first = self.replay()  # the bulk, while the app keeps writing offline
            with self._in_flight.exclusive():
                # what was queued meanwhile, then the switch: no write can
                # slip between the last replay and going online
                last = self.replay()
                if self._mirror.entries("pending"):
                    busy = make_failure(
                        "unknown",
                        "another jtt on this machine is sending the queued changes; "
                        "trying again shortly",
                    )
                    self._retry_failed(busy)
                    return False
                self._mirror.refresh_from(self._remote.export_all(), self._journal_copy())
                with self._lock:
                    self._online = True
                    self._failure = None
                    self._state = "connected"
        except StorageError as exc:
            self._retry_failed(classify(exc))
            return False
        log.info(
            "connection to %s restored: %d queued change(s) sent, %d conflict(s)",
            self.location,
            first.replayed + last.replayed,
            len(last.conflicts),
        )
        self._publish(ConnectionRestored(first.replayed + last.replayed, len(last.conflicts)))
        self._publish(OutboxChanged(self.pending()))
        return True

    def _retry_failed(self, failure: StorageFailure) -> None:
        self._go_offline(failure)
        self._publish(RetryFailed(failure))

    def replay(self) -> ReplayResult:
        """Send the outbox to the remote in order. Re-sending a write the
        remote already has is harmless; a record changed there meanwhile is
        left as a conflict. Raises StorageError if the remote goes away."""
        mirror = self._mirror
        if mirror is None:
            return ReplayResult(0, [])
        replayed = 0
        with mirror.replay_lock() as mine:
            if not mine:
                return ReplayResult(0, mirror.entries("conflict"))
            renumbered: dict[str, str] = {}  # journal entries moved to a free number
            for entry in mirror.entries("pending"):
                if entry.kind is JOURNAL:
                    self._replay_journal(mirror, entry, renumbered)
                elif self._replay_one(mirror, entry):
                    replayed += 1  # (journal entries are not counted: see pending_count)
        return ReplayResult(replayed, mirror.entries("conflict"))

    def _replay_one(self, mirror: OfflineMirror, entry: OutboxEntry) -> bool:
        remote, kind = self._remote, entry.kind
        if entry.op == "delete":
            current = remote._load(kind, entry.key)
            if current is None:
                mirror.done(entry.seq)
                return True
            if current.version == entry.base_version:
                remote._remove(kind, entry.key)
                mirror.done(entry.seq)
                return True
            mirror.conflict(
                entry.seq,
                f"changed elsewhere (version {current.version}) after you deleted it offline",
            )
            return False
        mine = entry.record
        assert mine is not None
        try:
            # one round trip in the usual case: the conditional write itself
            stored = remote._store(kind, mine.model_copy(deep=True), entry.base_version)
        except ConflictError:
            current = remote._load(kind, entry.key)
            if (
                current is not None
                and current.version == mine.version
                and content_of(current) == content_of(mine)
            ):
                mirror.done(entry.seq, current, kind)  # already there: sent before a crash
                return True
            where = (
                "deleted elsewhere"
                if current is None
                else f"changed elsewhere (now version {current.version})"
            )
            mirror.conflict(entry.seq, f"{where} while you were offline")
            return False
        mirror.done(entry.seq, stored, kind)
        return True

    def _replay_journal(
        self, mirror: OfflineMirror, entry: OutboxEntry, renumbered: dict[str, str]
    ) -> None:
        """A journal entry written offline. Its number may have been taken on
        the server meanwhile (the same user on another machine): it is
        history, not data, so it takes the next free number there (and later
        entries that point at it follow), never a conflict for the user."""
        remote = self._remote
        mine = entry.record
        assert isinstance(mine, JournalEntry)
        key = renumbered.get(entry.key, entry.key)
        record = mine.model_copy(
            update={"entry_id": key, "target": renumbered.get(mine.target or "", mine.target)}
        )
        if entry.base_version > 0:  # marked undone / redone
            try:
                stored = remote._store(JOURNAL, record.model_copy(deep=True), entry.base_version)
            except ConflictError:
                mirror.done(entry.seq)  # changed there as well: theirs stands
                return
            mirror.done(entry.seq, stored, JOURNAL)
            return
        for _ in range(5):
            current = remote._load(JOURNAL, record.entry_id)
            if current is not None and content_of(current) == content_of(record):
                mirror.done(entry.seq, current, JOURNAL)  # sent before (a crash, a retry)
                return
            if current is None:
                try:
                    stored = remote._store(JOURNAL, record.model_copy(deep=True), 0)
                except ConflictError:
                    continue  # taken just now: look again
                if record.entry_id != entry.key:
                    renumbered[entry.key] = record.entry_id
                    mirror.mirror_delete(JOURNAL, entry.key)
                mirror.done(entry.seq, stored, JOURNAL)
                return
            record = record.model_copy(update={"entry_id": entry_id(remote.last_journal_seq() + 1)})
        mirror.done(entry.seq)  # the server keeps being written to: history is not worth a conflict

    def theirs(self, entry: OutboxEntry) -> Any:
        """The remote's current version of a conflicting record (None: deleted)."""
        return self._remote._load(entry.kind, entry.key)

    def resolve(self, entry: OutboxEntry, keep: Literal["mine", "theirs"]) -> None:
        """Settle a conflict: write my version over theirs, or drop mine."""
        mirror = self._mirror
        assert mirror is not None
        kind = entry.kind
        current = self._remote._load(kind, entry.key)
        if keep == "theirs":
            if current is None:
                mirror.mirror_delete(kind, entry.key)
            else:
                mirror.mirror(kind, current)
            mirror.done(entry.seq)
        elif entry.op == "delete":
            if current is not None:
                self._remote._remove(kind, entry.key)
            mirror.done(entry.seq)
        else:
            assert entry.record is not None
            record = entry.record.model_copy(deep=True)
            expected = current.version if current is not None else 0
            record.version = expected + 1
            stored = self._remote._store(kind, record, expected)
            mirror.done(entry.seq, stored, kind)
        self._publish(OutboxChanged(self.pending()))

    # -- switching backends ------------------------------------------------------------

    def switch_to(
        self,
        backend: Storage,
        *,
        mirror: OfflineMirror | None = None,
        copy_data: bool = False,
        copy: Callable[[Storage, Storage], object] | None = None,
    ) -> None:
        """Make ``backend`` the store, live. It is connected and checked first;
        on any failure the current store stays and the StorageError says why.
        ``copy_data`` copies everything from the current store (including
        writes still waiting in the outbox) before the swap."""
        backend.connect()
        if not backend.health_check():
            backend.disconnect()
            raise StorageError(f"{backend.location} does not answer")
        if mirror is not None:
            mirror.connect()
        try:
            if copy_data:
                (copy or _copy_all)(self, backend)
        except BaseException:
            backend.disconnect()
            raise
        self._hear(backend)
        with self._in_flight.exclusive():
            old_remote, old_mirror = self._remote, self._mirror
            self._remote, self._mirror = backend, mirror
            self._online, self._failure, self._state = True, None, "connected"
            self.clock = backend.clock
        if copy_data and old_mirror is not None:
            old_mirror.clear()  # its queued writes were copied to the new store
        old_remote.disconnect()
        if old_mirror is not None:
            old_mirror.disconnect()
        self._publish(Switched(backend.kind, backend.location))

    # -- Storage: primitives and queries, through _call ----------------------------------

    def _mirrored(self, kind: Kind, key: str, record: Any, *, read: bool = False) -> None:
        """Keep the mirror in step with what the remote answered (``record``
        None: removed). A read never replaces a newer copy from a write."""
        mirror = self._mirror
        if mirror is None:
            return
        with self._mirror_lock:
            if record is None:
                mirror.mirror_delete(kind, key)
            else:
                mirror.mirror(kind, record, only_newer=read)
            if self._touched is not None:
                self._touched.append((kind, key, record))

    def refresh_mirror(self) -> None:
        """Copy the remote's current state into the mirror (at start-up, after
        a switch, now and then), so working offline starts from fresh data —
        including teammates' changes. Writes made meanwhile are kept."""
        mirror = self._mirror
        if mirror is None or not self._online:
            return
        with self._mirror_lock:
            self._touched = []
        try:
            bundle, journal = self._remote.export_all(), self._journal_copy()
            with self._mirror_lock:
                mirror.refresh_from(bundle, journal)
                for kind, key, record in self._touched or []:
                    if record is None:
                        mirror.mirror_delete(kind, key)
                    else:
                        mirror.mirror(kind, record, only_newer=True)
        finally:
            with self._mirror_lock:
                self._touched = None

    def wait_for_change(self, timeout_s: float) -> bool | None:
        if not self._online:
            return None  # the offline copy is a local file: polled
        try:
            return self._remote.wait_for_change(timeout_s)
        except StorageError:
            return None  # the health monitor tells about outages

    def _journal_copy(self) -> list[JournalEntry]:
        """The newest journal entries, for the offline copy."""
        return self._remote.journal_entries(JOURNAL_COPY)

    def _load(self, kind: Kind[R], key: str) -> R | None:
        found, remote = self._call_on(lambda s: s._load(kind, key))
        if found is not None and remote:
            self._mirrored(kind, key, found, read=True)
        return found

    def _load_all(self, kind: Kind[R]) -> list[R]:
        result: list[R] = self._call(lambda s: s._load_all(kind))
        return result

    def _store(self, kind: Kind[R], record: R, expected_version: int) -> R:
        stored, remote = self._call_on(
            lambda s: s._store(kind, record, expected_version), write=True
        )
        if remote:  # even if the service went offline meanwhile: the remote has it
            self._mirrored(kind, kind.key_of(stored), stored)
        return stored

    def _remove(self, kind: Kind, key: str) -> bool:
        removed, remote = self._call_on(lambda s: s._remove(kind, key), write=True)
        if remote:
            self._mirrored(kind, key, None)
        return removed

    def _delete(self, kind: Kind, key: str, expected_version: int) -> None:
        _, remote = self._call_on(lambda s: s._delete(kind, key, expected_version), write=True)
        if remote:
            self._mirrored(kind, key, None)

    def _commit(self, writes: Sequence[Write]) -> list[Record | None]:
        stored, remote = self._call_on(lambda s: s._commit(writes), write=True)
        if remote:
            for write, record in zip(writes, stored, strict=True):
                self._mirrored(write.kind, write.key, record)
        return stored

    def prune_journal(self, keep: int, older_than: datetime) -> int:
        pruned: int = self._call(lambda s: s.prune_journal(keep, older_than), write=True)
        if self._online and self._mirror is not None:
            self._mirror.prune_journal(keep, older_than)  # its copy, kept as short
        return pruned

    def _consistent_read(self) -> Any:
        return self.active._consistent_read()

    def _query(self, call: Callable[[Storage], Any]) -> Any:
        return self._call(call)

    def next_invoice_number(self) -> str:
        return self._call(lambda s: s.next_invoice_number(), write=True)

    @property
    def streams_import(self) -> bool:  # type: ignore[override]
        # (with an offline copy, an import is whole: the copy is refreshed after it)
        return self._mirror is None and self._remote.streams_import

    def import_batches(
        self,
        batches: Iterable[tuple[Kind, list[Record]]],
        mode: ImportMode = "merge",
        *,
        watch: ImportWatch | None = None,
        close: Callable[[], JournalEntry | None] | None = None,
    ) -> ImportReport:
        """The store's own import_batches (see BatchImporter); only used
        where :attr:`streams_import` is true: the local store, no copy."""

        def run(store: Storage) -> ImportReport:
            importer = batch_importer(store)
            assert importer is not None, "import_batches needs streams_import"
            return importer.import_batches(batches, mode, watch=watch, close=close)

        return self._call(run, write=True)

    def import_all(
        self,
        bundle: DataBundle,
        mode: ImportMode = "merge",
        journal: JournalEntry | None = None,
    ) -> ImportReport:
        report, remote = self._call_on(lambda s: s.import_all(bundle, mode, journal), write=True)
        if remote:
            try:
                self.refresh_mirror()
            except StorageError as exc:  # the import itself is done
                failure = self._is_connection_failure(exc)
                if failure is not None:
                    self._go_offline(failure)
        return report


def _copy_all(source: Storage, target: Storage) -> None:
    """Copy every record across (export + merge import: the newer wins)."""
    target.import_all(source.export_all(), mode="merge")
