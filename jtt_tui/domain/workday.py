"""The working day: when a timer left running is suspicious, where it most
likely stopped, and when a reminder to start one is due."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo

from jtt_tui.domain.calendar import to_local

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORK_HOURS_SYNTAX = "days and hours like Mon-Fri 09:00-18:00 (empty: none)"


@dataclass(frozen=True)
class WorkHours:
    """When a day's work happens: the weekdays (0 = Monday) and the hours."""

    days: frozenset[int] = frozenset(range(5))
    start: time = time(9, 0)
    end: time = time(18, 0)

    def contains(self, moment: datetime, tz: tzinfo | None) -> bool:
        local = to_local(moment, tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end


@dataclass(frozen=True)
class TimerRules:
    """How timers are watched: when a running one is suspicious, when the
    working day ends, when a reminder to start one is due."""

    forgotten_after: timedelta = timedelta(hours=10)
    day_ends: time = time(18, 0)
    work_hours: WorkHours | None = field(default_factory=WorkHours)  # None: no reminders
    idle_reminder: timedelta | None = timedelta(minutes=15)  # None: never


def parse_work_hours(text: str) -> WorkHours | None:
    """``Mon-Fri 09:00-18:00`` (or ``Mon,Wed,Fri 08:30-16:00``, ``Sat-Sun
    10:00-24:00``); empty: None. ValueError says the syntax."""
    value = " ".join(text.split()).lower()
    if not value:
        return None
    syntax = f"expected {WORK_HOURS_SYNTAX}"
    match = re.fullmatch(r"([a-z,-]+) (\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", value)
    if not match:
        raise ValueError(syntax)
    days: set[int] = set()
    for part in match.group(1).split(","):
        first, _, last = part.partition("-")
        if first[:3] not in _DAY_NAMES or (last and last[:3] not in _DAY_NAMES):
            raise ValueError(syntax)
        a = _DAY_NAMES.index(first[:3])
        b = _DAY_NAMES.index(last[:3]) if last else a
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    h1, m1, h2, m2 = (int(match.group(n)) for n in range(2, 6))
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2, m2) <= (h1, m1) or (h2 == 24 and m2):
        raise ValueError(syntax + "; the end must come after the start")
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    return WorkHours(frozenset(days), time(h1, m1), end)
