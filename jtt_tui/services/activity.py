"""When the user was last seen working in jtt on this machine (a key press
in the app), kept in a tiny file: a timer left running is suggested to stop
there rather than at the end of the day."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jtt_tui.files import write_private_file

FILE_NAME = "last-activity"


class ActivityMark:
    def __init__(self, data_dir: Path, *, every_s: float = 60.0) -> None:
        self.path = data_dir / FILE_NAME
        self.every_s = every_s  # write at most this often: a key press costs nothing
        self._written: datetime | None = None

    def touch(self, now: datetime) -> bool:
        """Note activity at ``now``; returns whether the file was written."""
        if self._written is not None and (now - self._written).total_seconds() < self.every_s:
            return False
        try:
            write_private_file(self.path, now.isoformat().encode())
        except OSError:
            return False  # a read-only or full disk must not break typing
        self._written = now
        return True

    def last(self) -> datetime | None:
        try:
            text = self.path.read_text().strip()
            moment = datetime.fromisoformat(text)
        except (OSError, ValueError):
            return None
        return moment if moment.tzinfo is not None else None
