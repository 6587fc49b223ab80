"""Small screens, plain terminals, start-up and exits (#15 §4, §5): the
footer keeps its most important keys and always ends with the help key; the
status line keeps the running timer on a narrow terminal, on MongoDB too;
checkboxes show their state by shape; the light theme's state colours are
readable; keys pressed while the store opens wait for it instead of
crashing; a crash exits 1 with the log's path; money is written one way."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC

import pytest
from textual.color import Color

from jtt_tui.services.container import Services
from jtt_tui.ui.app import Booted, JttApp
from jtt_tui.ui.commands import REGISTRY, SCREENS
from jtt_tui.ui.palette import LIGHT_THEME, LIGHT_TONES
from jtt_tui.ui.state import StoreBadge
from jtt_tui.ui.widgets.check import Check
from jtt_tui.ui.widgets.key_bar import Item, KeyBar, fit
from jtt_tui.ui.widgets.status_line import badge_texts
from jtt_tui.ui.widgets.status_line import fit as fit_status
from tests.ui.conftest import settle


def _footer(app) -> str:
    return str(app.screen.query_one(KeyBar).render())


def _status(app) -> tuple[str, str, str]:
    line = app.screen.query_one("StatusLine")
    return tuple(  # type: ignore[return-value]
        str(line.query_one(f"#status-{part}").render()) for part in ("timer", "today", "badge")
    )


# -- the footer ------------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 100, 120])
async def test_the_footer_never_cuts_a_key_and_ends_with_the_help_key(make_app, width):
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        for section in ("f1", "f2", "f3", "f4", "f5"):
            await pilot.press(section)
            await settle(pilot)
            footer = _footer(app).rstrip()
            assert footer.endswith("? Keys"), (section, footer)
            assert len(footer) <= width, (section, footer)
            if section == "f1":
                # the essentials first, at every width
                assert footer.startswith(" n New  space Start/Pause  s Stop")
                if width >= 80:
                    assert "r Resume" in footer
                if width >= 120:
                    assert "q Quit" in footer


async def test_in_a_text_field_the_footer_shows_only_keys_that_still_act(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "g")  # the billing settings: a text field has the focus
        await settle(pilot)
        footer = _footer(app)
        assert "F1-F5 Sections" in footer and footer.rstrip().endswith("^l Keys")
        assert "^q Quit" in footer and " q Quit" not in footer
        await pilot.press("ctrl+l")
        assert type(app.screen).__name__ == "HelpScreen"


def test_fit_drops_less_important_keys_first():
    items = [
        Item("n", "New", True, 1, 0),
        Item("c", "Complete", True, 2, 1),
        Item("/", "Filter", True, 3, 2),
        Item("s", "Stop", True, 1, 3),
    ]
    help_item = Item("?", "Keys", True, 2, 99)
    shown = fit(items, help_item, 35)
    assert [i.key for i in shown] == ["n", "c", "s", "?"]  # in place order, help last
    assert [i.key for i in fit(items, help_item, 30)] == ["n", "s", "?"]
    # a more important key that does not fit keeps every less important one out
    assert [i.key for i in fit(items, help_item, 20)] == ["n", "?"]
    assert [i.key for i in fit(items, help_item, 100)] == ["n", "c", "/", "s", "?"]


# -- the status line -------------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80])
async def test_the_running_timer_stays_on_a_narrow_mongodb_status_line(make_app, width):
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        app.store_badge = StoreBadge(
            "mongodb: db.example.com:27017/jtt", "reconnecting", "1 pending"
        )
        await settle(pilot)
        timer, _today, badge = _status(app)
        assert timer.startswith("▶ WEB-1") and "7:30:00" in timer
        assert "reconnecting" in badge  # the state's word stays; the host goes first
        assert "db.example.com" not in badge
        line = app.screen.query_one("StatusLine")
        assert sum(part.size.width for part in line.children if part.display) <= width


def test_the_badge_shortens_before_the_timer():
    badges = badge_texts(StoreBadge("mongodb: host:27017/jtt", "reconnecting", "1 pending"))
    assert badges == [
        "mongodb: host:27017/jtt ● reconnecting · 1 pending",
        "mongodb ● reconnecting · 1 pending",
        "● reconnecting · 1 pending",
        "● reconnecting",
    ]
    timers = ["▶ WEB-1 Login page 7:30:00", "▶ WEB-1 7:30:00"]
    today = "today 7h 15m"
    assert fit_status(120, timers, today, badges) == (timers[0], today, badges[0])
    assert fit_status(80, timers, today, badges) == (timers[0], today, badges[1])
    assert fit_status(60, timers, today, badges) == (timers[0], today, badges[3])
    assert fit_status(45, timers, today, badges) == (timers[0], "", badges[3])
    assert fit_status(35, timers, today, badges) == (timers[1], "", badges[3])


async def test_a_local_store_never_says_reconnecting(make_app, settings, store):
    """While the store opens the badge says so ("opening"), never a state of
    a remote connection."""
    opened = threading.Event()

    def boot() -> Booted:
        opened.wait(5)
        return Booted(Services.over(store, tz=UTC), settings)

    app = JttApp(boot=boot, settings=settings, status_refresh_s=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert _status(app)[2] == "local ● opening"
        opened.set()
        await settle(pilot)
        assert _status(app)[2] == "local ● connected"


# -- plain terminals -------------------------------------------------------------------


async def test_checkboxes_show_their_state_by_shape(make_app):
    app = make_app()
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")  # add time by hand: "Billable", on
        box = app.screen.query_one("#f-billable", Check)
        assert str(box.render()).startswith("[X]")
        box.value = False
        await pilot.pause()
        assert str(box.render()).startswith("[ ]")
        pilot.app.theme = "ansi-dark"
        await pilot.pause()
        assert str(box.render()).startswith("[ ]")


def _contrast(a: Color, b: Color) -> float:
    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_light_theme_state_colours_are_readable():
    backgrounds = [Color.parse(c) for c in (LIGHT_THEME.background, LIGHT_THEME.surface,
                                             LIGHT_THEME.panel, "#ffffff")]  # fmt: skip
    colours = [*LIGHT_TONES.values(), LIGHT_THEME.success, LIGHT_THEME.warning,
               LIGHT_THEME.error, LIGHT_THEME.accent]  # fmt: skip
    for colour in colours:
        for background in backgrounds:
            ratio = _contrast(Color.parse(colour), background)
            assert ratio >= 4.5, (colour, background.hex, round(ratio, 2))


async def test_the_light_theme_paints_states_in_its_own_tones(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.theme = "jtt-light"
        await settle(pilot)
        table = app.screen.query_one("#top")
        status = table.get_cell_at((0, table.get_column_index("status")))
        assert str(status.style) == f"bold {LIGHT_TONES['good']}"  # WEB-1, running


# -- start-up: keys while the store opens ------------------------------------------------


def _section_keys(scope: str) -> list[str]:
    keys = []
    for command in REGISTRY:
        if command.scope.split(".")[0] in (scope, "app") and command.id != "app.quit":
            keys += [k.strip() for k in command.key.split(",")]
    return keys


@pytest.mark.parametrize("section", SCREENS)
async def test_every_key_pressed_while_the_store_opens_waits_for_it(
    settings, store, section, monkeypatch
):
    """A slow store (1 s): every key of the section, pressed at once, is
    held, then run in order once the store is open. Nothing crashes."""
    from tests.ui.conftest import burst

    async def press_now(pilot, *keys: str) -> None:
        """The burst, without waiting for the app (the boot worker included)."""
        waited = pilot.app.workers.wait_for_complete
        pilot.app.workers.wait_for_complete = lambda *a, **k: asyncio.sleep(0)
        try:
            await burst(pilot, *keys)
        finally:
            pilot.app.workers.wait_for_complete = waited

    def boot() -> Booted:
        import time

        time.sleep(1.0)
        return Booted(Services.over(store, tz=UTC), settings)

    monkeypatch.setattr("jtt_tui.ui.keys.TELL_AFTER_S", 0.2)
    app = JttApp(boot=boot, settings=settings, status_refresh_s=3600)
    section_key = f"f{SCREENS.index(section) + 1}"
    async with app.run_test(size=(100, 30)) as pilot:
        await press_now(pilot, section_key, *_section_keys(section), "escape", "escape")
        await asyncio.sleep(0.4)
        assert not app.ready
        messages = [n.message for n in app._notifications]
        assert any("Still opening the store" in m for m in messages)
        for _ in range(40):
            if app.ready:
                break
            await pilot.pause(0.1)
        assert app.ready
        await settle(pilot)
        assert app.is_running


async def test_keys_typed_while_the_store_opens_run_in_order_once_it_is(settings, store):
    from textual.widgets import Input

    from jtt_tui.ui.modals.timer_forms import NewTimerModal

    gate = threading.Event()

    def boot() -> Booted:
        gate.wait(5)
        return Booted(Services.over(store, tz=UTC), settings)

    app = JttApp(boot=boot, settings=settings, status_refresh_s=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", *"web-9")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, NewTimerModal)  # held
        gate.set()
        await settle(pilot)
        assert isinstance(app.screen, NewTimerModal)
        assert app.screen.query_one("#f-ticket", Input).value == "web-9"


async def test_quit_goes_through_while_the_store_opens(settings, store):
    gate = threading.Event()

    def boot() -> Booted:
        gate.wait(5)
        return Booted(Services.over(store, tz=UTC), settings)

    app = JttApp(boot=boot, settings=settings, status_refresh_s=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n", "ctrl+q")
        await pilot.pause(0.3)
        assert not app.is_running
    gate.set()


# -- exits -----------------------------------------------------------------------------


async def test_a_crash_exits_1_and_says_where_the_details_are(make_app, tmp_path, monkeypatch):
    from jtt_tui.ui.screens.timer import TimerScreen

    def broken(self) -> None:
        raise RuntimeError("a bug in an action")

    monkeypatch.setattr(TimerScreen, "action_new_timer", broken)
    app = make_app()
    app.log_path = tmp_path / "jtt.log"
    with pytest.raises(RuntimeError, match="a bug in an action"):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await pilot.pause(0.2)
    assert app.return_code == 1
    assert str(tmp_path / "jtt.log") in app.exit_message
    assert "unexpected error" in app.exit_message
    assert "Traceback" not in app.exit_message  # only with --debug


# -- money -----------------------------------------------------------------------------


async def test_money_is_written_one_way_everywhere(make_app, store):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        invoices = app.screen.query_one("#invoices")
        total = str(invoices.get_cell_at((0, invoices.get_column_index("total"))))
        assert total == "$110.00"
        assert "total $110.00" in str(app.screen.query_one("#invoice-detail").render())
        await pilot.press("r")  # reports: the same style
        await settle(pilot)
        assert "$" in str(app.screen.query_one("#reports-title").render())
        assert " USD" not in str(app.screen.query_one("#reports-title").render())
        await pilot.press("escape")
        await settle(pilot)
        # the style is a setting: 1.234,50 for every currency
        await pilot.press("g")
        await settle(pilot)
        app.screen.query_one("#f-number_format").value = "1.234,50"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        invoices = app.screen.query_one("#invoices")
        assert str(invoices.get_cell_at((0, invoices.get_column_index("total")))) == "$110,00"
        await pilot.press("f2")
        await settle(pilot)
        projects = app.screen.query_one("#projects")
        money = str(projects.get_cell_at((0, projects.get_column_index("money"))))
        assert money.startswith("$") and "," in money
    assert store.get_billing_settings().number_format == "1.234,50"


def test_no_float_reaches_the_money_format():
    from decimal import Decimal

    from jtt_tui.domain.money import format_money

    with pytest.raises(TypeError):
        format_money(1234.5, "USD")  # type: ignore[arg-type]
    assert format_money(Decimal("0.005"), "USD") == "$0.01"  # half up, once
    assert format_money(-Decimal("1234.5"), "EUR", "1 234,50") == "-1\u00a0234,50 €"
