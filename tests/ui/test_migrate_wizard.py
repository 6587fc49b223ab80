"""The migration wizard: from the Database screen to a verified copy on
MongoDB (the wire-level server) and a live switch; cancel; a failed step."""

from __future__ import annotations

import time

from textual.widgets import Input, Static

from jtt_tui.ui.screens.migrate import MigrateScreen
from tests.ui.conftest import settle


async def _wait(pilot, condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await pilot.pause(0.05)


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def _open_wizard(app, pilot, uri: str) -> MigrateScreen:
    await pilot.press("4")
    await settle(pilot)
    screen = app.screen
    screen.query_one("#f-uri", Input).value = uri
    screen.query_one("#f-server_selection_timeout_ms", Input).value = "500"
    screen.query_one("#f-connect_timeout_ms", Input).value = "500"
    await pilot.press("f10")
    await pilot.pause()
    assert isinstance(app.screen, MigrateScreen)
    return app.screen


async def test_migrate_verify_and_switch(make_app, store, wire):
    app = make_app()
    sessions = len(store.get_sessions())
    async with app.run_test(size=(100, 40)) as pilot:
        wizard = await _open_wizard(app, pilot, wire.uri)
        assert "WEB-1" in str(wizard.query_one("#status-timer").render())  # the timer shows
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: wizard.phase == "finished")
        for step in ("backup", "connect", "copy", "verify"):
            assert _text(app, f"#step-{step}").startswith("✓"), _text(app, f"#step-{step}")
        assert "verified" in _text(app, "#migrate-result")
        assert wire.data["jtt"]["sessions"].count_documents({}) == sessions
        assert "Switch to MongoDB now?" in _text(app, "#migrate-question")
        await pilot.press("y")
        await _wait(pilot, lambda: app.services.storage.kind == "mongodb")
        await settle(pilot)
        assert not isinstance(app.screen, MigrateScreen)
        assert app.services.storage.get_session("WEB-1") is not None


async def test_cancel_stops_between_batches_and_leaves_the_source(make_app, store, wire):
    app = make_app()
    before = store.export_all()
    async with app.run_test(size=(100, 40)) as pilot:
        wizard = await _open_wizard(app, pilot, wire.uri)
        wizard.query_one("#f-batch", Input).value = "1"
        wire.latency = 0.05  # slow enough to cancel halfway
        await pilot.press("ctrl+s")
        await _wait(
            pilot, lambda: "Migrate" in _text(app, "#step-copy") and "◐" in _text(app, "#step-copy")
        )
        await pilot.press("escape")
        await _wait(pilot, lambda: wizard.phase == "cancelled")
        assert "Cancelled" in _text(app, "#migrate-result")
        assert _text(app, "#step-copy").startswith("✗")
        wire.latency = 0
        await pilot.press("escape")  # closes
        await pilot.pause()
        assert not isinstance(app.screen, MigrateScreen)
    assert store.export_all().model_dump(exclude={"exported_at"}) == before.model_dump(
        exclude={"exported_at"}
    )
    assert app.services.storage.kind == "local"


async def test_an_unreachable_target_fails_at_the_connection_test(make_app, wire):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        wizard = await _open_wizard(app, pilot, "mongodb://127.0.0.1:1")
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: wizard.phase == "failed")
        assert _text(app, "#step-backup").startswith("✓")
        assert _text(app, "#step-connect").startswith("✗")
        result = _text(app, "#migrate-result")
        assert "Stopped at “Test connection”" in result and "untouched" in result
        assert app.screen.check_action("switch_now", ()) is False  # nothing to switch to
