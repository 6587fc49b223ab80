"""Report benchmark: a one-year weekly report at 100,000 sessions on SQLite
(the aggregation runs in SQL: segments unpacked with json_each, grouped by
local day), against the same report computed in Python from the sessions.

    python -m bench.report [--sessions 100000] [--repeat 7]

Prints figures; it is not a test (these machines are shared and noisy).
Target: <= 200 ms for the SQL path.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.datasets import NOW, make_sessions, median_ms
from jtt_tui.domain import Project
from jtt_tui.services.reports import calendar_offsets, time_report
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.base import Storage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "jtt.db", user_id="bench")
        store.connect()
        store.import_all(
            store.export_all().model_copy(update={"sessions": make_sessions(args.sessions)})
        )
        for key in ("WEB", "API", "OPS", "DATA", "MOBILE"):
            store.save_project(Project(key=key, name=key.title()))
        last = NOW.date()
        first = last - timedelta(days=364)
        tz = ZoneInfo("Europe/Berlin")
        report = time_report(store, first, last, by="week", tz=tz)
        sql = median_ms(lambda: time_report(store, first, last, by="week", tz=tz), args.repeat)
        start = NOW - timedelta(days=365)
        offsets = calendar_offsets(start, NOW, tz)
        query = median_ms(lambda: store.tracked_time(start, NOW, offsets), args.repeat)
        python = median_ms(
            lambda: Storage.tracked_time(store, start, NOW, offsets), max(1, args.repeat // 3)
        )
        store.disconnect()
    weeks, hours = len(report.rows), report.total.hours
    print(f"{args.sessions:,} sessions; one-year weekly report ({weeks} weeks, {hours} h)")
    print(f"  whole report (SQL aggregation)    {sql:8.1f} ms   (target <= 200 ms)")
    print(f"  of which the query                {query:8.1f} ms")
    print(f"  the same sums in Python           {python:8.1f} ms   ({python / query:.1f}x)")


if __name__ == "__main__":
    main()
