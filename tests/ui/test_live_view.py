"""The app follows the store (#15): a change made elsewhere — another `jtt`,
another machine — shows within 2 s, keeping the selection; actions act on
the stored record, never on a row drawn before the change; one toast per
action; the running segment ticks in the segment list."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC

from textual.widgets import DataTable

from jtt_tui.domain import SessionStatus
from jtt_tui.services.timer import TimerService
from jtt_tui.storage import SQLiteStore
from tests.ui.conftest import settle

S = SessionStatus


def _cells(app, table_id: str, column: str) -> list[str]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    index = table.get_column_index(column)
    return [str(table.get_cell_at((r, index))) for r in range(table.row_count)]


def _status_of(app, ticket: str) -> str:
    table = app.screen.query_one("#top", DataTable)
    row = table.get_row_index(f"s:{ticket}")
    return str(table.get_cell_at((row, table.get_column_index("status"))))


async def _until(pilot, condition, within: float = 2.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
    await pilot.pause()
    return time.monotonic() - started


def _elsewhere(settings, clock) -> TimerService:
    """Another process on the same file: its own connection."""
    other = SQLiteStore(settings.store_path, user_id="tester", clock=clock)
    other.connect()
    return TimerService(other, clock=clock, tz=UTC)


async def test_a_change_made_elsewhere_shows_within_two_seconds(make_app, settings, clock):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#top", DataTable)
        table.move_cursor(row=table.get_row_index("s:WEB-2"))  # the user is looking at WEB-2
        await settle(pilot)
        other = _elsewhere(settings, clock)
        other.start("ACME-200")  # `jtt start ACME-200` in another shell
        await _until(pilot, lambda: "ACME-200" in _cells(app, "top", "ticket"))
        assert _status_of(app, "ACME-200") == "running"
        assert _status_of(app, "WEB-1") == "paused"
        assert "ACME-200" in str(app.screen.query_one("#status-timer").render())
        # the selection stayed where the user left it
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "s:WEB-2"
        other.store.disconnect()


async def test_an_action_on_a_row_changed_elsewhere_says_so_once(make_app, store, settings, clock):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.live.stop()  # the row on screen is stale: nothing has refreshed it yet
        _elsewhere(settings, clock).pause("WEB-1")
        assert _status_of(app, "WEB-1") == "running"
        await pilot.press("space")  # "pause" on a row that says running
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert messages == ["WEB-1 was paused elsewhere: the list is up to date now."]
        assert store.get_session("WEB-1").status == S.PAUSED  # not started again
        assert _status_of(app, "WEB-1") == "paused"


async def test_a_failing_action_is_reported_once(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        app.screen.query_one("#f-ticket").value = "OPS-1"
        app.screen.query_one("#f-start").value = "09:00"  # WEB-1 runs since 08:30
        app.screen.query_one("#f-end").value = "10m"
        await pilot.press("ctrl+s")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert len([m for m in messages if "would overlap" in m]) <= 1


async def test_the_running_segment_ticks_in_the_segment_list(make_app, clock):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert _cells(app, "segments", "length")[0] == "6:00:00"
        clock.advance(seconds=75)
        await pilot.pause(1.2)  # the 1 Hz tick
        assert _cells(app, "segments", "length")[0] == "6:01:15"
        assert _cells(app, "segments", "length")[1] == "6:01:15"  # the day total too


async def test_watching_costs_a_cheap_read_not_a_reload(make_app, monkeypatch):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        loads = []
        screen = app.screen
        original = screen.refresh_data
        monkeypatch.setattr(screen, "refresh_data", lambda: (loads.append(1), original()))
        await pilot.pause(3.2)  # three polls with nothing changed
        assert loads == []
