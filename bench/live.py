"""How fast the open app shows a change made elsewhere, and what watching
costs when nothing happens.

1. Seconds from a `jtt start` in another process (the command has returned:
   the write is committed) to the new timer on the app's screen — on SQLite,
   and on MongoDB over the test wire server (the real driver; a standalone
   server, so the app polls: no change streams there).
2. The idle cost: CPU time of the real app in a terminal (tmux) over a quiet
   minute, as a share of one core.

    python -m bench.live [--runs 15] [--idle-seconds 60]

Prints figures; it is not a test (these machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

from jtt_tui.services.container import Services
from jtt_tui.storage import SQLiteStore
from jtt_tui.ui.app import JttApp
from tests.support.remote import open_service
from tests.support.wire_server import WireServer

ROOT = Path(__file__).resolve().parents[1]
USER = "bench"


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "JTT_"))}
    return {
        **base,
        "JTT_CONFIG_DIR": str(workdir / "config"),
        "JTT_DATA_DIR": str(workdir / "data"),
        "DEFAULT_USER_ID": USER,
        "LOCAL_BACKUP_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def _summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):6.0f} ms   p95 {p95:6.0f} ms   max {ms[-1]:6.0f} ms"


async def _latencies(
    app: JttApp, env: dict[str, str], runs: int
) -> tuple[list[float], list[float]]:
    """(from the command's start, from its exit) to the row on screen: the
    write itself lies between the two (the process also starts and closes)."""
    from_start, from_exit = [], []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(1.0)
        for n in range(runs):
            ticket = f"LIVE-{n + 1}"
            launched = time.perf_counter()
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "jtt_tui", "start", ticket],
                env=env,
                check=True,
                capture_output=True,
            )
            returned = time.perf_counter()
            table = app.screen.query_one("#top")
            while f"s:{ticket}" not in table.rows:  # type: ignore[attr-defined]
                if time.perf_counter() - returned > 10:
                    raise SystemExit(f"{ticket} did not show within 10 s")
                await asyncio.sleep(0.01)
            shown = time.perf_counter()
            from_start.append(shown - launched)
            from_exit.append(shown - returned)
            await asyncio.sleep(0.3)  # apart, as people type
    return from_start, from_exit


def sqlite_latency(runs: int, workdir: Path) -> tuple[list[float], list[float]]:
    env = _env(workdir)
    store = SQLiteStore(workdir / "data" / "jtt.db", user_id=USER)
    store.connect()
    app = JttApp(Services.over(store, tz=UTC), None, status_refresh_s=3600)
    try:
        return asyncio.run(_latencies(app, env, runs))
    finally:
        store.disconnect()


def mongo_latency(runs: int, workdir: Path) -> tuple[list[float], list[float]]:
    server = WireServer().start()
    try:
        env = _env(workdir, MONGODB_ENABLED="true", MONGODB_URI=server.uri)
        service = open_service(server, workdir, user_id=USER, clock=None)
        app = JttApp(Services.over(service, tz=UTC), None, status_refresh_s=3600)
        try:
            return asyncio.run(_latencies(app, env, runs))
        finally:
            service.disconnect()
    finally:
        server.stop()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def idle_cpu(seconds: float, workdir: Path) -> float | None:
    """CPU share of the real app, in tmux, over a quiet stretch."""
    if shutil.which("tmux") is None:
        return None
    env = _env(workdir)
    socket = f"bench-live-{os.getpid()}"
    command = f"exec {sys.executable} -m jtt_tui"
    subprocess.run(
        ["tmux", "-L", socket, "new-session", "-d", "-s", "app", "-x", "100", "-y", "30", command],
        env=env,
        check=True,
    )
    try:
        time.sleep(3)  # started and settled
        pid = int(
            subprocess.run(
                ["tmux", "-L", socket, "list-panes", "-F", "#{pane_pid}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[0]
        )
        before, started = _cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = _cpu_seconds(pid) - before, time.monotonic() - started
        return used / elapsed * 100
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("A `jtt start` in another process -> the timer on the app's screen (issue: 2 s)")
        for label, measure, where in (
            ("SQLite", sqlite_latency, "sqlite"),
            ("MongoDB (wire server, polled)", mongo_latency, "mongo"),
        ):
            from_start, from_exit = measure(args.runs, work / where)
            print(f"  {label}")
            print(f"    from the command's start   {_summary(from_start)}")
            print(f"    after it returned          {_summary(from_exit)}")
        share = idle_cpu(args.idle_seconds, work / "idle")
        if share is None:
            print("Idle cost: tmux is not installed, not measured")
        else:
            print(
                f"Idle cost: {share:.2f} % of one core over {args.idle_seconds:.0f} s with "
                "nothing happening (issue: < 1 %)"
            )


if __name__ == "__main__":
    main()
