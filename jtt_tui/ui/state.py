"""Snapshots the app shares with every screen's status line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jtt_tui.domain.models import Session


@dataclass(frozen=True)
class TimerSnapshot:
    """Active timers and today's total as read at ``read_at``; the status line
    adds the time since then for running timers, so it never needs a read."""

    active: list[Session] = field(default_factory=list)
    today_total: timedelta = timedelta(0)
    read_at: datetime | None = None

    @property
    def running(self) -> list[Session]:
        return [s for s in self.active if s.status == "running"]

    @property
    def paused(self) -> list[Session]:
        return [s for s in self.active if s.status == "paused"]

    def today_at(self, now: datetime) -> timedelta:
        if self.read_at is None:
            return self.today_total
        return self.today_total + (now - self.read_at) * len(self.running)


@dataclass(frozen=True)
class StoreBadge:
    text: str  # "local" or "mongodb: host/db"
    state: str  # "connected", "offline", "reconnecting"
    detail: str = ""  # e.g. "3 pending"
