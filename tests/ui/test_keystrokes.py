"""Every keystroke where it was meant (#15): keys that arrive in one burst
(a paste, a laggy SSH link, a fast typist) behave exactly like slow typing."""

from __future__ import annotations

from textual.widgets import Input

from jtt_tui.ui.modals.timer_forms import ManualEntryModal, NewTimerModal
from tests.ui.conftest import burst, settle, typed


def _value(app, name: str) -> str:
    return app.screen.query_one(f"#f-{name}", Input).value


async def test_a_burst_in_the_new_timer_form_fills_each_field(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NewTimerModal)
        await burst(pilot, *typed("ACME-500"), "tab", *typed("Fix login"))
        assert (_value(app, "ticket"), _value(app, "name")) == ("ACME-500", "Fix login")


async def test_keys_typed_right_after_n_go_into_the_dialog(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "n", *typed("ACME-103"), "tab", *typed("Quick"))
        assert isinstance(app.screen, NewTimerModal)
        assert (_value(app, "ticket"), _value(app, "name")) == ("ACME-103", "Quick")


async def test_a_burst_with_editing_keys_in_add_time(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ManualEntryModal)
        app.screen.query_one("#f-duration", Input).focus()
        await settle(pilot)
        await burst(pilot, *typed("20m"), "tab", "ctrl+u", *typed("yesterday"))
        assert (_value(app, "duration"), _value(app, "day")) == ("20m", "yesterday")
