"""Billing: export the selected invoice (the format from the file name) and
the Reports view with its chart."""

from __future__ import annotations

import io
import stat

from pypdf import PdfReader
from textual.widgets import DataTable, Input, Static

from jtt_tui.ui.modals.path_prompt import PathPrompt
from jtt_tui.ui.screens.reports import ReportsScreen, bar
from tests.ui.conftest import settle


async def test_export_the_selected_invoice(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("w")
        assert isinstance(app.screen, PathPrompt)
        field = app.screen.query_one("#f-path", Input)
        field.value = str(tmp_path / "invoice.docx")
        await pilot.press("enter")
        assert isinstance(app.screen, PathPrompt)  # refused: not a format we write
        assert ".pdf" in str(app.screen.query_one("#e-path", Static).render())
        field.value = str(tmp_path / "invoice.pdf")
        await pilot.press("enter")
        await settle(pilot)
        assert any("Wrote INV-1001" in n.message for n in app._notifications)
    written = tmp_path / "invoice.pdf"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(written.read_bytes())).pages)
    assert "INV-1001" in text and "API-7" in text


async def test_reports_view_groups_and_charts(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        assert screen.report is not None and screen.report.by == "week"
        assert "█" in str(screen.query_one("#reports-chart", Static).render())
        await pilot.press("b")  # by day
        await settle(pilot)
        assert screen.report.by == "day"
        labels = [str(screen.query_one(DataTable).get_row_at(i)[0]) for i in range(3)]
        assert all(label[:4] == "2025" for label in labels)
        before = screen.report.first
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.report.last == before - before.resolution  # the period just before
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReportsScreen)


def test_bars_scale_to_an_eighth_of_a_cell():
    from decimal import Decimal

    assert bar(Decimal(10), Decimal(10), 4) == "████"
    assert bar(Decimal(5), Decimal(10), 4) == "██"
    assert bar(Decimal(1), Decimal(10), 4) == "▍"  # 3.2 eighths of a cell
    assert bar(Decimal(0), Decimal(10), 4) == ""


async def test_rounding_is_set_in_the_billing_settings_form(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        field = app.screen.query_one("#f-rounding", Input)
        assert field.value == "none"
        field.value = "sideways"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "up-N" in str(app.screen.query_one("#e-rounding", Static).render())
        assert store.get_billing_settings().rounding.mode == "none"  # nothing saved
        field.value = "up-6,min-15"
        await pilot.press("ctrl+s")
        await settle(pilot)
    rule = store.get_billing_settings().rounding
    assert (rule.mode, rule.minutes, rule.minimum_minutes) == ("up", 6, 15)
