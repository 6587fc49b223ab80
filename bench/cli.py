"""Whole-process latency of `jtt status`, `jtt start`, `jtt stop` at 1k, 10k
and 100k stored sessions (median of repeated runs), next to `python -c pass`.

    python -m bench.cli [--sizes 1000,10000,100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.datasets import make_bundle
from jtt_tui.storage import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


def _median_ms(argv: list[str], env: dict[str, str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    jtt = [sys.executable, "-m", "jtt_tui"]
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "JTT_"))}
        baseline = _median_ms([sys.executable, "-c", "pass"], base, args.repeat)
        for size in sizes:
            data = Path(tmp) / f"data-{size}"
            env = {
                **base,
                "JTT_DATA_DIR": str(data),
                "JTT_CONFIG_DIR": str(Path(tmp) / "cfg"),
                "DEFAULT_USER_ID": "bench",
                "PYTHONPATH": str(ROOT),
            }
            store = SQLiteStore(data / "jtt.db", user_id="bench")
            store.connect()
            store.import_all(make_bundle(size))
            store.disconnect()
            row = {"status": _median_ms([*jtt, "status"], env, args.repeat)}
            starts, stops = [], []
            for i in range(args.repeat):
                t0 = time.perf_counter()
                subprocess.run(
                    [*jtt, "start", f"BENCH-{i}"], env=env, check=True, capture_output=True
                )
                t1 = time.perf_counter()
                subprocess.run([*jtt, "stop"], env=env, check=True, capture_output=True)
                t2 = time.perf_counter()
                starts.append(t1 - t0)
                stops.append(t2 - t1)
            row["start"] = statistics.median(starts) * 1000
            row["stop"] = statistics.median(stops) * 1000
            results[size] = row
    print(f"python -c pass: {baseline:.0f} ms (interpreter start-up on this machine)\n")
    print(f"{'command':14}" + "".join(f"{size:>12,}" for size in sizes) + "   ratio")
    for command in ("status", "start", "stop"):
        ratio = results[sizes[-1]][command] / results[sizes[0]][command]
        cells = "".join(f"{results[size][command]:10.0f}ms" for size in sizes)
        print(f"jtt {command:10}{cells}   {ratio:.2f}x")


if __name__ == "__main__":
    main()
