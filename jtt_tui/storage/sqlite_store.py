"""The embedded default store: one SQLite file in WAL mode.

Each public write is one ``BEGIN IMMEDIATE`` transaction, so two processes on
the same file (the TUI and a ``jtt stop`` from a shell) serialise their writes
and the version check inside the transaction catches any lost update. With
``synchronous=FULL`` a write is on disk before the call returns.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from jtt_tui.domain.clock import Clock
from jtt_tui.domain.journal import JournalEntry, entry_id
from jtt_tui.domain.models import (
    BillingSettings,
    DataBundle,
    Invoice,
    InvoiceStatus,
    ManualTask,
    Project,
    Record,
    Session,
)
from jtt_tui.storage.base import (
    DAY_MS,
    READ_BATCH,
    ImportMode,
    ImportReport,
    ImportWatch,
    Offsets,
    ProjectTime,
    Storage,
    Stored,
    TrackedTime,
    Write,
    add_pieces,
    bundle_batches,
    plan_import_record,
    sort_active,
    split_days,
    tracked_rows,
    visible_to,
)
from jtt_tui.storage.bulk import gc_paused
from jtt_tui.storage.crypto import sealed_marker_in
from jtt_tui.storage.errors import (
    ConflictError,
    SchemaTooNewError,
    StorageError,
    StoreUnavailableError,
)
from jtt_tui.storage.kinds import (
    ALL_KINDS,
    BILLING,
    INVOICES,
    JOURNAL,
    MANUAL_TASKS,
    PROJECTS,
    SESSIONS,
    Kind,
    R,
)
from jtt_tui.storage.sqlite_schema import LATEST_SCHEMA, MIGRATIONS, TABLES, epoch_ms

Synchronous = Literal["FULL", "NORMAL"]
_IN_BATCH = 500  # keys per "WHERE key IN (...)" lookup during imports
_GC_PAUSE_FROM = 1000  # decode this many rows or more with the collector paused


class SQLiteStore(Storage):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        user_id: str,
        clock: Clock | None = None,
        busy_timeout_s: float = 10.0,
        synchronous: Synchronous = "FULL",
    ) -> None:
        super().__init__(user_id, clock=clock)
        self.path = Path(path).expanduser()
        self._busy_timeout_s = busy_timeout_s
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        # One connection shared by the app's worker threads; the lock keeps
        # each transaction to one thread at a time.
        self._lock = threading.RLock()

    # -- lifecycle -----------------------------------------------------------------

    @property
    def kind(self) -> str:
        return "local"

    @property
    def location(self) -> str:
        return str(self.path)

    def connect(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            try:
                _create_private_file(self.path)
                conn = sqlite3.connect(
                    self.path,
                    timeout=self._busy_timeout_s,
                    isolation_level=None,
                    check_same_thread=False,
                )
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailableError(
                    f"cannot open the local store {self.path}: {exc}"
                ) from exc
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreUnavailableError(
                        f"the local store {self.path} cannot use WAL mode (got {mode}); "
                        "is it on a network file system?"
                    )
                conn.execute(f"PRAGMA synchronous={self._synchronous}")
                # freed space is zeroed (not every SQLite build does it by
                # default): an edited or encrypted text leaves no old copy
                conn.execute("PRAGMA secure_delete=ON")
                conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_s * 1000)}")
                _migrate(conn)
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise StoreUnavailableError(
                    f"the local store {self.path} is not usable: {exc} ({diagnose(exc, self.path)})"
                ) from exc
            except BaseException:
                conn.close()
                raise
            self._conn = conn

    def disconnect(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def is_connected(self) -> bool:
        return self._conn is not None

    def health_check(self) -> bool:
        try:
            with self._read() as conn:
                conn.execute("SELECT 1").fetchone()
            return True
        except (StorageError, sqlite3.Error):
            return False

    def schema_version(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    # -- transactions ----------------------------------------------------------------

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _translated(self.path):
            yield self._connection()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One writer transaction: taken up front (IMMEDIATE) so the version
        checks inside it cannot race another process."""
        with self._lock, _translated(self.path):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _consistent_read(self) -> Iterator[None]:
        with self._lock, _translated(self.path):
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield
            finally:
                conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailableError("the local store is not open (call connect() first)")
        return self._conn

    # -- primitives ------------------------------------------------------------------

    def _visible(self, kind: Kind) -> str:
        """SQL condition: rows this user may see (own rows; for projects also
        those that list the user as a team member)."""
        if kind is PROJECTS:
            return (
                "(user_id = :me OR EXISTS (SELECT 1 FROM json_each(doc, '$.team_members') "
                "WHERE value = :me))"
            )
        return "user_id = :me"

    def _load(self, kind: Kind[R], key: str) -> R | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT doc FROM {kind.name} WHERE key = :key AND {self._visible(kind)}",
                {"key": key, "me": self.user_id},
            ).fetchone()
        return self._decode(kind, row[0]) if row else None

    def _load_all(self, kind: Kind[R]) -> list[R]:
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT doc FROM {kind.name} WHERE {self._visible(kind)} ORDER BY id",
                {"me": self.user_id},
            ).fetchall()
        return self._parse(kind, rows)

    def _store(self, kind: Kind[R], record: R, expected_version: int) -> R:
        with self._write() as conn:
            return self._store_in(conn, kind, record, expected_version)

    def _store_in(
        self, conn: sqlite3.Connection, kind: Kind[R], record: R, expected_version: int
    ) -> R:
        """The conditional write, inside the caller's transaction."""
        key = kind.key_of(record)
        row = self._current(conn, kind, key)
        if row is None:
            if expected_version != 0:
                raise ConflictError(kind.label, key, expected_version, None)
            self._insert(conn, kind, record)
            return record
        row_id, owner, version, created_at, visible = row
        if not visible:
            raise ConflictError(
                kind.label,
                key,
                expected_version,
                version,
                detail="the id belongs to another user's record",
            )
        if version != expected_version:
            raise ConflictError(kind.label, key, expected_version, version)
        record.user_id = owner
        if created_at:
            record.created_at = datetime.fromisoformat(created_at)
        self._update_row(conn, kind, row_id, record)
        return record

    def _remove(self, kind: Kind, key: str) -> bool:
        with self._write() as conn:
            return self._remove_in(conn, kind, key)

    def _delete(self, kind: Kind, key: str, expected_version: int) -> None:
        with self._write() as conn:
            self._delete_in(conn, kind, key, expected_version)

    def _delete_in(
        self, conn: sqlite3.Connection, kind: Kind, key: str, expected_version: int
    ) -> None:
        """The conditional delete, inside the caller's transaction."""
        row = self._current(conn, kind, key)
        if row is None or not row[4] or row[2] != expected_version:
            raise ConflictError(kind.label, key, expected_version, row[2] if row else None)
        conn.execute(f"DELETE FROM {kind.name} WHERE id = ?", (row[0],))

    def _commit(self, writes: Sequence[Write]) -> list[Record | None]:
        """Every write in one transaction: all of them or none."""
        with self._write() as conn:
            stored: list[Record | None] = []
            for write in writes:
                if write.record is None:
                    self._delete_in(conn, write.kind, write.key, write.expected_version)
                    stored.append(None)
                else:
                    stored.append(
                        self._store_in(conn, write.kind, write.record, write.expected_version)
                    )
            return stored

    def _remove_in(self, conn: sqlite3.Connection, kind: Kind, key: str) -> bool:
        cursor = conn.execute(
            f"DELETE FROM {kind.name} WHERE key = ? AND user_id = ?", (key, self.user_id)
        )
        return cursor.rowcount > 0

    def _current(
        self, conn: sqlite3.Connection, kind: Kind, key: str
    ) -> tuple[int, str, int, str | None, bool] | None:
        """(rowid, owner, version, created_at, visible) of the stored row."""
        scope = "AND user_id = :me" if kind.per_user_key else ""
        row = conn.execute(
            f"SELECT id, user_id, version, json_extract(doc, '$.created_at'), "
            f"{self._visible(kind)} FROM {kind.name} WHERE key = :key {scope}",
            {"key": key, "me": self.user_id},
        ).fetchone()
        if row is None:
            return None
        return row[0], row[1], row[2], row[3], bool(row[4])

    def _insert(self, conn: sqlite3.Connection, kind: Kind, record: Record) -> None:
        table = TABLES[kind.name]
        columns = ("user_id", "key", "version", *table.columns, "doc")
        placeholders = ", ".join("?" for _ in columns)
        conn.execute(
            f"INSERT INTO {kind.name} ({', '.join(columns)}) VALUES ({placeholders})",
            (
                record.user_id,
                kind.key_of(record),
                record.version,
                *table.values(record),
                self._encode(kind, record),
            ),
        )

    def _update_row(
        self, conn: sqlite3.Connection, kind: Kind, row_id: int, record: Record
    ) -> None:
        table = TABLES[kind.name]
        assignments = ", ".join(f"{c} = ?" for c in ("version", *table.columns, "doc"))
        conn.execute(
            f"UPDATE {kind.name} SET {assignments} WHERE id = ?",
            (record.version, *table.values(record), self._encode(kind, record), row_id),
        )

    # -- the stored form ----------------------------------------------------------------

    def _encode(self, kind: Kind, record: Record) -> str:
        """The record as stored: its JSON, with the encrypted fields sealed
        when field encryption is on."""
        if not self.cipher.encrypts(kind.name):
            return record.model_dump_json()
        doc = record.model_dump(mode="json")
        self.cipher.seal(kind.name, kind.key_of(record), doc, camel=False)
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    def _decode(self, kind: Kind[R], raw: str) -> R:
        if not sealed_marker_in(raw):  # the fast path: nothing sealed in it
            return kind.model.model_validate_json(raw)
        doc = json.loads(raw)
        self.cipher.open(kind.name, doc, kind.key_field, camel=False)
        return kind.model.model_validate(doc)

    def _parse(self, kind: Kind[R], rows: list[tuple[str]]) -> list[R]:
        return self._check(kind, [row[0] for row in rows])

    def _check(self, kind: Kind[R], docs: list[str]) -> list[R]:
        """Stored JSON to records (validated); no database in it, so it may
        run in another process (see :meth:`stored`)."""
        decode = self._decode
        if len(docs) < _GC_PAUSE_FROM:
            return [decode(kind, doc) for doc in docs]
        with gc_paused():
            return [decode(kind, doc) for doc in docs]

    def iter_records(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Iterator[R]:
        stored = self.stored(kind, batch_size)
        for batch in stored.batches:
            yield from stored.check(batch)

    def stored(self, kind: Kind[R], batch_size: int = READ_BATCH) -> Stored:
        check = functools.partial(self._check, kind)
        return Stored(self._stored_docs(kind, batch_size), check, as_text=True)

    def _stored_docs(self, kind: Kind, batch_size: int) -> Iterator[list[str]]:
        with self._read() as conn:
            cursor = conn.execute(
                f"SELECT doc FROM {kind.name} WHERE {self._visible(kind)} ORDER BY key",
                {"me": self.user_id},
            )
            try:
                while rows := cursor.fetchmany(batch_size):
                    yield [row[0] for row in rows]
            finally:
                cursor.close()

    def raw_records(self, kind: Kind) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, stored JSON as a dict) of this user's own records, unopened."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT key, doc FROM {kind.name} WHERE user_id = ? ORDER BY id",
                (self.user_id,),
            ).fetchall()
        for key, doc in rows:
            yield key, json.loads(doc)

    def rewrite_records(self, kind: Kind, keys: Sequence[str]) -> int:
        """Write these records back unchanged (same version) in their stored
        form under the current cipher: one transaction per batch. Returns how
        many were rewritten (a record deleted meanwhile is skipped)."""
        done = 0
        for start in range(0, len(keys), _IN_BATCH):
            with self._write() as conn:
                for key in keys[start : start + _IN_BATCH]:
                    scope = "AND user_id = :me" if kind.per_user_key else ""
                    row = conn.execute(
                        f"SELECT id, doc FROM {kind.name} WHERE key = :key {scope}",
                        {"key": key, "me": self.user_id},
                    ).fetchone()
                    if row is not None:
                        self._update_row(conn, kind, row[0], self._decode(kind, row[1]))
                        done += 1
        return done

    def compact(self) -> None:
        """Empty the write-ahead log into the file, so that text overwritten
        in place (e.g. by encryption) is gone from the disk: with
        secure_delete on (see connect) SQLite zeroes what it frees, and the
        log's old page images are truncated here."""
        with self._lock, _translated(self.path):
            self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- queries ---------------------------------------------------------------------

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT doc FROM sessions WHERE user_id = ? AND span_end >= ? "
                "AND span_start < ? ORDER BY span_start",
                (self.user_id, epoch_ms(start), epoch_ms(end)),
            ).fetchall()
        now = self.clock.now()
        return [s for s in self._parse(SESSIONS, rows) if s.touches(start, end, now)]

    def iter_sessions_between(
        self, start: datetime, end: datetime, skip: Container[str] = frozenset()
    ) -> Iterator[Session]:
        now = self.clock.now()
        with self._read() as conn:
            cursor = conn.execute(
                "SELECT key, doc FROM sessions WHERE user_id = ? AND span_end >= ? "
                "AND span_start < ? ORDER BY span_start",
                (self.user_id, epoch_ms(start), epoch_ms(end)),
            )
            try:
                while rows := cursor.fetchmany(READ_BATCH):
                    for key, doc in rows:
                        if key in skip:
                            continue
                        session = self._decode(SESSIONS, doc)
                        if session.touches(start, end, now):
                            yield session
            finally:
                cursor.close()

    def team_time(self, project: Project) -> list[tuple[str, timedelta]]:
        if not visible_to(PROJECTS, project, self.user_id):
            return []
        members = sorted({project.user_id or self.user_id, *project.team_members})
        marks = ", ".join("?" for _ in members)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT user_id, SUM(closed_ms) FROM sessions WHERE user_id IN ({marks}) "
                "AND (project_id = ? OR (project_id IS NULL AND project_key = ?)) "
                "GROUP BY user_id ORDER BY user_id",
                (*members, project.project_id, project.key),
            ).fetchall()
        return [(user, timedelta(milliseconds=int(ms or 0))) for user, ms in rows]

    def tracked_time(self, start: datetime, end: datetime, offsets: Offsets) -> list[TrackedTime]:
        """One query: segments unpacked with json_each and clipped to the
        range; those within one local day (the UTC offset in force applied
        by a CASE over the few offset changes) are summed per day, project
        and ticket in SQL; the rare ones across local midnight come back
        whole and are split here."""

        def local_day(column: str) -> str:
            case = " ".join(
                f"WHEN {column} >= {int(since)} THEN {int(value)}"
                for since, value in reversed(offsets[1:])
            )
            offset = (
                f"(CASE {case} ELSE {int(offsets[0][1])} END)" if case else str(int(offsets[0][1]))
            )
            return f"(({column} + {offset}) / {DAY_MS})"

        lo, hi, now = epoch_ms(start), epoch_ms(end), epoch_ms(self.clock.now())
        sql = f"""
            WITH segs AS (
                SELECT sessions.key AS ticket,
                       json_extract(sessions.doc, '$.project_id') AS project,
                       CAST(ROUND((julianday(json_extract(seg.value, '$.start'))
                                   - 2440587.5) * 86400000) AS INTEGER) AS s,
                       COALESCE(CAST(ROUND((julianday(json_extract(seg.value, '$.end'))
                                   - 2440587.5) * 86400000) AS INTEGER), :now) AS e
                FROM sessions INDEXED BY sessions_span  -- the planner otherwise scans by user
                     , json_each(sessions.doc, '$.segments') AS seg
                WHERE sessions.user_id = :me
                  AND sessions.span_end >= :lo  -- running ones: far-future span_end
                  AND sessions.span_start < :hi
            ),
            clipped AS (
                SELECT ticket, project, MAX(s, :lo) AS cs, MIN(e, :hi) AS ce
                FROM segs WHERE s < :hi AND e > :lo AND e > s
            ),
            days AS (
                SELECT ticket, project, cs, ce,
                       {local_day("cs")} AS ds, {local_day("(ce - 1)")} AS de
                FROM clipped
            )
            SELECT ds, project, ticket, SUM(ce - cs), 0 FROM days WHERE ds = de
            GROUP BY ds, project, ticket
            UNION ALL
            SELECT cs, project, ticket, ce, 1 FROM days WHERE ds <> de
        """
        totals: dict[tuple[int, str | None, str], int] = {}
        with self._read() as conn:
            rows = conn.execute(sql, {"me": self.user_id, "lo": lo, "hi": hi, "now": now})
            for first, project, ticket, second, crossing in rows.fetchall():
                if crossing:
                    pieces = split_days(int(first), int(second), offsets)
                else:
                    pieces = [(int(first), int(second))]
                add_pieces(totals, project, ticket, pieces)
        return tracked_rows(totals)

    def active_sessions(self) -> list[Session]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT doc FROM sessions WHERE user_id = ? AND status IN ('running', 'paused')",
                (self.user_id,),
            ).fetchall()
        return sort_active(self._parse(SESSIONS, rows))

    def recent_sessions(
        self, limit: int = 50, offset: int = 0, text: str | None = None
    ) -> list[Session]:
        query = "SELECT doc FROM sessions WHERE user_id = :me"
        params: dict[str, Any] = {"me": self.user_id, "limit": limit, "offset": offset}
        if text and text.strip():
            params["text"] = "%" + _escape_like(text.strip()) + "%"
            query += (
                " AND (key LIKE :text ESCAPE '\\' OR json_extract(doc, '$.ticket_name') "
                "LIKE :text ESCAPE '\\')"
            )
        # Index order (user_id, span_end, rowid) read backwards: running first
        # (their span end sorts last), sessions without segments (NULL) at the
        # end; no sort of the whole table.
        query += " ORDER BY span_end DESC, id DESC LIMIT :limit OFFSET :offset"
        with self._read() as conn:
            rows = conn.execute(query, params).fetchall()
        return self._parse(SESSIONS, rows)

    def time_by_project(self) -> list[ProjectTime]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT project_id, project_key, SUM(closed_ms) FROM sessions "
                "WHERE user_id = ? GROUP BY project_id, project_key",
                (self.user_id,),
            ).fetchall()
        return [ProjectTime(pid, key, timedelta(milliseconds=ms)) for pid, key, ms in rows]

    def sessions_for_project(self, project_id: str, key: str) -> list[Session]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT doc FROM sessions WHERE user_id = ? AND (project_id = ? OR "
                "(project_id IS NULL AND project_key = ?)) ORDER BY span_start",
                (self.user_id, project_id, key),
            ).fetchall()
        return self._parse(SESSIONS, rows)

    def manual_tasks_between(self, first: date, last: date) -> list[ManualTask]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT doc FROM manual_tasks WHERE user_id = ? AND date BETWEEN ? AND ? "
                "ORDER BY date, id",
                (self.user_id, first.isoformat(), last.isoformat()),
            ).fetchall()
        return self._parse(MANUAL_TASKS, rows)

    def get_invoices(
        self,
        status: InvoiceStatus | str | None = None,
        client_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Invoice]:
        conditions = ["user_id = ?"]
        params: list[Any] = [self.user_id]
        for column, value in (
            ("status", InvoiceStatus(status) if status is not None else None),
            ("client_id", client_id),
            ("project_id", project_id),
        ):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(str(value))
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT doc FROM invoices WHERE {' AND '.join(conditions)} "
                "ORDER BY issue_date DESC, invoice_number DESC",
                params,
            ).fetchall()
        return self._parse(INVOICES, rows)

    # -- change notification ---------------------------------------------------------

    def change_token(self) -> int:
        """SQLite's own counter of commits made by *other* connections to the
        file (another jtt, a `jtt` command): one statement, no table read."""
        with self._read() as conn:
            return int(conn.execute("PRAGMA data_version").fetchone()[0])

    # -- the journal ---------------------------------------------------------------

    def journal_entries(self, limit: int = 20, before: int | None = None) -> list[JournalEntry]:
        query = "SELECT doc FROM journal WHERE user_id = :me"
        params: dict[str, Any] = {"me": self.user_id, "limit": limit}
        if before is not None:
            query += " AND key < :before"
            params["before"] = entry_id(before)
        with self._read() as conn:
            rows = conn.execute(query + " ORDER BY key DESC LIMIT :limit", params).fetchall()
        return self._parse(JOURNAL, rows)

    def last_journal_seq(self) -> int:
        with self._read() as conn:
            row = conn.execute(
                "SELECT MAX(key) FROM journal WHERE user_id = ?", (self.user_id,)
            ).fetchone()
        return int(row[0]) if row and row[0] else 0

    def prune_journal(self, keep: int, older_than: datetime) -> int:
        with self._write() as conn:
            cutoff = conn.execute(
                "SELECT key FROM journal WHERE user_id = ? ORDER BY key DESC LIMIT 1 OFFSET ?",
                (self.user_id, max(keep, 0)),
            ).fetchone()
            deleted = conn.execute(
                "DELETE FROM journal WHERE user_id = ? AND (at_ms < ? OR key <= ?)",
                (self.user_id, epoch_ms(older_than), cutoff[0] if cutoff else ""),
            ).rowcount
        return int(deleted)

    def next_invoice_number(self) -> str:
        now = self.clock.now()
        with self._write() as conn:
            row = self._current(conn, BILLING, self.user_id)
            if row is None:
                settings = BillingSettings(user_id=self.user_id, created_at=now)
            else:
                doc = conn.execute(
                    "SELECT doc FROM billing_settings WHERE id = ?", (row[0],)
                ).fetchone()[0]
                settings = self._decode(BILLING, doc)
            number = settings.next_invoice_number
            settings.next_invoice_number = number + 1
            settings.version += 1
            settings.updated_at = now
            if row is None:
                self._insert(conn, BILLING, settings)
            else:
                self._update_row(conn, BILLING, row[0], settings)
        return settings.format_invoice_number(number)

    # -- bulk ------------------------------------------------------------------------

    streams_import = True

    def import_all(
        self,
        bundle: DataBundle,
        mode: ImportMode = "merge",
        journal: JournalEntry | None = None,
    ) -> ImportReport:
        return self.import_batches(
            bundle_batches(bundle, self.user_id, _IN_BATCH), mode, close=lambda: journal
        )

    def import_batches(
        self,
        batches: Iterable[tuple[Kind, list[Record]]],
        mode: ImportMode = "merge",
        *,
        watch: ImportWatch | None = None,
        close: Callable[[], JournalEntry | None] | None = None,
    ) -> ImportReport:
        if mode not in ("merge", "replace"):
            raise ValueError("mode must be 'merge' or 'replace'")
        report = ImportReport(mode=mode)
        now = self.clock.now()
        with self._write() as conn:
            pending = iter(batches)
            current = next(pending, None)
            for kind in ALL_KINDS:
                keep: set[str] = set()  # (replace: what stays)
                while current is not None and current[0] is kind:
                    keys = self._import_batch(conn, kind, current[1], report, now, watch=watch)
                    if mode == "replace":
                        keep.update(keys)
                    current = next(pending, None)
                if mode == "replace":
                    report.for_kind(kind).deleted = self._delete_others(conn, kind, keep, watch)
            if current is not None:
                raise ValueError(f"{current[0].name} records arrived out of the bundle's order")
            journal = close() if close is not None else None
            if journal is not None:
                self._store_in(conn, JOURNAL, journal, 0)
        return report

    def _import_batch(
        self,
        conn: sqlite3.Connection,
        kind: Kind,
        batch: Sequence[Record],
        report: ImportReport,
        now: datetime,
        *,
        watch: ImportWatch | None,
    ) -> list[str]:
        """One batch of an import (an existing record looked up by key for
        the batch at once); returns the batch's keys."""
        keys = [kind.key_of(r) for r in batch]
        existing = self._existing(conn, kind, keys)
        for key, incoming in zip(keys, batch, strict=True):
            row_id, current, visible = existing.get(key, (None, None, True))
            if not visible:
                raise ConflictError(
                    kind.label,
                    key,
                    incoming.version,
                    None,
                    detail="the id belongs to another user's record",
                )
            stored = plan_import_record(
                kind, current, incoming, report, user_id=self.user_id, now=now
            )
            if stored is None:
                continue
            if watch is not None:
                watch(kind, key, current, stored)
            if row_id is None:
                self._insert(conn, kind, stored)
            else:
                self._update_row(conn, kind, row_id, stored)
        return keys

    def _delete_others(
        self, conn: sqlite3.Connection, kind: Kind, keep: set[str], watch: ImportWatch | None
    ) -> int:
        """Delete this user's records of ``kind`` not in ``keep`` (a replace),
        each told to ``watch`` first; returns how many."""
        rows = conn.execute(
            f"SELECT id, key FROM {kind.name} WHERE user_id = ? ORDER BY id", (self.user_id,)
        ).fetchall()
        going = [(row_id, key) for row_id, key in rows if key not in keep]
        del rows
        for start in range(0, len(going), _IN_BATCH):
            batch = going[start : start + _IN_BATCH]
            marks = ", ".join("?" for _ in batch)
            ids = [row_id for row_id, _key in batch]
            if watch is not None:
                docs = conn.execute(
                    f"SELECT key, doc FROM {kind.name} WHERE id IN ({marks}) ORDER BY id", ids
                ).fetchall()
                for key, doc in docs:
                    watch(kind, key, self._decode(kind, doc), None)
            conn.execute(f"DELETE FROM {kind.name} WHERE id IN ({marks})", ids)
        return len(going)

    def _existing(
        self, conn: sqlite3.Connection, kind: Kind[R], keys: list[str]
    ) -> dict[str, tuple[int, R, bool]]:
        """key -> (rowid, stored record, visible to this user)."""
        if not keys:
            return {}
        marks = ", ".join("?" for _ in keys)
        scope = "AND user_id = ?" if kind.per_user_key else ""
        visible = self._visible(kind).replace(":me", "?")
        params: list[Any] = [self.user_id] * visible.count("?") + keys
        if kind.per_user_key:
            params.append(self.user_id)
        rows = conn.execute(
            f"SELECT id, doc, {visible} FROM {kind.name} WHERE key IN ({marks}) {scope}",
            params,
        ).fetchall()
        found: dict[str, tuple[int, R, bool]] = {}
        for row_id, doc, is_visible in rows:
            record = self._decode(kind, doc)
            found[kind.key_of(record)] = (row_id, record, bool(is_visible))
        return found

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole file (SQLite's online backup API),
        written next to ``target`` and renamed into place, mode 0600."""
        tmp = target.with_name(f".{target.name}.tmp")
        _create_private_file(tmp)
        try:
            copy = sqlite3.connect(tmp)
            try:
                with self._read() as conn:
                    conn.backup(copy)
            finally:
                copy.close()
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def count_records(self) -> dict[str, int]:
        counts = {}
        with self._read() as conn:
            for kind in ALL_KINDS:
                counts[kind.name] = conn.execute(
                    f"SELECT COUNT(*) FROM {kind.name} WHERE {self._visible(kind)}",
                    {"me": self.user_id},
                ).fetchone()[0]
        return counts

    def owners(self) -> dict[str, int]:
        """Records per user id in this file (whoever they belong to)."""
        from jtt_tui.storage.owners import count_owners

        with self._read() as conn:
            return count_owners(conn)

    def integrity_check(self) -> str:
        """SQLite's own consistency check: ``"ok"`` when the file is sound."""
        with self._read() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _create_private_file(path: Path) -> None:
    """Create the store's folder (0700) and file (0600) before SQLite does,
    so the data is never readable by other users, even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)


def _current_schema(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not exists:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def _migrate(conn: sqlite3.Connection) -> None:
    if _current_schema(conn) == LATEST_SCHEMA:
        return  # the common case: no write lock taken just to open the store
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        if current > LATEST_SCHEMA:
            raise SchemaTooNewError(
                f"this store was written by a newer jtt (schema {current}, this jtt knows "
                f"{LATEST_SCHEMA}); upgrade jtt to open it"
            )
        for version, steps in MIGRATIONS:
            if version > current:
                for step in steps:
                    if callable(step):
                        step(conn)
                    else:
                        conn.execute(step)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def _translated(path: Path) -> Iterator[None]:
    """Turn sqlite3 failures into StorageError with a message a person can act
    on; the original stays attached as ``__cause__`` for classification."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"local store {path}: {exc} ({diagnose(exc, path)})") from exc


def diagnose(exc: sqlite3.Error, path: Path) -> str:
    """What happened to the store file, and the fix: a full disk, a
    read-only file or folder, a damaged file, a write-ahead log deleted
    under a running jtt, or the disk itself failing — told apart by SQLite's
    own error name and a look at the files, not by words in the message."""
    import shutil

    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    folder = path.parent
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if "locked" in text or "busy" in text or name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another jtt process holds it; try again in a moment"
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return (
            f"the file or its folder ({folder}) is read-only: check its permissions, or "
            "whether the disk is mounted read-only"
        )
    if name == "SQLITE_FULL" or "disk is full" in text:
        return f"the disk holding {folder} is full: free some space; nothing was saved"
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text:
        return (
            "the file is damaged: restore the newest backup from the backups folder "
            "(`jtt restore BACKUP`; what it replaces is kept)"
        )
    if name.startswith("SQLITE_IOERR") or "i/o error" in text:
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            free = None
        if free is not None and free < 1024 * 1024:
            return f"the disk holding {folder} is full: free some space; nothing was saved"
        if path.exists() and (not wal.exists() or not shm.exists()):
            return (
                f"its write-ahead log ({wal.name}) or index ({shm.name}) was deleted while "
                "jtt had the store open: quit every jtt and start again (the changes since "
                "the last checkpoint may be lost; backups are in the backups folder)"
            )
        return "the disk reports an error: it may be failing; copy the data folder to safety"
    if name == "SQLITE_CANTOPEN":
        return f"it cannot be opened: check that {folder} exists and is writable"
    return "if it persists, run `jtt doctor`"
