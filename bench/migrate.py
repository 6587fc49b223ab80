"""Migration benchmark: records per second for local → local (two SQLite
files) at 100,000 records, and local → MongoDB through the real driver over
TCP (the test wire server) at 2,000, with the write commands sent per 1,000
records. Each figure is split into the copy and the verification.

    python -m bench.migrate [--local 100000] [--remote 2000] [--batch 500]

Prints figures; it is not a test (these machines are shared and noisy). The
wire server keeps its data in mongomock, so the MongoDB figures measure this
setup's server far more than the driver or jtt: a real mongod is faster.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.datasets import make_sessions
from jtt_tui.storage import MongoStore, SQLiteStore
from jtt_tui.storage.base import Storage
from jtt_tui.storage.migrate import CopyProgress, StepChanged, migrate
from tests.support.wire_server import WireServer

WRITES = ("insert", "update", "delete", "findandmodify")


def _source(path: Path, count: int) -> SQLiteStore:
    store = SQLiteStore(path, user_id="bench")
    store.connect()
    store.import_all(store.export_all().model_copy(update={"sessions": make_sessions(count)}))
    return store


def _run(source: Storage, target: Storage, batch: int, backup: Path) -> dict[str, float]:
    marks: dict[str, float] = {}

    def progress(event: object) -> None:
        if isinstance(event, StepChanged):
            marks[f"{event.step} {event.state}"] = time.perf_counter()
        elif isinstance(event, CopyProgress) and event.done == event.total and event.total:
            marks["copy rate"] = event.rate

    started = time.perf_counter()
    report = migrate(source, target, batch_size=batch, backup_path=backup, progress=progress)
    total = time.perf_counter() - started
    assert report.verified, report.differences[:5]
    records = report.records
    return {
        "records": records,
        "total s": total,
        "backup s": marks["backup done"] - marks["backup running"],
        "copy s": marks["copy done"] - marks["copy running"],
        "verify s": marks["verify done"] - marks["verify running"],
        "records/s overall": records / total,
        "records/s copying": records / (marks["copy done"] - marks["copy running"]),
        "batches": report.batches,
    }


def _print(title: str, figures: dict[str, float]) -> None:
    print(title)
    for name, value in figures.items():
        text = f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
        print(f"  {name:22}{text:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--local", type=int, default=100_000)
    parser.add_argument("--remote", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = _source(work / "source.db", args.local)
        target = SQLiteStore(work / "target.db", user_id="bench")
        figures = _run(source, target, args.batch, work / "b1.json")
        _print(f"local → local, {args.local:,} sessions, batch {args.batch}", figures)
        target.disconnect()
        source.disconnect()

        source = _source(work / "small.db", args.remote)
        server = WireServer().start()
        try:
            remote = MongoStore(
                server.uri, "bench", user_id="bench", tz_aware=True, timeoutMS=120_000
            )
            remote.connect()
            server.commands.clear()
            figures = _run(source, remote, args.batch, work / "b2.json")
            writes = sum(server.count_commands(name) for name in WRITES)
            figures["write commands"] = writes
            figures["writes per 1,000"] = writes / args.remote * 1000
            _print(f"\nlocal → MongoDB (wire server), {args.remote:,} sessions", figures)
            server.commands.clear()
            again = _run(source, remote, args.batch, work / "b3.json")
            again["write commands"] = sum(server.count_commands(name) for name in WRITES)
            _print("  … run again (everything already there)", again)
            remote.disconnect()
        finally:
            server.stop()
            source.disconnect()


if __name__ == "__main__":
    main()
