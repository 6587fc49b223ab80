"""The overlap check as one sweep (#17): the same pairs, in the same order,
as comparing every changed piece with every other."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from jtt_tui.domain.timeline import Overlap, Piece, overlaps

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _every_pair(changed: list[Piece], others: list[Piece], now: datetime) -> list[Overlap]:
    """The check as it was: each changed piece against each other one."""
    found = []
    for piece in changed:
        lo, hi = piece.start, piece.until(now)
        for other in others:
            if other.ticket == piece.ticket:
                continue
            if other.start < hi and lo < other.until(now) and lo < hi:
                found.append(Overlap(piece, other))
    return found


def _random_pieces(rng: random.Random, count: int) -> list[Piece]:
    pieces = []
    for _ in range(count):
        start = NOW - timedelta(minutes=rng.randint(0, 600))
        length = rng.choice([0, 0, 5, 30, 60, 240, None])  # empty, short, long, running
        end = None if length is None else start + timedelta(minutes=length)
        pieces.append(Piece(f"T-{rng.randint(1, 6)}", start, end))
    return pieces


def test_the_sweep_finds_what_comparing_every_pair_finds_in_the_same_order():
    rng = random.Random(17)
    for _ in range(300):
        changed = _random_pieces(rng, rng.randint(0, 12))
        others = _random_pieces(rng, rng.randint(0, 25)) + changed
        rng.shuffle(others)
        assert overlaps(changed, others, NOW) == _every_pair(changed, others, NOW)


def test_touching_pieces_do_not_overlap_and_generators_are_accepted():
    a = Piece("A-1", NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    b = Piece("B-1", NOW - timedelta(hours=1), NOW)
    assert overlaps(iter([a]), iter([b]), NOW) == []
    running = Piece("B-2", NOW - timedelta(hours=3), None)
    assert overlaps([a], (p for p in [b, running]), NOW) == [Overlap(a, running)]


def test_a_hundred_thousand_clean_pieces_are_checked_at_once():
    """(Every pair would be 10^10 comparisons: this would not finish.)"""
    pieces = [
        Piece(f"T-{n}", NOW - timedelta(minutes=2 * n + 1), NOW - timedelta(minutes=2 * n))
        for n in range(100_000)
    ]
    assert overlaps(pieces, pieces, NOW) == []
