"""The ledger in the app (#14): undo and redo keys, billed time locked and
marked, the forgotten-timer question, the reminder, adding a segment with
its start, out-of-date drafts. A frozen clock throughout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import DataTable, Input

from jtt_tui.domain import SessionStatus
from jtt_tui.services.billing import BillingService
from jtt_tui.services.timer import TimerService
from jtt_tui.ui.modals.confirm import ConfirmModal
from jtt_tui.ui.modals.forgotten import ForgottenModal
from jtt_tui.ui.modals.timer_forms import AddSegmentModal
from jtt_tui.ui.screens.timer import TimerScreen
from tests.ui.conftest import NOW, settle

S = SessionStatus


def _messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def _select(app, table_id: str, ticket: str) -> None:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(f"s:{ticket}"))


def _segment_cells(app, column: str) -> list[str]:
    table = app.screen.query_one("#segments", DataTable)
    return [
        str(table.get_cell_at((r, table.get_column_index(column)))) for r in range(table.row_count)
    ]


async def test_undo_and_redo_keys_name_what_they_did(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _select(app, "top", "WEB-2")
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert store.get_session("WEB-2") is None
        await pilot.press("z")
        await settle(pilot)
        assert store.get_session("WEB-2") is not None
        assert "Undid: delete WEB-2 and its 1 segment" in _messages(app)
        assert "WEB-2" in [str(c) for c in app.screen.query_one("#top", DataTable).get_column_at(0)]
        await pilot.press("Z")
        await settle(pilot)
        assert store.get_session("WEB-2") is None
        assert "Redid: delete WEB-2 and its 1 segment" in _messages(app)
        await pilot.press("Z")
        await settle(pilot)
        assert "Nothing to redo." in _messages(app)


async def test_billed_time_is_marked_and_cannot_be_deleted(make_app, store):
    (invoice,) = store.get_invoices()  # the seed's draft INV-1001 bills API-7
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _select(app, "recent", "API-7")
        await settle(pilot)
        assert _segment_cells(app, "bill")[0] == "draft"
        assert "on draft INV-1001" in str(app.screen.query_one("#detail-summary").render())
        await pilot.press("d")  # a draft: asked, and the dialog names it
        assert isinstance(app.screen, ConfirmModal)
        assert "draft INV-1001" in app.screen.question
        await pilot.press("n")
        BillingService(store, tz=UTC).set_status(invoice.invoice_id, "sent")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert _segment_cells(app, "bill")[0] == "🔒"
        assert "🔒 billed on INV-1001 (locked)" in str(
            app.screen.query_one("#detail-summary").render()
        )
        await pilot.press("d")  # sent: refused at once, naming the invoice
        assert isinstance(app.screen, TimerScreen)
        assert any("INV-1001 (sent) cannot be deleted" in m for m in _messages(app))
        segments = app.screen.query_one("#segments", DataTable)
        segments.focus()
        segments.move_cursor(row=0)
        await pilot.press("e")
        assert isinstance(app.screen, TimerScreen)
        assert any("cannot be edited" in m for m in _messages(app))
    assert store.get_session("API-7") is not None


async def test_a_timer_left_running_is_asked_about_on_start_up(make_app, store, clock):
    clock.set(NOW + timedelta(days=1))  # WEB-1 has run since yesterday 08:30
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ForgottenModal)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "WEB-1 — Login page has been running since yesterday 08:30 (30h 00m)" in text
        # the last thing done in jtt that day was the seed's invoice, at 14:30
        assert app.screen.query_one("#forgotten-at", Input).value == "2025-03-12 14:30"
        field = app.screen.query_one("#forgotten-at", Input)
        assert field.has_focus  # typing a time goes into the time
        field.value = ""
        await pilot.press(*"yesterday 17:45", "enter")  # no letter fires a choice
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
    web = store.get_session("WEB-1")
    assert web.status == S.STOPPED
    assert web.segments[-1].end == datetime(2025, 3, 12, 17, 45, tzinfo=UTC)


async def test_keep_a_long_timer_and_it_is_not_asked_again(make_app, store, clock):
    clock.set(NOW + timedelta(days=1))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("k")  # typed into the time field: never a choice by accident
        assert isinstance(app.screen, ForgottenModal)
        await pilot.press("tab", "tab", "tab", "k")  # the buttons: k keeps it
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
        assert store.get_session("WEB-1").segments[-1].confirmed == clock.now()
        app.timekeeping.check_forgotten()
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
        await pilot.press("s")  # stopping it now counts it all: it was kept
        await settle(pilot)
    assert store.get_session("WEB-1").status == S.STOPPED


async def test_ending_a_long_timer_asks_first(make_app, store, clock):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        clock.advance(hours=12)  # 18 h since 08:30, the app open all along
        await pilot.press("l")  # (a key press: the periodic check may also ask)
        await settle(pilot)
        if isinstance(app.screen, ForgottenModal):
            await pilot.press("l")  # later
        _select(app, "top", "WEB-1")
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ForgottenModal)
        await pilot.press("l")
        await settle(pilot)
    assert store.get_session("WEB-1").status == S.RUNNING  # nothing counted silently


async def test_a_reminder_when_no_timer_runs_in_working_hours(make_app, store, clock):
    TimerService(store, clock=clock, tz=UTC).pause("WEB-1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.timekeeping.check_idle()
        await pilot.pause()
        assert not [m for m in _messages(app) if "No timer" in m]
        clock.advance(minutes=16)  # Wednesday 14:46
        app.timekeeping.check_idle()
        await pilot.pause()
        reminders = [m for m in _messages(app) if "No timer" in m]
        assert reminders == ["No timer has run for 15 min: n starts one, r resumes WEB-1."]
        clock.advance(minutes=30)
        app.timekeeping.check_idle()  # once per idle stretch: gentle
        await pilot.pause()
        assert len([m for m in _messages(app) if "No timer" in m]) == 1
        assert isinstance(app.screen, TimerScreen)  # a toast, never a modal
        # left open overnight: the next working day reminds again
        for hours in (8, 10, 3):  # 23:16 (after work), 09:16, 12:16
            clock.advance(hours=hours)
            app.timekeeping.check_idle()
        await pilot.pause()
        assert len([m for m in _messages(app) if "No timer" in m]) == 2


async def test_no_reminder_after_working_hours(make_app, store, clock):
    TimerService(store, clock=clock, tz=UTC).pause("WEB-1")
    clock.set(datetime(2025, 3, 12, 18, 30, tzinfo=UTC))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        clock.advance(hours=2)
        app.timekeeping.check_idle()
        await pilot.pause()
        assert not [m for m in _messages(app) if "No timer" in m]


async def test_add_a_segment_with_its_start(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        _select(app, "recent", "API-7")
        await pilot.press("A")
        assert isinstance(app.screen, AddSegmentModal)
        assert app.screen.query_one("#f-ticket", Input).value == "API-7"
        app.screen.query_one("#f-start", Input).value = "12:00"
        app.screen.query_one("#f-end", Input).value = "1h"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # WEB-1 runs since 08:30: refused in the dialog, under the start, and
        # what was typed stays for a correction (no toast)
        assert isinstance(app.screen, AddSegmentModal)
        assert "would overlap WEB-1" in str(app.screen.query_one("#e-start").render())
        assert app.screen.query_one("#f-end", Input).value == "1h"
        assert not [m for m in _messages(app) if "overlap" in m]
        assert len(store.get_session("API-7").segments) == 1
        app.screen.query_one("#f-start", Input).value = "yesterday 12:00"
        app.screen.query_one("#f-end", Input).value = "1h30m"
        await pilot.press("ctrl+s")
        await settle(pilot)
    added = store.get_session("API-7").segments[-1]
    assert (added.start, added.end) == (
        datetime(2025, 3, 11, 12, 0, tzinfo=UTC),
        datetime(2025, 3, 11, 13, 30, tzinfo=UTC),
    )


async def test_an_out_of_date_draft_is_flagged_and_rebuilt(make_app, store, clock):
    timer = TimerService(store, clock=clock, tz=UTC)
    timer.edit_segment(
        "API-7",
        0,
        start=datetime(2025, 3, 10, 8, 30, tzinfo=UTC),
        end=datetime(2025, 3, 10, 11, 0, tzinfo=UTC),
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#invoices", DataTable)
        assert str(table.get_cell_at((0, table.get_column_index("status")))) == "draft ⚠"
        assert "Out of date" in str(app.screen.query_one("#invoice-detail").render())
        await pilot.press("u")
        await settle(pilot)
        assert str(table.get_cell_at((0, table.get_column_index("status")))) == "draft"
    (invoice,) = store.get_invoices()
    assert str(invoice.items[0].hours) == "2.50"


async def test_a_segment_across_midnight_counts_on_each_of_its_days(make_app, store, clock):
    TimerService(store, clock=clock, tz=UTC).add(
        "OPS-9",
        datetime(2025, 3, 10, 23, 0, tzinfo=UTC),
        datetime(2025, 3, 11, 1, 30, tzinfo=UTC),
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        _select(app, "recent", "OPS-9")
        await settle(pilot)
        rows = list(
            zip(
                _segment_cells(app, "day"),
                _segment_cells(app, "start"),
                _segment_cells(app, "end"),
                _segment_cells(app, "length"),
                strict=True,
            )
        )
    assert rows == [
        ("2025-03-11", "00:00", "01:30", "1:30:00"),
        ("", "", "day total", "1:30:00"),
        ("2025-03-10", "23:00", "24:00", "1:00:00"),
        ("", "", "day total", "1:00:00"),
    ]
