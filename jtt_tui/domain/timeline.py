"""One timeline per user: the rules every change to tracked time obeys.

- Segments of different tickets never overlap (unless the user allows it).
- A segment does not start or end in the future, does not end before it
  starts, and is not longer than a day unless the user insists (``force``)
  or kept a long-running timer on purpose.

Only what a change adds or alters is checked: history that was already in
the store stays as it was (``jtt doctor`` lists old overlaps).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.durations import format_span
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import Segment, Session

MAX_SEGMENT = timedelta(hours=24)


@dataclass(frozen=True, slots=True)  # (slots: a big import holds hundreds of thousands)
class Piece:
    """One segment placed on the timeline; ``end`` None while it runs."""

    ticket: str
    start: datetime
    end: datetime | None

    def until(self, now: datetime) -> datetime:
        return self.end if self.end is not None else now

    def describe(self, tz: tzinfo | None, *, now: datetime | None = None) -> str:
        """``WEB-3 07:00–08:00`` (a date first when not today)."""
        start = to_local(self.start, tz)
        today = local_date(now, tz) if now is not None else None
        day = "" if today == start.date() else f"{start:%Y-%m-%d} "
        if self.end is None:
            return f"{self.ticket} {day}{start:%H:%M}–now (running)"
        end = to_local(self.end, tz)
        end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        return f"{self.ticket} {day}{start:%H:%M}–{end_text}"


@dataclass(frozen=True)
class Overlap:
    """``piece`` (new or changed) runs over ``other`` (another ticket's)."""

    piece: Piece
    other: Piece


def pieces_of(session: Session | None) -> list[Piece]:
    if session is None:
        return []
    return [Piece(session.ticket_number, s.start, s.end) for s in session.segments]


def changed_pieces(before: Session | None, after: Session | None) -> list[Piece]:
    """Segments of ``after`` that ``before`` did not have with the same times."""
    old = {(p.start, p.end) for p in pieces_of(before)}
    return [p for p in pieces_of(after) if (p.start, p.end) not in old]


def overlaps(changed: Iterable[Piece], others: Iterable[Piece], now: datetime) -> list[Overlap]:
    """Each (changed piece, other ticket's piece) pair sharing some time, in
    the order of ``changed`` and then of ``others``. Pieces that merely touch
    (one ends where the next starts) do not overlap; a running piece counts
    up to ``now``.

    One sweep over both sorted by start (an import of 100,000 sessions is
    checked in seconds; comparing every pair took hours): a piece overlaps
    the others that started before it and are still open when it starts,
    and those that start while it lasts."""
    changed = [p for p in changed if p.start < p.until(now)]  # (an empty piece overlaps nothing)
    candidates = sorted(enumerate(others), key=lambda item: item[1].start)
    starts = [other.start for _, other in candidates]
    found: list[tuple[int, int, Overlap]] = []
    open_before: list[tuple[datetime, int, Piece]] = []  # (until, index, piece), by until
    cursor = 0
    for number, piece in sorted(enumerate(changed), key=lambda item: item[1].start):
        lo, hi = piece.start, piece.until(now)
        while cursor < len(candidates) and candidates[cursor][1].start < lo:
            index, other = candidates[cursor]
            heapq.heappush(open_before, (other.until(now), index, other))
            cursor += 1
        while open_before and open_before[0][0] <= lo:
            heapq.heappop(open_before)  # ended before this piece (and every later one) starts
        hits = [(index, other) for _until, index, other in open_before]
        hits += candidates[cursor : bisect.bisect_left(starts, hi, lo=cursor)]
        found += (
            (number, index, Overlap(piece, other))
            for index, other in hits
            if other.ticket != piece.ticket and other.until(now) > lo  # (not empty at lo)
        )
    found.sort(key=lambda hit: (hit[0], hit[1]))
    return [overlap for _number, _index, overlap in found]


# no tracked time is older than this (clocks, file formats and every
# timestamp jtt reads start there)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


def check_sane(
    piece: Piece, segment: Segment, now: datetime, *, force: bool, tz: tzinfo | None
) -> None:
    """Clock sanity of a new or changed segment; DomainError says why not."""
    what = piece.describe(tz, now=now)
    if piece.start < EARLIEST:
        raise DomainError(
            f"{what}: starts before 1970 ({to_local(piece.start, tz):%Y-%m-%d}); check the date"
        )
    if piece.start > now:
        raise DomainError(
            f"{what}: starts in the future ({to_local(piece.start, tz):%Y-%m-%d %H:%M}); "
            "check the date and time"
        )
    if piece.end is None:
        return
    if piece.end < piece.start:
        raise DomainError(f"{what}: ends before it starts")
    if piece.end > now:
        raise DomainError(
            f"{what}: ends in the future ({to_local(piece.end, tz):%Y-%m-%d %H:%M}); "
            "check the date and time"
        )
    length = piece.end - piece.start
    if length > MAX_SEGMENT and not force and segment.confirmed is None:
        raise DomainError(
            f"{what} would be {format_span(length)} long: a segment over 24 h is refused "
            "(a timer left running?); give its real end time, or --force to keep it all"
        )


def refusal(overlap: Overlap, tz: tzinfo | None, now: datetime) -> str:
    """Why a change is refused, and how to get what was meant."""
    piece, other = overlap.piece, overlap.other
    text = (
        f"{piece.describe(tz, now=now)} would overlap {other.describe(tz, now=now)}: "
        "time is never counted on two tickets at once"
    )
    if other.end is None:
        return text + f" (pause {other.ticket} at the right time first, e.g. `jtt pause --at`)"
    if trim_of(piece, other, now) is not None:
        return text + f" (--trim shortens {other.ticket}'s segment to make room)"
    return text + " (change the times, or delete or edit the other segment first)"


def trim_of(piece: Piece, other: Piece, now: datetime) -> tuple[datetime, datetime] | None:
    """The times ``other`` (a finished segment) would have after shortening
    it to make room for ``piece``, or None when shortening cannot do it (it
    would have to be split or removed, or it is running)."""
    if other.end is None:
        return None
    lo, hi = piece.start, piece.until(now)
    if other.start < lo < other.end and other.end <= hi:
        return other.start, lo  # the other runs into the new piece: end it earlier
    if lo <= other.start < hi < other.end:
        return hi, other.end  # the new piece runs into the other: start it later
    return None


def overlap_pairs(sessions: Iterable[Session], now: datetime) -> list[Overlap]:
    """Every pair of segments of different tickets that overlap, in time
    order (for ``jtt doctor`` and the ⚠ marks): one sweep over the sorted
    pieces, not every pair."""
    pieces = sorted(
        (p for s in sessions for p in pieces_of(s)), key=lambda p: (p.start, p.until(now))
    )
    found: list[Overlap] = []
    active: list[Piece] = []
    for piece in pieces:
        active = [a for a in active if a.until(now) > piece.start]
        for other in active:
            if other.ticket != piece.ticket and piece.start < piece.until(now):
                found.append(Overlap(other, piece))
        active.append(piece)
    return found


def shared_segments(sessions: Iterable[Session], now: datetime) -> set[tuple[str, datetime]]:
    """(ticket, segment start) of every segment that shares time with
    another ticket's (allowed overlaps): the ⚠ marks of lists and logs."""
    return {
        (piece.ticket, piece.start)
        for pair in overlap_pairs(sessions, now)
        for piece in (pair.piece, pair.other)
    }


def format_overlaps(found: list[Overlap], tz: tzinfo | None, now: datetime, limit: int = 5) -> str:
    lines = [
        f"{o.piece.describe(tz, now=now)} and {o.other.describe(tz, now=now)}"
        for o in found[:limit]
    ]
    if len(found) > limit:
        lines.append(f"… and {len(found) - limit} more")
    return "; ".join(lines)
