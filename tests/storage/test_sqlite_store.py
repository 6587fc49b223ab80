"""SQLiteStore specifics: schema migrations, damaged files, permissions."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from jtt_tui.domain import Session, Ticket
from jtt_tui.storage import SchemaTooNewError, SQLiteStore, StorageError, StoreUnavailableError
from jtt_tui.storage.sqlite_schema import LATEST_SCHEMA, MIGRATIONS


def test_new_store_is_private_and_on_the_latest_schema(tmp_path):
    store = SQLiteStore(tmp_path / "a" / "b" / "jtt.db", user_id="alice")
    store.connect()
    store.save_session(Session(ticket_number="WEB-1"))
    assert store.schema_version() == LATEST_SCHEMA
    for path in (store.path, store.path.with_name("jtt.db-wal")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_version_1_store_is_migrated_forward_keeping_its_data(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in MIGRATIONS[0][1]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    doc = Session(ticket_number="OLD-1", user_id="alice", version=1).model_dump_json()
    conn.execute(
        "INSERT INTO sessions (user_id, key, version, status, doc) "
        "VALUES ('alice', 'OLD-1', 1, 'stopped', ?)",
        (doc,),
    )
    conn.commit()
    conn.close()
    store = SQLiteStore(path, user_id="alice")
    store.connect()
    assert store.schema_version() == LATEST_SCHEMA
    assert store.get_session("OLD-1") is not None
    row = (
        sqlite3.connect(path)
        .execute("SELECT project_key, closed_ms FROM sessions WHERE key = 'OLD-1'")
        .fetchone()
    )
    assert row == ("OLD", 0)  # columns added by migration 3 were back-filled
    store.save_ticket(Ticket(ticket_number="OLD-1", ticket_name="now possible"))
    assert store.get_ticket("OLD-1").ticket_name == "now possible"


def test_a_store_from_a_newer_jtt_is_refused(tmp_path):
    path = tmp_path / "new.db"
    SQLiteStore(path, user_id="alice").connect()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (99)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError, match="upgrade jtt"):
        SQLiteStore(path, user_id="alice").connect()


def test_a_damaged_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "jtt.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailableError, match="not usable.*damaged.*jtt restore"):
        SQLiteStore(path, user_id="alice").connect()


def test_an_unusable_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")  # works even as root
    store = SQLiteStore(blocker / "jtt.db", user_id="alice")
    with pytest.raises(StoreUnavailableError, match="cannot open the local store"):
        store.connect()


def test_using_a_closed_store_is_a_storage_error(tmp_path):
    store = SQLiteStore(tmp_path / "jtt.db", user_id="alice")
    with pytest.raises(StorageError, match="not open"):
        store.get_sessions()


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("recent_sessions", {"limit": 50}),
        ("active_sessions", {}),
    ],
)
def test_screen_queries_use_an_index_not_a_sort(tmp_path, monkeypatch, method, args):
    """The Timer screen's queries must stay flat at 100k sessions: SQLite has to
    walk an index, never sort the whole table."""
    store = SQLiteStore(tmp_path / "jtt.db", user_id="alice")
    store.connect()
    plans: list[str] = []
    conn = store._conn
    original = conn.execute

    class Spy:
        def execute(self, sql, params=()):
            if sql.lstrip().upper().startswith("SELECT DOC FROM SESSIONS"):
                plans.extend(row[3] for row in original("EXPLAIN QUERY PLAN " + sql, params))
            return original(sql, params)

        def __getattr__(self, name):
            return getattr(conn, name)

    store._conn = Spy()  # type: ignore[assignment]
    getattr(store, method)(**args)
    assert plans, "no query seen"
    assert not any("TEMP B-TREE" in plan or plan.startswith("SCAN sessions") for plan in plans), (
        plans
    )
