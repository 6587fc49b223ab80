"""Timer screen responsiveness at 1k and 100k stored sessions (Pilot).

    python -m bench.ui [--sizes 1000,100000] [--presses 60]

Prints time to first paint (app start until the lists are filled) and the
latency of a key press that moves the selection (press -> screen updated),
next to Pilot's own cost for a key press on a bare app in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from bench.datasets import NOW, make_bundle
from jtt_tui.domain import FixedClock
from jtt_tui.services.container import Services
from jtt_tui.storage import SQLiteStore
from jtt_tui.ui.app import JttApp


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row")
        table.add_column("n")
        for i in range(200):
            table.add_row(str(i))
        yield table


async def _press_latency(app: App[None], presses: int, key: str = "down") -> list[float]:
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        for _ in range(presses):
            start = time.perf_counter()
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            samples.append(time.perf_counter() - start)
    return samples


async def _measure(size: int, workdir: Path, presses: int) -> dict[str, float]:
    store = SQLiteStore(workdir / f"ui-{size}.db", user_id="bench", clock=FixedClock(NOW))
    store.connect()
    store.import_all(make_bundle(size))

    def make_app() -> JttApp:
        return JttApp(
            Services.over(store, tz=UTC), None, clock=FixedClock(NOW), status_refresh_s=3600
        )

    paints = []
    for _ in range(5):
        app = make_app()
        start = time.perf_counter()
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(pilot)
            paints.append(time.perf_counter() - start)
    app = make_app()
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _settle(pilot)
        app.screen.query_one("#recent", DataTable).focus()
        await pilot.pause()
        detail = app.screen.query_one("#detail-title")
        shown = []
        for _ in range(presses):
            before = str(detail.render())
            start = time.perf_counter()
            await pilot.press("down")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            samples.append(time.perf_counter() - start)
            # and how long until the detail pane shows the new selection
            while str(detail.render()) == before and time.perf_counter() - start < 1:
                await pilot.pause(0.005)
            shown.append(time.perf_counter() - start)
    store.disconnect()
    return {
        "first paint": statistics.median(paints) * 1000,
        "keypress median": statistics.median(samples) * 1000,
        "keypress p95": sorted(samples)[int(len(samples) * 0.95) - 1] * 1000,
        "detail shown": statistics.median(shown) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--presses", type=int, default=60)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        bare = asyncio.run(_press_latency(Bare(), args.presses))
        results = {size: asyncio.run(_measure(size, Path(tmp), args.presses)) for size in sizes}
    overhead = statistics.median(bare) * 1000
    print(f"Pilot's own cost of a key press on a bare app: {overhead:.1f} ms (median)\n")
    print(
        f"{'sessions':>10} {'first paint':>12} {'key median':>11} {'key p95':>9} "
        f"{'key beyond Pilot':>17} {'detail pane after':>18}"
    )
    for size, row in results.items():
        print(
            f"{size:>10,} {row['first paint']:>10.0f}ms {row['keypress median']:>9.1f}ms "
            f"{row['keypress p95']:>7.1f}ms {row['keypress median'] - overhead:>15.1f}ms "
            f"{row['detail shown']:>16.0f}ms"
        )
    first, last = sizes[0], sizes[-1]
    ratio = results[last]["first paint"] / results[first]["first paint"]
    print(f"\nfirst paint {last:,} / {first:,}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
