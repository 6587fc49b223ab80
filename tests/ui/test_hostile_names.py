"""Hostile names on screen: shown as text, never as markup or control codes."""

from __future__ import annotations

from textual.widgets import DataTable

from jtt_tui.domain import ManualTask
from tests.ui.conftest import settle


async def test_the_tui_renders_hostile_names_as_text(make_app, store):
    nasty = "[bold red]markup[/] \x1b[2J \u202eRTL 🧨"
    store.update_session("WEB-2", ticket_name=nasty)
    store.save_manual_task(
        ManualTask(title="[link=http://evil]x[/link]", date=store.clock.now().date())
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#top", DataTable)
        cells = [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]
        shown = " ".join(cells)
        assert "[bold red]markup[/]" in shown  # literally, not as markup
        assert "\x1b" not in shown
        await pilot.press("3", "2", "1")  # every section still draws
        await settle(pilot)
