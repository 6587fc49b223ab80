"""Gradual mode: trial MongoDB while the local store stays the source of
truth (or the other way round). Every write goes to both stores; reads come
from the primary:

- ``read-local``: the local store is primary; MongoDB follows every write.
- ``read-both``: the same, and if the local store cannot be read, the read
  falls back to MongoDB (or its offline copy).
- ``read-remote``: MongoDB is primary (offline: its local copy, with the
  outbox); the local store follows every write.

Writes are checked against the primary's versions (a stale edit is a
conflict, as always); the other store is then made to hold exactly the
record the primary stored. When MongoDB is the follower and cannot be
reached, its copy of the write goes to the outbox of the resilience work and
is sent when it is back — never dropped; a record someone else changed there
meanwhile becomes a conflict to settle, as for any offline write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import DataBundle, Record
from jtt_tui.services.health import HealthMonitor
from jtt_tui.services.storage_service import StorageService
from jtt_tui.storage.base import (
    DelegatedQueries,
    ImportMode,
    ImportReport,
    Storage,
    Write,
)
from jtt_tui.storage.errors import ConflictError, StorageError
from jtt_tui.storage.kinds import ALL_KINDS, BILLING, Kind, R

ReadMode = Literal["read-local", "read-both", "read-remote"]
READ_MODES: tuple[ReadMode, ...] = ("read-local", "read-both", "read-remote")
FOLLOW_ATTEMPTS = 5


class DualStorage(DelegatedQueries):
    def __init__(
        self,
        local: Storage,
        remote: StorageService,
        read: ReadMode = "read-local",
        *,
        health_interval_s: float | None = 5.0,
    ) -> None:
        if read not in READ_MODES:
            raise ValueError(f"read mode must be one of {', '.join(READ_MODES)}")
        if local.user_id != remote.user_id:
            raise ValueError("both stores must be for the same user id")
        super().__init__(local.user_id, clock=local.clock)
        self.local = local
        self.remote = remote
        self.read = read
        self._interval = health_interval_s
        self.monitor: HealthMonitor | None = None

    @property
    def primary(self) -> Storage:
        return self.remote if self.read == "read-remote" else self.local

    @property
    def follower(self) -> Storage:
        return self.local if self.read == "read-remote" else self.remote

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.primary.kind

    @property
    def location(self) -> str:
        return (
            f"{self.primary.location} (primary, {self.read}), writes also to "
            f"{self.follower.location}"
        )

    def connect(self) -> None:
        """Open both; MongoDB may be unreachable (it then works from its
        offline copy). A monitor sends its queued writes when it is back."""
        self.local.connect()
        if self._interval is not None and self.remote.mirror is not None:
            self.monitor = HealthMonitor(self.remote, interval_s=self._interval)
            self.monitor.start()

    def disconnect(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        self.remote.disconnect()
        self.local.disconnect()

    def is_connected(self) -> bool:
        return self.local.is_connected()

    def health_check(self) -> bool:
        return self.primary.health_check()

    def pending(self) -> int:
        """Writes waiting for MongoDB."""
        return self.remote.pending()

    # -- reads -------------------------------------------------------------------------

    def _read(self, call: Any) -> Any:
        if self.read != "read-both":
            return call(self.primary)
        try:
            return call(self.local)
        except StorageError:
            return call(self.remote)  # (its offline copy if it is away too)

    def _load(self, kind: Kind[R], key: str) -> R | None:
        return self._read(lambda s: s._load(kind, key))

    def _load_all(self, kind: Kind[R]) -> list[R]:
        return self._read(lambda s: s._load_all(kind))

    def _query(self, call: Callable[[Storage], Any]) -> Any:
        return self._read(call)

    # -- writes ------------------------------------------------------------------------

    def _store(self, kind: Kind[R], record: R, expected_version: int) -> R:
        stored = self.primary._store(kind, record, expected_version)
        self._follow(kind, stored)
        return stored

    def _remove(self, kind: Kind, key: str) -> bool:
        removed = self.primary._remove(kind, key)
        self.follower._remove(kind, key)
        return removed

    def _delete(self, kind: Kind, key: str, expected_version: int) -> None:
        self.primary._delete(kind, key, expected_version)
        self.follower._remove(kind, key)

    def _commit(self, writes: Sequence[Write]) -> list[Record | None]:
        """The change as one unit on the primary; the follower then holds
        what the primary stored."""
        stored = self.primary._commit(writes)
        for write, record in zip(writes, stored, strict=True):
            if record is None:
                self.follower._remove(write.kind, write.key)
            else:
                self._follow(write.kind, record)
        return stored

    def prune_journal(self, keep: int, older_than: datetime) -> int:
        pruned = self.primary.prune_journal(keep, older_than)
        self.follower.prune_journal(keep, older_than)
        return pruned

    def wait_for_change(self, timeout_s: float) -> bool | None:
        return self.primary.wait_for_change(timeout_s)

    def next_invoice_number(self) -> str:
        number = self.primary.next_invoice_number()
        counter = self.primary._load(BILLING, self.user_id)
        if counter is not None:
            self._follow(BILLING, counter)
        return number

    def import_all(
        self,
        bundle: DataBundle,
        mode: ImportMode = "merge",
        journal: JournalEntry | None = None,
    ) -> ImportReport:
        report = self.primary.import_all(bundle, mode, journal)
        self.resync()
        return report

    def _follow(self, kind: Kind[R], record: R) -> None:
        """Make the follower hold ``record`` as the primary stored it: written
        over whatever version it has (through the outbox while MongoDB is
        away; a concurrent change there is retried, then left as a conflict
        by the outbox's replay)."""
        follower = self.follower
        key = kind.key_of(record)
        for _ in range(FOLLOW_ATTEMPTS):
            current = follower._load(kind, key)
            expected = current.version if current is not None else 0
            copy = record.model_copy(update={"version": expected + 1})
            try:
                follower._store(kind, copy, expected)
                return
            except ConflictError:
                continue  # changed between our read and write: read again
        raise ConflictError(
            kind.label,
            key,
            expected,
            None,
            detail="kept changing in the other store while being copied; try again",
        )

    def resync(self) -> int:
        """Bring the follower in line with the primary (after an import, or
        to repair drift): records that differ are written, extra ones
        removed. Returns how many records changed."""
        from jtt_tui.storage.base import content_of

        changed = 0
        for kind in ALL_KINDS:
            mine = {kind.key_of(r): r for r in self.primary._load_all(kind)}
            theirs = {kind.key_of(r): r for r in self.follower._load_all(kind)}
            for key, record in mine.items():
                other = theirs.get(key)
                if other is None or content_of(other) != content_of(record):
                    self._follow(kind, record)
                    changed += 1
            for key, other in theirs.items():
                if key not in mine and other.user_id == self.user_id:
                    self.follower._remove(kind, key)
                    changed += 1
        return changed
