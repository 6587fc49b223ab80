"""Rolling backups of the local SQLite store: every N hours and on quit,
keeping the newest few."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from jtt_tui.storage.base import Storage
from jtt_tui.storage.sqlite_store import SQLiteStore

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
