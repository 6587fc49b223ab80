"""Whole-process latency of `jtt status`, `status --short`, `start`, `stop`,
`pause` and a shell completion (`jtt __complete`) at 1k, 10k and 100k stored
sessions (median of repeated runs), on the command server (the default) and
each in a process of its own (JTT_SERVER=off), next to `python -c pass`
measured in the same run (the ratio is what the targets are about: it cancels the shared
machine's speed); the top 10 imports of `jtt status` (`python -X importtime`);
the undo journal full (its 500 newest changes kept) as after months of use,
and the same start + stop measured in one process (less noise: the ledger's
own cost, journal write included).

    python -m bench.cli [--sizes 1000,10000,100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.datasets import make_bundle
from jtt_tui.services.timer import TimerService
from jtt_tui.storage import SQLiteStore

JOURNAL_FULL = 500  # changes the journal keeps by default

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    jtt = [sys.executable, "-m", "jtt_tui"]
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # as installed: with bytecode caches (pip writes them; a shell that sets
        # PYTHONDONTWRITEBYTECODE would recompile every module on every run)
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MONGODB_", "JTT_")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        import compileall

        compileall.compile_dir(str(ROOT / "jtt_tui"), quiet=1)
        envs: dict[int, dict[str, str]] = {}
        for size in sizes:
            data = Path(tmp) / f"data-{size}"
            envs[size] = {
                **base,
                "JTT_DATA_DIR": str(data),
                "JTT_CONFIG_DIR": str(Path(tmp) / "cfg"),
                "DEFAULT_USER_ID": "bench",
                "PYTHONPATH": str(ROOT),
            }
            store = SQLiteStore(data / "jtt.db", user_id="bench")
            store.connect()
            store.import_all(make_bundle(size))
            timer = TimerService(store)
            for n in range(JOURNAL_FULL // 2):  # a full journal: 500 changes
                timer.start(f"FILL-{n % 20 + 1}")
                timer.stop()
            in_process = []
            for n in range(max(200, args.repeat * 10)):  # ~1 ms each: many, for a stable median
                t0 = time.perf_counter()
                timer.start(f"INPROC-{n + 1}")
                timer.stop()
                in_process.append(time.perf_counter() - t0)
            results[size] = {
                "in-process": statistics.median(in_process) * 1000,
                "journal": len(store.journal_entries(10_000)),
            }
            store.disconnect()
        run_dir = str(Path(tmp) / "run")
        _warm_server(jtt, {**envs[sizes[0]], "JTT_SERVER": "on", "JTT_RUNTIME_DIR": run_dir})
        # every size and both modes in turns, next to `python -c pass`: the
        # shared machine's noise (another process's fsyncs) falls on all alike
        samples: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            samples.setdefault("pass", []).append(_once([sys.executable, "-c", "pass"], base))
            for size in sizes:
                for mode, extra in (
                    ("served", {"JTT_SERVER": "on", "JTT_RUNTIME_DIR": run_dir}),
                    ("own", {"JTT_SERVER": "off"}),
                ):
                    for command, ms in _commands(jtt, {**envs[size], **extra}).items():
                        samples.setdefault(f"{size} {command} {mode}", []).append(ms)
        _stop_server(Path(run_dir))
        imports = _top_imports([*jtt, "status"], {**envs[sizes[0]], "JTT_SERVER": "off"})
        baseline = statistics.median(samples.pop("pass"))
        for key, values in samples.items():
            size, rest = key.split(" ", 1)
            results[int(size)][rest] = statistics.median(values)
    print(f"python -c pass: {baseline:.0f} ms (interpreter start-up on this machine)")
    journals = ", ".join(f"{results[size]['journal']:.0f}" for size in sizes)
    print(f"journal entries kept: {journals} (bounded; every change writes one)\n")
    print(
        f"{'command':19}"
        + "".join(f"{size:>12,}" for size in sizes)
        + "   largest/smallest   ÷ python -c pass"
    )
    for mode, title in (
        ("served", "on the command server (the default; warm)"),
        ("own", "each in a process of its own (JTT_SERVER=off)"),
    ):
        print(f"-- {title}")
        for command in COMMANDS:
            key = f"{command} {mode}"
            ratio = results[sizes[-1]][key] / results[sizes[0]][key]
            cells = "".join(f"{results[size][key]:10.0f}ms" for size in sizes)
            passes = " / ".join(f"{results[size][key] / baseline:.1f}x" for size in sizes)
            print(f"jtt {command:15}{cells}   {ratio:13.2f}x   {passes}")
    ratio = results[sizes[-1]]["in-process"] / results[sizes[0]]["in-process"]
    cells = "".join(f"{results[size]['in-process']:10.1f}ms" for size in sizes)
    print(f"{'start+stop *':14}{cells}   {ratio:.2f}x")
    print("\n* in one process: the ledger's checks, the journal and the commits only")
    print(f"\nthe 10 costliest imports of `jtt status` (cumulative, {sizes[0]:,} sessions):")
    for name, micros in imports:
        print(f"  {micros / 1000:7.1f} ms  {name}")


COMMANDS = ("status", "status --short", "start", "pause", "stop", "completion")


def _once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def _commands(jtt: list[str], env: dict[str, str]) -> dict[str, float]:
    """One run of each command, in ms (start, pause and stop in that order,
    so each finds what it acts on)."""
    return {
        "status": _once([*jtt, "status"], env),
        "status --short": _once([*jtt, "status", "--short"], env),
        "completion": _once([*jtt, "__complete", "2", "jtt", "start", "B"], env),
        "start": _once([*jtt, "start", "BENCH-1"], env),
        "pause": _once([*jtt, "pause"], env),
        "stop": _once([*jtt, "stop"], env),
    }


def _warm_server(jtt: list[str], env: dict[str, str]) -> None:
    """The first command starts the server; wait until it answers."""
    import socket

    from jtt_tui.cmdclient import socket_path

    subprocess.run([*jtt, "status"], env=env, check=True, capture_output=True)
    path = socket_path({"JTT_RUNTIME_DIR": env["JTT_RUNTIME_DIR"]})
    assert path is not None
    for _ in range(600):
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(path)
                return
            except OSError:
                time.sleep(0.05)
    raise SystemExit("the command server did not start")


def _stop_server(folder: Path) -> None:
    import signal

    for lock in folder.glob("*.lock"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(lock.read_text().split()[0]), signal.SIGTERM)


def _top_imports(argv: list[str], env: dict[str, str], top: int = 10) -> list[tuple[str, int]]:
    """``python -X importtime``: the modules with the largest cumulative
    import time."""
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _self, cumulative, name = line.removeprefix("import time:").split("|")
        if cumulative.strip().isdigit():
            rows.append((name.rstrip(), int(cumulative)))
    rows.sort(key=lambda r: r[1], reverse=True)
    return [(name.strip(), micros) for name, micros in rows[:top]]


if __name__ == "__main__":
    main()
