"""Realistic synthetic data for benchmarks: ~16 sessions a day, each with one
to three segments inside working hours, across a handful of projects, ending
at ``now`` so "the last 7 days" is a real slice. And a timing helper."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from jtt_tui.domain import DataBundle, Segment, Session, SessionStatus

SESSIONS_PER_DAY = 16
PROJECT_KEYS = ("WEB", "API", "OPS", "DATA", "MOBILE")
NOW = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def make_sessions(count: int, *, now: datetime = NOW, seed: int = 42) -> list[Session]:
    rng = random.Random(seed)
    days = max(1, -(-count // SESSIONS_PER_DAY))
    sessions: list[Session] = []
    for index in range(count):
        day = days - 1 - index // SESSIONS_PER_DAY
        slot = index % SESSIONS_PER_DAY  # 16 slots of 30 min from 09:00
        start = now.replace(hour=9, minute=0) - timedelta(days=day) + timedelta(minutes=30 * slot)
        segments = []
        cursor = start
        for _ in range(rng.randint(1, 3)):
            length = timedelta(minutes=rng.randint(2, 8))
            segments.append(Segment(start=cursor, end=cursor + length))
            cursor += length + timedelta(minutes=1)
        key = PROJECT_KEYS[index % len(PROJECT_KEYS)]
        sessions.append(
            Session(
                ticket_number=f"{key}-{index + 1}",
                ticket_name=f"Ticket {index + 1} of {key}",
                status=SessionStatus.STOPPED if rng.random() < 0.8 else SessionStatus.COMPLETED,
                segments=segments,
                tags=["bench"],
                notes="",
            )
        )
    return sessions


def make_bundle(count: int, *, now: datetime = NOW) -> DataBundle:
    return DataBundle(sessions=make_sessions(count, now=now))


def median_ms(run: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` calls, in milliseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
