"""The Timer section, driven with Pilot: every binding and form."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import DataTable, Input, Static

from jtt_tui.domain import SessionStatus
from jtt_tui.ui.modals.confirm import ConfirmModal
from jtt_tui.ui.modals.timer_forms import ManualEntryModal, NewTimerModal
from jtt_tui.ui.screens.timer import TimerScreen
from tests.ui.conftest import NOW, settle

S = SessionStatus


def _rows(app, table_id: str) -> list[str]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def _error(app, name: str) -> str:
    return str(app.screen.query_one(f"#e-{name}", Static).render())


async def _type(pilot, text: str) -> None:
    await pilot.press(*list(text))


async def test_lists_status_line_and_detail(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
        assert _rows(app, "top") == ["WEB-1", "WEB-2", "—"]  # active, today's, manual
        assert _rows(app, "recent") == ["API-7", "OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5"]

        def text(widget_id: str) -> str:
            return str(app.screen.query_one(widget_id).render())

        # 1:30 yesterday + 6:00 since 08:30 today; today: 6:00 + 0:45 + a 0:30 manual entry
        assert text("#status-timer") == "▶ WEB-1 Login page 7:30:00"
        assert text("#status-today") == "today 7h 15m"
        assert text("#status-badge") == "local ● connected"
        assert str(app.screen.query_one("#detail-title").render()) == "WEB-1 — Login page"
        assert "running · 7h 30m in 2 segments" in text("#detail-summary")


async def test_new_timer_validates_inline_and_changes_nothing_on_error(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NewTimerModal)
        await _type(pilot, "not a ticket")
        await pilot.press("enter")
        assert isinstance(app.screen, NewTimerModal)
        assert "not a Jira ticket number" in _error(app, "ticket")
        assert store.get_session("NOT") is None
        app.screen.query_one("#f-ticket", Input).value = "api-99"
        app.screen.query_one("#f-project", Input).value = "NOPE"
        await pilot.press("ctrl+s")
        assert "no project with the key NOPE" in _error(app, "project")
        app.screen.query_one("#f-project", Input).value = ""
        app.screen.query_one("#f-name", Input).value = "Docs"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
    started = store.get_session("API-99")
    assert started.status == S.RUNNING and started.ticket_name == "Docs"
    assert store.get_session("WEB-1").status == S.PAUSED  # switched


async def test_cancel_leaves_everything_as_it_was(make_app, store):
    before = store.export_all().model_dump(exclude={"exported_at"})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await _type(pilot, "WEB-5")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
    assert store.export_all().model_dump(exclude={"exported_at"}) == before


async def test_space_s_c_r_on_the_selected_ticket(make_app, store, clock):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space")  # WEB-1 is running: pause it
        await settle(pilot)
        assert store.get_session("WEB-1").status == S.PAUSED
        await pilot.press("space")  # and start it again
        await settle(pilot)
        assert store.get_session("WEB-1").status == S.RUNNING
        await pilot.press("down", "r")  # resume WEB-2 (pauses WEB-1)
        await settle(pilot)
        assert store.get_session("WEB-2").status == S.RUNNING
        assert store.get_session("WEB-1").status == S.PAUSED
        await pilot.press("s")
        await settle(pilot)
        table = app.screen.query_one("#top", DataTable)
        table.move_cursor(row=_rows(app, "top").index("WEB-2"))
        await pilot.press("c")
        await settle(pilot)
    assert store.get_session("WEB-2").status == S.COMPLETED


async def test_edit_ticket_and_move_the_running_start(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        screen = app.screen
        screen.query_one("#f-name", Input).value = "Login page v2"
        screen.query_one("#f-tags", Input).value = "ui, auth"
        screen.query_one("#f-start", Input).value = "25:99"
        await pilot.press("ctrl+s")
        assert "not a time of day" in _error(app, "start")
        screen.query_one("#f-start", Input).value = "2025-03-12 08:20"  # WEB-2 ended 08:15
        await pilot.press("ctrl+s")
        await settle(pilot)
    session = store.get_session("WEB-1")
    assert session.ticket_name == "Login page v2" and session.tags == ["ui", "auth"]
    assert session.segments[-1].start == NOW.replace(hour=8, minute=20)


async def test_delete_asks_first(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert store.get_session("WEB-1") is not None
        await pilot.press("d")
        await pilot.press("y")
        await settle(pilot)
    assert store.get_session("WEB-1") is None


async def test_add_manual_entry(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ManualEntryModal)
        screen = app.screen
        assert screen.query_one("#f-ticket", Input).value == "WEB-1"  # the selection
        screen.query_one("#f-duration", Input).value = "ninety minutes"
        await pilot.press("ctrl+s")
        assert "is not a duration" in _error(app, "duration")
        screen.query_one("#f-duration", Input).value = "1h30m"
        screen.query_one("#f-day", Input).value = "yesterday"
        screen.query_one("#f-title", Input).value = "Pairing"
        await pilot.press("ctrl+s")
        await settle(pilot)
    tasks = [t for t in store.get_manual_tasks() if t.title == "Pairing"]
    assert len(tasks) == 1
    assert tasks[0].duration == timedelta(minutes=90)
    assert tasks[0].date == NOW.date() - timedelta(days=1)
    assert tasks[0].ticket_number == "WEB-1"


async def test_filter(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await _type(pilot, "maint")
        await pilot.press("enter")
        await settle(pilot)
        assert _rows(app, "top") == []
        assert _rows(app, "recent") == ["OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5"]
        await pilot.press("escape")
        await settle(pilot)
        assert _rows(app, "top") == ["WEB-1", "WEB-2", "—"]


async def test_edit_and_delete_a_segment(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        segments = app.screen.query_one("#segments", DataTable)
        segments.focus()
        segments.move_cursor(row=2)  # yesterday's segment (today's is first, then its total)
        await pilot.press("e")
        screen = app.screen
        screen.query_one("#f-end", Input).value = "2025-03-11 09:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.get_session("WEB-1").segments[0].end == NOW.replace(day=11, hour=9, minute=0)
        segments = app.screen.query_one("#segments", DataTable)
        segments.focus()
        segments.move_cursor(row=2)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    assert len(store.get_session("WEB-1").segments) == 1


async def test_the_running_row_ticks_without_reading_the_store(make_app, store, clock, monkeypatch):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reads = []
        monkeypatch.setattr(store, "_load_all", lambda *a: reads.append(a) or [])
        clock.advance(seconds=5)
        app.screen._tick()
        app.screen.query_one("StatusLine")._show()
        await pilot.pause()
        table = app.screen.query_one("#top", DataTable)
        assert str(table.get_cell("s:WEB-1", "today")) == "6:00:05"
        assert reads == []
