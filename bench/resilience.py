"""Resilience benchmark: how quickly an outage is noticed, what a write costs
online / offline, how fast the outbox drains, and how long a keypress takes
to show on screen when the server is slow or hung. Real pymongo driver,
talking over TCP to the test wire server (tests/support/wire_server.py);
the app's shipped driver settings unless said otherwise.

    python -m bench.resilience [--runs 5] [--queued 300]

Prints figures; it is not a test (these machines are shared and noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC
from pathlib import Path

from jtt_tui.config import MongoConfig
from jtt_tui.domain import Session
from jtt_tui.services.health import HealthMonitor
from jtt_tui.services.storage_service import ConnectionLost, ConnectionRestored, StorageService
from jtt_tui.storage.factory import mongo_options
from tests.support.remote import Recorder, open_service
from tests.support.wire_server import WireServer

SHIPPED = mongo_options(MongoConfig())


def _summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"median {statistics.median(ms):7.0f} ms   min {ms[0]:6.0f}   max {ms[-1]:6.0f}"


def _service(server: WireServer, workdir: Path, name: str) -> StorageService:
    return open_service(server, workdir / name, user_id=name, **SHIPPED)


def detection(runs: int, workdir: Path) -> None:
    print("Noticing an outage (shipped settings: heartbeat 1 s, health checks every 5 s)")
    stopped: list[float] = []
    hung: list[float] = []
    back: list[float] = []
    for run in range(runs):
        server = WireServer().start()
        (workdir / f"d{run}").mkdir()
        service = _service(server, workdir, f"d{run}")
        events = Recorder()
        service.subscribe(events)
        monitor = HealthMonitor(service, interval_s=5.0)
        monitor.start()
        time.sleep(1.5)  # settled, mid-interval
        started = time.monotonic()
        server.stop()
        when, _ = events.wait_for(ConnectionLost, timeout=15)
        stopped.append(when - started)
        started = time.monotonic()
        server.start()
        restored, _ = events.wait_for(ConnectionRestored, timeout=30)
        back.append(restored - started)
        count = len(events.events)
        server.mode = "silent"
        started = time.monotonic()
        when, _ = events.wait_for(ConnectionLost, timeout=20, after=count)
        hung.append(when - started)
        server.mode = "normal"
        monitor.stop()
        service.disconnect()
        server.stop()
    print(f"  server stopped  -> ConnectionLost   {_summary(stopped)}   (issue: <= 3000)")
    print(f"  server hung     -> ConnectionLost   {_summary(hung)}")
    print(f"  server restarted-> ConnectionRestored {_summary(back)}")


def writes(queued: int, workdir: Path) -> None:
    server = WireServer().start()
    (workdir / "w").mkdir()
    service = _service(server, workdir, "w")
    online: list[float] = []
    for i in range(100):
        started = time.perf_counter()
        service.save_session(Session(ticket_number=f"ON-{i + 1}"))
        online.append(time.perf_counter() - started)
    server.stop()
    service.save_session(Session(ticket_number="OFF-1"))  # the one that notices
    offline: list[float] = []
    for i in range(1, queued):
        started = time.perf_counter()
        service.save_session(Session(ticket_number=f"OFF-{i + 1}"))
        offline.append(time.perf_counter() - started)
    server.start()
    service.remote.disconnect()
    service.remote.connect()
    before = len(server.commands)
    started = time.perf_counter()
    result = service.replay()
    took = time.perf_counter() - started
    commands = len(server.commands) - before
    print("Writes")
    print(f"  save online (over TCP)        {_summary(online)}")
    print(f"  save offline (mirror+outbox)  {_summary(offline)}")
    print(
        f"  replay {result.replayed} queued writes: {took * 1000:.0f} ms "
        f"({took / max(result.replayed, 1) * 1000:.1f} ms each, {commands} commands = "
        f"{commands / max(result.replayed, 1):.2f} round trips each; the test server's "
        "mongomock back end is most of that time)"
    )
    service.disconnect()
    server.stop()


def keypress(workdir: Path) -> None:
    """Pilot: press space on a running timer, time until the row shows it."""
    from textual.widgets import DataTable

    from jtt_tui.domain import FixedClock, TimerMachine
    from jtt_tui.services.container import Services
    from jtt_tui.ui.app import JttApp
    from jtt_tui.ui.screens.timer import TimerScreen
    from tests.ui.conftest import NOW

    marked: list[float] = []
    original = TimerScreen._mark

    def timed_mark(self: TimerScreen, ticket: str, doing: str) -> None:
        original(self, ticket, doing)
        marked.append(time.perf_counter())  # the cell now shows "pausing…"

    TimerScreen._mark = timed_mark  # type: ignore[method-assign]

    async def measure(
        server: WireServer, service: StorageService, latency: float, mode: str
    ) -> tuple[float, float]:
        app = JttApp(
            Services.over(service, tz=UTC), None, clock=service.clock, status_refresh_s=3600
        )
        async with app.run_test(size=(100, 30)) as pilot:
            table = app.screen.query_one("#top", DataTable)
            while table.row_count == 0:
                await pilot.pause(0.05)
            server.latency, server.mode = latency, mode  # once the screen is up
            marked.clear()
            started = time.perf_counter()
            await pilot.press("space")
            while not marked:
                if time.perf_counter() - started > 15:
                    raise RuntimeError("the keypress was not handled")
                await pilot.pause(0.001)
            shown = marked[0] - started
            while str(table.get_row_at(0)[3]).strip() != "paused" and not (
                time.perf_counter() - started > 15
            ):
                await pilot.pause(0.01)
            saved = time.perf_counter() - started
            server.mode, server.latency = "normal", 0.0  # so the app can close
        return shown, saved

    print("Keypress -> visible change (Timer screen, Pilot; Pilot's own overhead included)")
    for label, latency, mode in (
        ("normal", 0.0, "normal"),
        ("100 ms per request", 0.1, "normal"),
        ("never answers", 0.0, "silent"),
    ):
        server = WireServer().start()
        folder = workdir / f"k-{mode}-{latency}"
        folder.mkdir()
        clock = FixedClock(NOW)
        service = open_service(server, folder, user_id="k", clock=clock, **SHIPPED)
        service.save_session(TimerMachine(clock).start("WEB-1").session)
        shown, saved = asyncio.run(measure(server, service, latency, mode))
        print(
            f"  {label:<20} mark shown {shown * 1000:6.0f} ms   row final {saved * 1000:6.0f} ms"
            + ("   (offline, queued after timeoutMS)" if mode == "silent" else "")
        )
        service.disconnect()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queued", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        detection(args.runs, workdir)
        writes(args.queued, workdir)
        keypress(workdir)


if __name__ == "__main__":
    main()
