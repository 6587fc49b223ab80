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


async def test_digits_in_a_field_are_text_and_f_keys_switch_sections(make_app):
    from jtt_tui.ui.screens.database import DatabaseScreen
    from jtt_tui.ui.screens.jira import JiraScreen
    from jtt_tui.ui.screens.timer import TimerScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, DatabaseScreen)
        uri = app.screen.query_one("#f-uri", Input)
        uri.focus()
        await burst(pilot, *typed("mongodb://h:27017/1"))
        assert isinstance(app.screen, DatabaseScreen)  # "1" went into the field
        assert uri.value.endswith("27017/1")
        await pilot.press("f5")  # F5: Jira, also from inside a field
        await settle(pilot)
        assert isinstance(app.screen, JiraScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)


async def test_hidden_widgets_never_take_the_focus_or_keys(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("g")  # the settings form replaces the invoice list
        await settle(pilot)
        for _ in range(12):
            await pilot.press("shift+tab")
            assert app.focused is not None
            assert app.screen.query_one("#settings-pane") in app.focused.ancestors_with_self
        app.screen.set_focus(None)  # no field focused: letters are keys again
        await pilot.press("s")  # "sent" belongs to the hidden list: nothing happens
        await settle(pilot)
        assert [i.status for i in store.get_invoices()] == ["draft"]
        await pilot.press("escape")  # Esc leaves the form
        await settle(pilot)
        assert app.screen.query_one("#invoices").has_focus


async def test_tab_goes_from_today_to_its_segments_then_recent(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        order = []
        for _ in range(3):
            await pilot.press("tab")
            await settle(pilot)
            order.append(app.focused.id)
        assert order == ["segments", "recent", "top"]
        title = str(app.screen.query_one("#detail-title").render())
        assert title == "WEB-1 — Login page"  # the detail follows the list in use
