"""Export and import at scale, each in a process of its own (the services
`jtt export` / `jtt import` call, on a SQLite store): export to JSON and to
CSV, import of that JSON file into the same store (everything unchanged)
and into an empty one, at 100,000 sessions — seconds, records per second and
the process's peak resident memory (its ru_maxrss, from os.wait4).

With ``--baseline REV`` the same runs also use the code of git revision REV
(its jtt_tui, extracted to a temporary folder) in the same run, so the
before/after ratios cancel the shared machine's speed. The import into an
empty store was quadratic before (the overlap check compared every new
segment with every other), so it is compared at ``--small`` sessions.

    python -m bench.data_io [--sessions 100000] [--small 5000] [--repeat 3] [--baseline REV]

Prints figures; it is not a test (these machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from bench.datasets import make_bundle

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    seconds: float
    peak_mb: float


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """One child process: wall time and its own peak RSS (not the largest
    of all children so far, as RUSAGE_CHILDREN would give)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} failed ({child.returncode}): {stderr}")
    return Run(seconds, usage.ru_maxrss / 1024)  # KiB on Linux


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.seconds for r in runs), statistics.median(r.peak_mb for r in runs)
    )


def _code_of(revision: str, into: Path) -> Path:
    """The jtt_tui package as it was at ``revision``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "jtt_tui", "styles"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


# what each child runs: the same service calls on the old code and the new
CHILD = """
import sys
from pathlib import Path

from jtt_tui.services.data import export_data, import_data
from jtt_tui.services.ledger import Ledger
from jtt_tui.storage import SQLiteStore

operation, database, path = sys.argv[1:4]
store = SQLiteStore(database, user_id="bench")
store.connect()
if operation == "export":
    export_data(store, Path(path), "csv" if path.endswith(".csv") else "json")
else:
    import_data(store, Path(path), ledger=Ledger(store))
store.disconnect()
"""


def _store(path: Path, sessions: int) -> None:
    """A store of ``sessions``, built in a process of its own: this one stays
    small, as a child's ru_maxrss starts from its parent's size at the fork."""
    build = (
        "import sys; from pathlib import Path; from bench.data_io import fill; "
        "fill(Path(sys.argv[1]), int(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", build, str(path), str(sessions)], cwd=ROOT, check=True)


def fill(path: Path, sessions: int) -> None:
    from jtt_tui.storage import SQLiteStore

    store = SQLiteStore(path, user_id="bench")
    store.connect()
    store.import_all(make_bundle(sessions))
    store.disconnect()


def _measure(
    code: Path, work: Path, sessions: int, repeat: int, *, empty: bool = True
) -> dict[str, Run]:
    """Each operation ``repeat`` times in a fresh process: the medians."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    full = work / f"full-{sessions}.db"
    if not full.exists():
        _store(full, sessions)
    json_file, csv_file = work / f"out-{sessions}.json", work / f"out-{sessions}.csv"

    def child(operation: str, database: Path, path: Path) -> Run:
        argv = [sys.executable, "-c", CHILD, operation, str(database), str(path)]
        return _run(argv, env, cwd=work)  # (not the checkout: `-c` puts the cwd first)

    figures: dict[str, list[Run]] = {name: [] for name in OPERATIONS}
    for _ in range(repeat):
        figures["export json"].append(child("export", full, json_file))
        figures["export csv"].append(child("export", full, csv_file))
        figures["import, same store"].append(child("import", full, json_file))
        if empty:
            for leftover in work.glob("empty.db*"):
                leftover.unlink()
            figures["import, empty store"].append(child("import", work / "empty.db", json_file))
    return {name: _median(runs) for name, runs in figures.items() if runs}


OPERATIONS = ("export json", "export csv", "import, same store", "import, empty store")


def _table(title: str, records: int, results: dict[str, dict[str, Run]]) -> None:
    print(title)
    print(f"  {'':22}{'code':>8}{'seconds':>10}{'records/s':>12}{'peak RSS MB':>13}")
    for name in OPERATIONS:
        for label, figures in results.items():
            if name not in figures:
                print(f"  {name:22}{label:>8}   (not run: it took hours)")
                continue
            run = figures[name]
            print(
                f"  {name:22}{label:>8}{run.seconds:10.2f}{records / run.seconds:12,.0f}"
                f"{run.peak_mb:13.0f}"
            )
    if "before" in results:
        print("  ratios, now vs before (records/s: higher is better; peak RSS: lower is better)")
        for name in (n for n in OPERATIONS if n in results["before"]):
            now, before = results["now"][name], results["before"][name]
            print(
                f"    {name:22}records/s {before.seconds / now.seconds:6.2f}x   "
                f"peak RSS {now.peak_mb / before.peak_mb:5.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", metavar="REV", help="also run the code of this revision")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big = {"now": _measure(ROOT, work, args.sessions, args.repeat)}
        small = {"now": _measure(ROOT, work, args.small, args.repeat)}
        if args.baseline:
            code = _code_of(args.baseline, work / "baseline")
            small["before"] = _measure(code, work, args.small, args.repeat)
            # (before, the empty-store import of the big file took hours: not run)
            big["before"] = _measure(code, work, args.sessions, args.repeat, empty=False)
        size = (work / f"out-{args.sessions}.json").stat().st_size
    print(
        f"medians of {args.repeat} runs, each a process of its own; the JSON file of "
        f"{args.sessions:,} sessions is {size / 1024 / 1024:.0f} MiB\n"
    )
    _table(f"{args.sessions:,} sessions", args.sessions, big)
    print()
    _table(f"{args.small:,} sessions", args.small, small)


if __name__ == "__main__":
    main()
