"""Rolling backups of the local SQLite store: every N hours and on quit,
keeping the newest few."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from jtt_tui.storage.base import Storage
from jtt_tui.storage.sqlite_store import SQLiteStore

if TYPE_CHECKING:
    from jtt_tui.config import Settings

KEEP = 7
PREFIX = "jtt-"
SUFFIX = ".db"


class LocalBackups:
    def __init__(self, directory: Path, *, keep: int = KEEP) -> None:
        self.directory = directory
        self.keep = keep

    def list(self) -> list[Path]:
        """Backups, oldest first (the names sort by time)."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"{PREFIX}*{SUFFIX}"))

    def latest_time(self) -> datetime | None:
        backups = self.list()
        if not backups:
            return None
        return datetime.fromtimestamp(backups[-1].stat().st_mtime).astimezone()

    def due(self, interval_hours: int, now: datetime) -> bool:
        latest = self.latest_time()
        return latest is None or now - latest >= timedelta(hours=interval_hours)

    def run(self, store: SQLiteStore, now: datetime) -> Path:
        """Write a new backup now and drop all but the newest ``keep``."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.directory / f"{PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{SUFFIX}"
        store.backup_to(target)
        for old in self.list()[: -self.keep]:
            old.unlink(missing_ok=True)
        return target

    def run_if_due(self, store: SQLiteStore, interval_hours: int, now: datetime) -> Path | None:
        if self.due(interval_hours, now):
            return self.run(store, now)
        return None


def local_backend(store: Storage) -> SQLiteStore | None:
    """The local SQLite store behind ``store`` if that is what is in use (not
    the offline copy of a remote store, which has its own outbox)."""
    if getattr(store, "mirror", None) is not None:
        return None
    backend = getattr(store, "active", store)
    return backend if isinstance(backend, SQLiteStore) else None


def back_up_local(
    store: Storage, settings: Settings, now: datetime, *, only_if_due: bool = True
) -> Path | None:
    """The rolling backup of the local store in use, as the settings ask:
    when one is due (every N hours), or now (on quit). Nothing for MongoDB
    (its offline copy has its own outbox) or with backups off. The path
    written, if any."""
    if not settings.local.backup_enabled:
        return None
    local = local_backend(store)
    if local is None or not local.is_connected():
        return None
    backups = LocalBackups(settings.backup_dir)
    if only_if_due:
        return backups.run_if_due(local, settings.local.backup_interval_hours, now)
    return backups.run(local, now)


class RestoreRefused(ValueError):
    """The file cannot be restored; nothing was changed."""


def restore(backup: Path, store_path: Path, backup_dir: Path, now: datetime) -> Path | None:
    """Put ``backup`` in place of the local store. What it replaces is kept
    first (``replaced-….db`` in the backups folder; returned), so a restore
    can itself be undone. The backup is checked before anything changes:
    an SQLite file with jtt's tables that passes SQLite's integrity check."""
    import sqlite3

    from jtt_tui.files import ensure_private_dir, write_private_file
    from jtt_tui.storage.factory import SQLITE_MAGIC

    def refuse(why: str) -> RestoreRefused:
        return RestoreRefused(f"{backup} {why}; nothing was changed")

    if not backup.is_file():
        raise refuse("is not a file")
    with backup.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise refuse("is not a jtt database (not an SQLite file)")
    try:
        conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise refuse(f"cannot be read ({exc})") from None
    if "sessions" not in tables:
        raise refuse("is not a jtt database (no sessions table)")
    if verdict != "ok":
        raise refuse(f"is damaged ({verdict})")
    ensure_private_dir(backup_dir)
    kept = None
    if store_path.exists():
        kept = backup_dir / f"replaced-{now.strftime('%Y%m%d-%H%M%S')}.db"
        _keep_copy(store_path, kept)
    content = backup.read_bytes()  # checked above; read before anything is replaced
    for extra in ("-wal", "-shm"):  # the replaced file's: they would not fit the new one
        Path(f"{store_path}{extra}").unlink(missing_ok=True)
    write_private_file(store_path, content)
    return kept


def _keep_copy(path: Path, target: Path) -> None:
    """A copy of the store being replaced: consistent (SQLite's backup API)
    when it can be read as a database, else its bytes as they are."""
    import os
    import shutil
    import sqlite3

    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error:
        shutil.copyfile(path, target)
