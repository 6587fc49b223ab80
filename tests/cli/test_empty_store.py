"""An empty or foreign store file is not a new store (#19 §2), and
`jtt restore BACKUP` puts a backup back (keeping what it replaces)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def data(cli_env) -> Path:
    return Path(cli_env["JTT_DATA_DIR"])


def with_a_backup(jtt, cli_env) -> Path:
    jtt("start", "WEB-1", "--name", "Login page")
    jtt("stop", env={"LOCAL_BACKUP_ENABLED": "true", "LOCAL_BACKUP_INTERVAL_HOURS": "1"})
    [backup] = sorted((data(cli_env) / "backups").glob("jtt-*.db"))
    return backup


def test_a_zero_byte_store_is_refused_with_the_newest_backup(jtt, cli_env):
    backup = with_a_backup(jtt, cli_env)
    store = data(cli_env) / "jtt.db"
    for extra in ("-wal", "-shm"):
        Path(f"{store}{extra}").unlink(missing_ok=True)
    store.write_bytes(b"")  # a failed copy, a truncated restore
    refused = jtt("start", "WEB-2", expect=1)
    assert f"{store} is empty" in refused.stderr and str(backup) in refused.stderr
    assert f"jtt restore {backup}" in refused.stderr
    assert store.stat().st_size == 0  # nothing was written into it
    doctor = jtt("doctor", expect=1)
    assert "FAIL  local store" in doctor.stdout and "is empty" in doctor.stdout


def test_a_file_that_is_not_a_jtt_database_is_refused(jtt, cli_env):
    store = data(cli_env) / "jtt.db"
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("these are my notes, not a database\n" * 10)
    refused = jtt("status", expect=1)
    assert f"{store} is not a jtt database" in refused.stderr
    other = data(cli_env) / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    refused = jtt("status", env={"LOCAL_STORE_PATH": str(other)}, expect=1)
    assert f"{other} is not a jtt database" in refused.stderr
    assert "photos" in refused.stderr


def test_restore_puts_a_backup_back_and_keeps_what_it_replaced(jtt, cli_env):
    backup = with_a_backup(jtt, cli_env)
    store = data(cli_env) / "jtt.db"
    jtt("start", "LATER-1")  # after the backup
    jtt("stop")
    refused = jtt("restore", str(backup), expect=2)  # not a terminal: asks for --yes
    assert "--yes" in refused.stderr
    restored = jtt("restore", str(backup), "--yes")
    assert "Restored" in restored.stdout
    [kept] = sorted((data(cli_env) / "backups").glob("replaced-*.db"))
    assert str(kept) in restored.stdout
    log = jtt("log").stdout
    assert "WEB-1" in log and "LATER-1" not in log
    conn = sqlite3.connect(kept)  # what was replaced is all there
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2
    conn.close()
    assert store.stat().st_mode & 0o077 == 0
    bad = data(cli_env) / "bad.db"
    bad.write_text("nope")
    refused = jtt("restore", str(bad), "--yes", expect=1)
    assert "is not a jtt database" in refused.stderr and "nothing was changed" in refused.stderr
