"""SQLite schema: one row per record (the record as JSON plus indexed key
columns), and the forward migrations that build it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import Invoice, ManualTask, Project, Record, Session
from jtt_tui.storage.kinds import (
    BILLING,
    INVOICES,
    JOURNAL,
    MANUAL_TASKS,
    PROJECTS,
    SESSIONS,
    TICKETS,
    Kind,
)

Step = str | Callable[[sqlite3.Connection], None]

# A running session's span has no end yet; this sorts after every real instant
# so "sessions that end after T" stays one index range scan.
OPEN_END_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _session_columns(record: Record) -> tuple[object, ...]:
    assert isinstance(record, Session)
    first = record.first_start
    if first is None:
        span_end: int | None = None
    elif record.open_segment is not None:
        span_end = OPEN_END_MS
    else:
        last_end = record.last_end
        span_end = epoch_ms(last_end) if last_end else None
    closed_ms = int(record.closed_duration().total_seconds() * 1000)
    return (
        str(record.status),
        epoch_ms(first) if first else None,
        span_end,
        record.project_id,
        record.project_key,
        closed_ms,
    )


def _project_columns(record: Record) -> tuple[object, ...]:
    assert isinstance(record, Project)
    return (str(record.status), record.key)


def _task_columns(record: Record) -> tuple[object, ...]:
    assert isinstance(record, ManualTask)
    return (record.date.isoformat(), record.project_id)


def _invoice_columns(record: Record) -> tuple[object, ...]:
    assert isinstance(record, Invoice)
    return (
        str(record.status),
        record.client_id,
        record.project_id,
        record.issue_date.isoformat(),
        record.invoice_number,
    )


def _journal_columns(record: Record) -> tuple[object, ...]:
    assert isinstance(record, JournalEntry)
    return (epoch_ms(record.at),)


@dataclass(frozen=True)
class Table:
    kind: Kind
    columns: tuple[str, ...]
    values: Callable[[Record], tuple[object, ...]]

    @property
    def name(self) -> str:
        return self.kind.name


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            SESSIONS,
            ("status", "span_start", "span_end", "project_id", "project_key", "closed_ms"),
            _session_columns,
        ),
        Table(PROJECTS, ("status", "jira_key"), _project_columns),
        Table(MANUAL_TASKS, ("date", "project_id"), _task_columns),
        Table(BILLING, (), lambda record: ()),
        Table(
            INVOICES,
            ("status", "client_id", "project_id", "issue_date", "invoice_number"),
            _invoice_columns,
        ),
        Table(TICKETS, (), lambda record: ()),
        Table(JOURNAL, ("at_ms",), _journal_columns),
    )
}


_V1: list[Step] = [
    """CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        span_start INTEGER,
        span_end INTEGER,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX sessions_key ON sessions (user_id, key)",
    "CREATE INDEX sessions_span ON sessions (user_id, span_end)",
    "CREATE INDEX sessions_status ON sessions (user_id, status)",
    """CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        jira_key TEXT NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX projects_key ON projects (key)",
    "CREATE INDEX projects_user ON projects (user_id, status)",
    """CREATE TABLE manual_tasks (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        date TEXT NOT NULL,
        project_id TEXT,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX manual_tasks_key ON manual_tasks (key)",
    "CREATE INDEX manual_tasks_user_date ON manual_tasks (user_id, date)",
    "CREATE INDEX manual_tasks_project ON manual_tasks (project_id)",
    """CREATE TABLE billing_settings (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX billing_settings_key ON billing_settings (user_id, key)",
    """CREATE TABLE invoices (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        client_id TEXT,
        project_id TEXT,
        issue_date TEXT NOT NULL,
        invoice_number TEXT NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX invoices_key ON invoices (key)",
    "CREATE INDEX invoices_user_status ON invoices (user_id, status)",
    "CREATE INDEX invoices_client ON invoices (user_id, client_id)",
]

# 2: the catalogue of known tickets (imports, Jira search cache)
_V2: list[Step] = [
    """CREATE TABLE tickets (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX tickets_key ON tickets (user_id, key)",
]


def _backfill_session_columns(conn: sqlite3.Connection) -> None:
    rows = conn.execute("SELECT id, doc FROM sessions").fetchall()
    for row_id, doc in rows:
        _status, _start, _end, project_id, project_key, closed_ms = _session_columns(
            Session.model_validate_json(doc)
        )
        conn.execute(
            "UPDATE sessions SET project_id = ?, project_key = ?, closed_ms = ? WHERE id = ?",
            (project_id, project_key, closed_ms, row_id),
        )


# 3: per-session project and finished time, so totals per project are one
# GROUP BY instead of decoding every session
_V3: list[Step] = [
    "ALTER TABLE sessions ADD COLUMN project_id TEXT",
    "ALTER TABLE sessions ADD COLUMN project_key TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE sessions ADD COLUMN closed_ms INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX sessions_project ON sessions (user_id, project_key)",
    _backfill_session_columns,
]

# 4: the undo journal (entries numbered per user: the key is the number)
_V4: list[Step] = [
    """CREATE TABLE journal (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX journal_key ON journal (user_id, key)",
    "CREATE INDEX journal_at ON journal (user_id, at_ms)",
]

# Forward migrations: (version, steps). A step is SQL or a function of the
# connection. Append, never edit a shipped one.
MIGRATIONS: list[tuple[int, list[Step]]] = [(1, _V1), (2, _V2), (3, _V3), (4, _V4)]
LATEST_SCHEMA = MIGRATIONS[-1][0]
