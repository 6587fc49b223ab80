"""Clocks: the only way domain code learns the time, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def truncate_ms(moment: datetime) -> datetime:
    """Drop sub-millisecond precision: MongoDB stores milliseconds, so both
    backends keep exactly the same instants."""
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC, millisecond precision."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return truncate_ms(datetime.now(UTC))


class FixedClock:
    """A clock that only moves when told to (tests, benchmarks, replays)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = truncate_ms(start.astimezone(UTC))

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now = truncate_ms(self._now + (delta or timedelta(**kwargs)))
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = truncate_ms(moment.astimezone(UTC))
