"""What happened to the local store file, told apart (#19 §2): a full disk,
read-only, damaged, a deleted write-ahead log — each with its own fix."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from jtt_tui.storage.sqlite_store import SQLiteStore, diagnose


def error(text: str, name: str) -> sqlite3.Error:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorname = name  # what SQLite sets on a real failure
    return exc


@pytest.fixture
def store_path(tmp_path, clock) -> Path:
    store = SQLiteStore(tmp_path / "jtt.db", user_id="alice", clock=clock)
    store.connect()
    store.disconnect()
    return tmp_path / "jtt.db"


def test_each_failure_gets_its_own_words(store_path, tmp_path):
    assert "is full" in diagnose(error("database or disk is full", "SQLITE_FULL"), store_path)
    assert "read-only" in diagnose(
        error("attempt to write a readonly database", "SQLITE_READONLY"), store_path
    )
    damaged = diagnose(error("database disk image is malformed", "SQLITE_CORRUPT"), store_path)
    assert "damaged" in damaged and "jtt restore" in damaged
    assert "damaged" in diagnose(error("file is not a database", "SQLITE_NOTADB"), store_path)


def test_an_io_error_with_the_wal_gone_says_so_and_not_disk_full(store_path):
    Path(f"{store_path}-wal").unlink(missing_ok=True)
    said = diagnose(error("disk I/O error", "SQLITE_IOERR_SHORT_READ"), store_path)
    assert "write-ahead log" in said and "deleted" in said and "full" not in said


def test_an_io_error_with_the_files_in_place_is_the_disk(store_path):
    Path(f"{store_path}-wal").touch()
    Path(f"{store_path}-shm").touch()
    said = diagnose(error("disk I/O error", "SQLITE_IOERR"), store_path)
    assert "failing" in said and "full" not in said


def test_a_real_damaged_file_is_named_damaged(tmp_path, clock):
    path = tmp_path / "jtt.db"
    store = SQLiteStore(path, user_id="alice", clock=clock)
    store.connect()
    store.disconnect()
    raw = bytearray(path.read_bytes())
    raw[100:4096] = b"\xff" * (4096 - 100)  # the first page's content, after the header
    path.write_bytes(bytes(raw))
    from jtt_tui.storage.errors import StorageError

    broken = SQLiteStore(path, user_id="alice", clock=clock)
    with pytest.raises(StorageError, match="damaged"):
        broken.connect()
        broken.get_sessions()
