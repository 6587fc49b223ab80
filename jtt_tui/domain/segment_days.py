"""A ticket's segments grouped by local day, as the Timer section lists them.

A segment across local midnight shows on each of its days (as in ``jtt log``),
so every day's total is the time worked on that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from jtt_tui.domain.calendar import day_bounds, local_date

if TYPE_CHECKING:  # the models load with the store, after the first frame
    from jtt_tui.domain.models import Segment


@dataclass(frozen=True)
class DayPiece:
    """The part of one segment inside one local day."""

    day: date
    index: int  # the segment's position in its session (0 = the oldest)
    segment: Segment
    start: datetime
    end: datetime  # the next midnight when the segment runs on; now while it runs
    last: bool  # whether the segment ends on this day (or runs on it now)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def running(self) -> bool:
        """The piece that grows while the timer runs."""
        return self.segment.end is None and self.last


@dataclass(frozen=True)
class SegmentDay:
    """One local day of a ticket's time: its pieces in segment order."""

    day: date
    pieces: list[DayPiece]

    @property
    def total(self) -> timedelta:
        return sum((piece.length for piece in self.pieces), timedelta(0))

    @property
    def running(self) -> DayPiece | None:
        """The running piece, when it is on this day."""
        found = [piece for piece in self.pieces if piece.running]
        return found[-1] if found else None


def day_pieces(segment: Segment, index: int, now: datetime, tz: tzinfo | None) -> list[DayPiece]:
    """The pieces of one segment, one per local day it covers (a running
    segment up to ``now``)."""
    end = segment.end or now
    day = local_date(segment.start, tz)
    pieces = []
    while True:
        day_start, next_day = day_bounds(day, tz)
        lo = max(segment.start, day_start)
        if end <= next_day:
            pieces.append(DayPiece(day, index, segment, lo, max(end, lo), last=True))
            return pieces
        pieces.append(DayPiece(day, index, segment, lo, next_day, last=False))
        day += timedelta(days=1)


def segment_days(segments: list[Segment], now: datetime, tz: tzinfo | None) -> list[SegmentDay]:
    """``segments`` split at local midnight and grouped by day, the newest
    day first; only days with time on them."""
    by_day: dict[date, list[DayPiece]] = {}
    for index, segment in enumerate(segments):
        for piece in day_pieces(segment, index, now, tz):
            by_day.setdefault(piece.day, []).append(piece)
    return [SegmentDay(day, by_day[day]) for day in sorted(by_day, reverse=True)]
