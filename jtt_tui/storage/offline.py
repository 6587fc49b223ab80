"""The local side of a remote store: a mirror of its last known state, and an
outbox of the writes made while it could not be reached.

``OfflineMirror`` is a :class:`SQLiteStore` (one file per remote store, in the
data folder). While online, every remote read result and write is mirrored
into it. While offline, the app reads and writes it directly; each write is
appended to the outbox in the same transaction, so it is on disk before the
caller is told it is saved. On reconnect the outbox is replayed in order.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import DataBundle, Record
from jtt_tui.storage.base import ImportMode, ImportReport, bundle_records
from jtt_tui.storage.errors import StorageError
from jtt_tui.storage.kinds import JOURNAL, KINDS_BY_NAME, Kind, R
from jtt_tui.storage.sqlite_store import SQLiteStore

OUTBOX_KINDS = {**KINDS_BY_NAME, JOURNAL.name: JOURNAL}
Op = Literal["save", "delete"]
EntryState = Literal["pending", "conflict"]

_OUTBOX = """CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    op TEXT NOT NULL,
    base_version INTEGER NOT NULL,
    doc TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    detail TEXT NOT NULL DEFAULT '',
    queued_at TEXT NOT NULL
)"""


class OfflineUnavailable(StorageError):
    """An action that needs the shared store itself (numbering an invoice,
    a bulk import) was asked for while it cannot be reached."""


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    kind: Kind
    key: str
    op: Op
    base_version: int
    record: Record | None  # what to write (None for a delete)
    state: EntryState
    detail: str
    queued_at: datetime


class OfflineMirror(SQLiteStore):
    def connect(self) -> None:
        super().connect()
        with self._write() as conn:
            conn.execute(_OUTBOX)
            conn.execute("CREATE INDEX IF NOT EXISTS outbox_user ON outbox (user_id, state, seq)")

    @property
    def kind(self) -> str:
        return "mongodb-offline"

    # -- writes while offline: applied here and queued, in one transaction -----------

    def _store_in(
        self, conn: sqlite3.Connection, kind: Kind[R], record: R, expected_version: int
    ) -> R:
        stored = super()._store_in(conn, kind, record, expected_version)
        self._enqueue(conn, "save", kind, kind.key_of(stored), base=expected_version, record=stored)
        return stored

    def _delete_in(
        self, conn: sqlite3.Connection, kind: Kind, key: str, expected_version: int
    ) -> None:
        super()._delete_in(conn, kind, key, expected_version)
        self._enqueue(conn, "delete", kind, key, base=expected_version, record=None)

    def _remove(self, kind: Kind, key: str) -> bool:
        with self._write() as conn:
            row = self._current(conn, kind, key)
            if row is None or not row[4]:
                return False
            self._remove_in(conn, kind, key)
            self._enqueue(conn, "delete", kind, key, base=row[2], record=None)
            return True

    def next_invoice_number(self) -> str:
        raise OfflineUnavailable(
            "invoice numbers come from the shared store, which cannot be reached right now "
            "(create the invoice once it is back, so no two invoices share a number)"
        )

    streams_import = False  # (an import needs the shared store: see import_all)

    def import_all(
        self,
        bundle: DataBundle,
        mode: ImportMode = "merge",
        journal: JournalEntry | None = None,
    ) -> ImportReport:
        raise OfflineUnavailable(
            "importing needs the shared store, which cannot be reached right now"
        )

    def _enqueue(
        self,
        conn: sqlite3.Connection,
        op: Op,
        kind: Kind,
        key: str,
        *,
        base: int,
        record: Record | None,
    ) -> None:
        conn.execute(
            "INSERT INTO outbox (user_id, kind, key, op, base_version, doc, queued_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self.user_id,
                kind.name,
                key,
                op,
                base,
                self._encode(kind, record) if record is not None else None,
                self.clock.now().isoformat(),
            ),
        )

    # -- mirroring the remote while online (no outbox) -----------------------------------

    def mirror(self, kind: Kind[R], record: R, *, only_newer: bool = False) -> None:
        """Hold ``record`` exactly as the remote has it. ``only_newer`` keeps
        a copy with a higher version (a read that raced a write)."""
        with self._write() as conn:
            self._put(conn, kind, record, only_newer=only_newer)

    def mirror_delete(self, kind: Kind, key: str) -> None:
        with self._write() as conn:
            self._remove_in(conn, kind, key)

    def mirror_all(self, kind: Kind[R], records: list[R]) -> None:
        """Replace this user's copy of ``kind`` with ``records`` (a remote read
        of the whole collection), keeping records that still wait in the outbox."""
        with self._write() as conn:
            waiting = {
                row[0]
                for row in conn.execute(
                    "SELECT key FROM outbox WHERE user_id = ? AND kind = ?",
                    (self.user_id, kind.name),
                )
            }
            keys = json.dumps([kind.key_of(r) for r in records] + sorted(waiting))
            conn.execute(
                f"DELETE FROM {kind.name} WHERE user_id = ? AND key NOT IN "
                "(SELECT value FROM json_each(?))",
                (self.user_id, keys),
            )
            for record in records:
                if kind.key_of(record) not in waiting:
                    self._put(conn, kind, record)

    def refresh_from(self, bundle: DataBundle, journal: list[JournalEntry] | None = None) -> None:
        """Take a whole remote snapshot (after reconnecting and replaying),
        and the newest part of its journal (what undo may reach offline)."""
        for kind, records in bundle_records(bundle, self.user_id):
            self.mirror_all(kind, records)
        if journal is not None:
            self.mirror_all(JOURNAL, journal)

    def _put(
        self, conn: sqlite3.Connection, kind: Kind, record: Record, *, only_newer: bool = False
    ) -> None:
        key = kind.key_of(record)
        scope = "AND user_id = ?" if kind.per_user_key else ""
        params: tuple[object, ...] = (key, self.user_id) if kind.per_user_key else (key,)
        row = conn.execute(
            f"SELECT id, version FROM {kind.name} WHERE key = ? {scope}", params
        ).fetchone()
        if row is None:
            self._insert(conn, kind, record)
        elif not only_newer or row[1] <= record.version:
            self._update_row(conn, kind, row[0], record)

    # -- the outbox ----------------------------------------------------------------------

    def entries(self, state: EntryState | None = None) -> list[OutboxEntry]:
        query = (
            "SELECT seq, kind, key, op, base_version, doc, state, detail, queued_at "
            "FROM outbox WHERE user_id = ?"
        )
        params: list[object] = [self.user_id]
        if state is not None:
            query += " AND state = ?"
            params.append(state)
        with self._read() as conn:
            rows = conn.execute(query + " ORDER BY seq", params).fetchall()
        entries = []
        for seq, kind_name, key, op, base, doc, entry_state, detail, queued in rows:
            kind = OUTBOX_KINDS[kind_name]
            record = self._decode(kind, doc) if doc else None
            entries.append(
                OutboxEntry(
                    seq,
                    kind,
                    key,
                    op,
                    base,
                    record,
                    entry_state,
                    detail,
                    datetime.fromisoformat(queued),
                )
            )
        return entries

    def pending_count(self) -> int:
        """Queued writes of records (the journal entries that go with them,
        for undo, travel along uncounted: people count their changes)."""
        with self._read() as conn:
            return int(
                conn.execute(
                    "SELECT COUNT(*) FROM outbox WHERE user_id = ? AND kind != ?",
                    (self.user_id, JOURNAL.name),
                ).fetchone()[0]
            )

    def done(self, seq: int, mirrored: Record | None = None, kind: Kind | None = None) -> None:
        """The entry reached the remote: drop it, and hold the remote's copy
        unless a later write to the same record is still queued (the local
        copy is newer then; it must not go back a version under the user)."""
        with self._write() as conn:
            row = conn.execute("SELECT kind, key FROM outbox WHERE seq = ?", (seq,)).fetchone()
            conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            if mirrored is None or kind is None or row is None:
                return
            later = conn.execute(
                "SELECT 1 FROM outbox WHERE user_id = ? AND kind = ? AND key = ? LIMIT 1",
                (self.user_id, row[0], row[1]),
            ).fetchone()
            if later is None:
                self._put(conn, kind, mirrored)

    def conflict(self, seq: int, detail: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'conflict', detail = ? WHERE seq = ?", (detail, seq)
            )

    def clear(self) -> int:
        """Forget every queued write (after they were copied elsewhere)."""
        with self._write() as conn:
            return conn.execute("DELETE FROM outbox WHERE user_id = ?", (self.user_id,)).rowcount

    @contextlib.contextmanager
    def replay_lock(self) -> Iterator[bool]:
        """One process replays at a time (the TUI and a `jtt` command may both
        reconnect): yields False when another one holds the lock."""
        import fcntl

        lock_path = self.path.with_suffix(".replay.lock")
        # created readable by this user only, like every file jtt writes
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # one made 0644 by an earlier version
        handle = os.fdopen(fd, "a")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()
