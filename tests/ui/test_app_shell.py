"""The app shell: sections, help, palette, keymap, theme, quitting, failures."""

from __future__ import annotations

import sqlite3
import tomllib

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable, Static

from jtt_tui.config import load_settings, update_settings_file
from jtt_tui.domain import Session
from jtt_tui.storage.errors import StorageError
from jtt_tui.ui.commands import REGISTRY
from jtt_tui.ui.screens.billing import BillingScreen
from jtt_tui.ui.screens.database import DatabaseScreen
from jtt_tui.ui.screens.help import HelpScreen, keys_table
from jtt_tui.ui.screens.projects import ProjectsScreen
from jtt_tui.ui.screens.timer import TimerScreen
from tests.ui.conftest import settle


async def test_sections_by_number_and_function_key(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, screen in (
            ("2", ProjectsScreen),
            ("3", BillingScreen),
            ("4", DatabaseScreen),
            ("1", TimerScreen),
            ("f3", BillingScreen),
            ("f1", TimerScreen),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen), key


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40)])
async def test_help_lists_every_command_readably(make_app, size):
    """Every command with its key and its id, at every size: descriptions
    wrap, nothing runs off the right edge, the whole list scrolls."""
    from rich.console import Console

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.query_one("#help-keys", Static)
        width = keys.size.width
        assert 0 < width <= size[0] - 4
        console = Console(width=width, record=True, color_system=None)
        console.print(keys_table(width))  # what the screen shows at this width
        lines = console.export_text().splitlines()
        assert all(len(line.rstrip()) <= width for line in lines)
        text = "\n".join(lines)
        for command in REGISTRY:
            assert command.id in text, command.id
        assert "Everywhere" in text and "Timer: segment list" in text
        scroll = app.screen.query_one("#help-scroll")
        assert scroll.has_focus
        await pilot.press("end")
        assert scroll.scroll_y > 0  # longer than the screen: it scrolls
        await pilot.press("escape")
        assert isinstance(app.screen, TimerScreen)


async def test_palette_offers_the_screens_commands(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Timer: New" in titles and "Projects" in titles and "Quit" in titles
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"timer: new")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "NewTimerModal"


async def test_keys_can_be_remapped_from_settings(store, settings, clock):
    from datetime import UTC

    from jtt_tui.services.container import Services
    from jtt_tui.ui.app import JttApp

    update_settings_file(settings.config_dir, {"keys": {"timer.new": "ctrl+n", "no.such": "x"}})
    remapped = load_settings()
    app = JttApp(Services.over(store, tz=UTC), remapped, clock=clock, status_refresh_s=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("unknown command ids ignored: no.such" in n.message for n in app._notifications)
        await pilot.press("n")
        assert isinstance(app.screen, TimerScreen)
        await pilot.press("ctrl+n")
        assert type(app.screen).__name__ == "NewTimerModal"


async def test_theme_cycles_and_is_remembered(make_app, settings):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "jtt-light"
        await pilot.press("ctrl+t")
        assert app.theme == "ansi-dark"
    saved = tomllib.loads(settings.settings_path.read_text())
    assert saved["ui"]["theme"] == "ansi"
    assert load_settings().ui.theme == "ansi"


async def test_quit_says_the_timer_keeps_running(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
    assert "WEB-1 keeps running" in (app.farewell or "")
    assert store.get_session("WEB-1").status == "running"


async def test_a_failing_store_is_reported_not_fatal(make_app, store, monkeypatch):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)

        def broken(*args):
            cause = sqlite3.OperationalError("database or disk is full")
            raise StorageError(f"local store /x/jtt.db: {cause}") from cause

        monkeypatch.setattr(store, "_commit", broken)  # every change is one commit
        await pilot.press("space")
        await settle(pilot)
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert any("disk is full" in m and "free space" in m for m in messages), messages


async def test_hostile_names_stay_on_one_line(make_app, store):
    store.save_session(
        Session(ticket_number="EVIL-1", ticket_name="\x1b[2J\u202eevil\nname\twith\x07bell")
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#recent", DataTable)
        names = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        evil = next(name for name in names if "evil" in name)
        assert "\n" not in evil and "\x1b" not in evil and "\u202e" not in evil
        assert str(app.screen.query_one("#status-timer").render()).startswith("▶")


async def test_the_app_offers_to_adopt_the_one_owner_of_the_data(make_app, settings):
    """Settings lost: the store holds another id's data only. The app asks;
    y saves that id and asks run_app to open again on its data."""
    import tomllib

    from jtt_tui.ui.modals.confirm import ConfirmModal
    from tests.ui.conftest import settle

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app._offer_adoption("mia-1234", 42)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "42 records of 'mia-1234'" in app.screen.question
        await pilot.press("y")
        await pilot.pause()
    assert app.restart
    saved = tomllib.loads(settings.settings_path.read_text())
    assert saved["user_id"] == "mia-1234"


async def test_a_missing_store_folder_is_asked_about_and_made(tmp_path, settings):
    """LOCAL_STORE_PATH into a folder that is not there: the app asks; yes
    makes it and asks run_app to open again, no quits with the reason."""
    from jtt_tui.ui.app import BootFailed, JttApp
    from jtt_tui.ui.modals.confirm import ConfirmModal

    folder = tmp_path / "new" / "place"

    def boot():  # what launch's boot raises for it
        raise BootFailed(f"jtt: the folder {folder} does not exist", exit_code=1, folder=folder)

    for key, made in (("n", False), ("y", True)):
        app = JttApp(boot=boot, settings=settings)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(20):
                await pilot.pause(0.05)
                if isinstance(app.screen, ConfirmModal):
                    break
            assert isinstance(app.screen, ConfirmModal)
            assert str(folder) in app.screen.question
            await pilot.press(key)
            await pilot.pause()
        assert folder.is_dir() is made and app.restart is made
        assert (app.return_code == 1) is not made, (app.exit_message, app.return_code)
