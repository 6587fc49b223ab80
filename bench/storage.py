"""Storage benchmark: SQLiteStore at 1k / 10k / 100k sessions, and MongoStore
round trips per operation.

    python -m bench.storage [--sizes 1000,10000,100000]

Prints tables; it is not a test (these machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.datasets import NOW, make_bundle, make_sessions
from jtt_tui.domain import FixedClock, Segment, Session, TimerMachine
from jtt_tui.storage import SQLiteStore


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def bench_sqlite(size: int, workdir: Path, synchronous: str = "FULL") -> dict[str, float]:
    clock = FixedClock(NOW)
    store = SQLiteStore(
        workdir / f"bench-{size}-{synchronous}.db",
        user_id="bench",
        clock=clock,
        synchronous=synchronous,
    )  # type: ignore[arg-type]
    store.connect()
    store.import_all(make_bundle(size))
    machine = TimerMachine(clock)
    results: dict[str, float] = {}

    # one save: start then pause a recent ticket, 50 times each
    target = store.sessions_between(NOW - timedelta(days=1), NOW)[-1]
    samples = []
    for _ in range(50):
        clock.advance(seconds=30)
        session = machine.start(target.ticket_number, existing=target).session
        start = time.perf_counter()
        store.save_session(session)
        samples.append(time.perf_counter() - start)
        clock.advance(seconds=30)
        target = machine.pause(session)
        start = time.perf_counter()
        store.save_session(target)
        samples.append(time.perf_counter() - start)
    results["save one (ms, median)"] = _median_ms(samples)

    week = _time(lambda: store.sessions_between(NOW - timedelta(days=7), NOW), 30)
    results["last 7 days (ms, median)"] = _median_ms(week)
    results["load all (ms, median)"] = _median_ms(
        _time(store.get_sessions, 3 if size > 10_000 else 7)
    )

    fresh = [
        Session(
            ticket_number=f"SEQ-{i}",
            segments=[
                Segment(
                    start=NOW + timedelta(minutes=i), end=NOW + timedelta(minutes=i, seconds=30)
                )
            ],
        )
        for i in range(1000)
    ]
    start = time.perf_counter()
    for session in fresh:
        store.save_session(session)
    results["1,000 sequential saves (ms)"] = (time.perf_counter() - start) * 1000

    batch = make_bundle(1000, now=NOW + timedelta(days=400))
    for s in batch.sessions:
        s.ticket_number = "IMP" + s.ticket_number
    start = time.perf_counter()
    store.import_all(batch)
    results["1,000 in one import (ms)"] = (time.perf_counter() - start) * 1000
    store.disconnect()
    return results


def mongo_round_trips(size: int = 1000) -> dict[str, int]:
    """Collection calls per operation on MongoStore (mongomock underneath; its
    timings say nothing about a real server, so only calls are counted)."""
    import mongomock_ng

    from jtt_tui.storage import MongoStore

    client = mongomock_ng.MongoClient()
    clock = FixedClock(NOW)
    store = MongoStore(
        "mongodb://bench",
        "bench",
        user_id="bench",
        clock=clock,
        client_factory=lambda uri, **o: client,
    )
    store.connect()
    store.import_all(make_bundle(size))
    counts: dict[str, int] = {}
    inner_db = store._db

    class Counting:
        def __init__(self, coll: Any) -> None:
            self._coll = coll

        def __getattr__(self, name: str) -> Any:
            attr = getattr(self._coll, name)

            def call(*a: Any, **k: Any) -> Any:
                counts[name] = counts.get(name, 0) + 1
                return attr(*a, **k)

            return call if callable(attr) else attr

    class CountingDb:
        def __getitem__(self, name: str) -> Counting:
            return Counting(inner_db[name])

    store._db = CountingDb()
    machine = TimerMachine(clock)
    out: dict[str, int] = {}

    def measure(label: str, fn: Callable[[], Any]) -> None:
        counts.clear()
        fn()
        out[label] = sum(counts.values())

    target = store.get_session("WEB-1")
    measure(
        "save one session",
        lambda: store.save_session(machine.start("WEB-1", existing=target).session),
    )
    measure("load last 7 days", lambda: store.sessions_between(NOW - timedelta(days=7), NOW))
    measure("load all sessions", store.get_sessions)
    measure("update (partial)", lambda: store.update_session("API-2", notes="x"))
    store.next_invoice_number()  # the first call also creates the settings document
    measure("next invoice number", store.next_invoice_number)
    extra = make_sessions(1000, now=NOW + timedelta(days=400), seed=7)
    for s in extra:
        s.ticket_number = "IMP" + s.ticket_number
    from jtt_tui.domain import DataBundle

    measure("import 1,000 (batch 1,000)", lambda: store.import_all(DataBundle(sessions=extra)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        table = {size: bench_sqlite(size, workdir) for size in sizes}
        normal = bench_sqlite(sizes[0], workdir, synchronous="NORMAL")
    metrics = list(next(iter(table.values())))
    print("SQLiteStore (synchronous=FULL: every save fsynced before it returns)")
    print(f"{'operation':34}" + "".join(f"{size:>12,}" for size in sizes))
    for metric in metrics:
        print(f"{metric:34}" + "".join(f"{table[size][metric]:12.3f}" for size in sizes))
    first, last = sizes[0], sizes[-1]
    ratio = table[last]["save one (ms, median)"] / table[first]["save one (ms, median)"]
    print(f"\nsingle save ratio {last:,}/{first:,}: {ratio:.2f}x")
    print(
        f"\nfor comparison, synchronous=NORMAL at {first:,} (durable against a crashed "
        "process, not against power loss):"
    )
    for metric in metrics:
        print(f"  {metric:34}{normal[metric]:10.3f}")
    print("\nMongoStore round trips per operation at 1,000 sessions (collection calls):")
    for label, calls in mongo_round_trips().items():
        print(f"  {label:34}{calls:6}")


if __name__ == "__main__":
    main()
