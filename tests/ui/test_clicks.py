"""Clicking works too (#15 §6): every dialog's buttons do, on a click and
on Enter, what their keys do. (The recovery dialog's buttons did nothing:
their action was started without being awaited.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Input

from jtt_tui.domain import SessionStatus
from jtt_tui.ui.modals.billing_forms import InvoicePreviewModal, NewInvoiceModal
from jtt_tui.ui.modals.confirm import ConfirmModal
from jtt_tui.ui.modals.forgotten import ForgottenModal
from jtt_tui.ui.modals.jira import PushScopeModal
from jtt_tui.ui.modals.recovery import ConflictModal, RecoveryModal
from jtt_tui.ui.modals.timer_forms import NewTimerModal
from jtt_tui.ui.screens.timer import TimerScreen
from tests.ui.conftest import NOW, settle, wait_until
from tests.ui.test_recovery import _badge, _modals, _ready, _recovery_shown, _text

S = SessionStatus


async def _select_top(app, pilot, ticket: str) -> None:
    table = app.screen.query_one("#top")
    table.focus()
    table.move_cursor(row=table.get_row_index(f"s:{ticket}"))
    await settle(pilot)


@pytest.mark.parametrize("button", ["yes", "no"])
async def test_confirm_buttons(make_app, store, button):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _select_top(app, pilot, "WEB-2")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click(f"#{button}")
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
    assert (store.get_session("WEB-2") is None) == (button == "yes")


async def test_form_buttons_save_and_cancel(make_app, store):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        app.screen.query_one("#f-ticket", Input).value = "WEB-77"
        await pilot.click("#cancel")
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
        assert store.get_session("WEB-77") is None
        await pilot.press("n")
        assert isinstance(app.screen, NewTimerModal)
        app.screen.query_one("#f-ticket", Input).value = "WEB-77"
        await pilot.click("#submit")
        await settle(pilot)
        assert isinstance(app.screen, TimerScreen)
    assert store.get_session("WEB-77").status == S.RUNNING


@pytest.mark.parametrize("button", ["yes", "no"])
async def test_invoice_preview_buttons(make_app, store, button):
    before = len(store.get_invoices())
    app = make_app()
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "n")
        await settle(pilot)
        assert isinstance(app.screen, NewInvoiceModal)
        web = next(p for p in store.get_projects() if p.key == "WEB")
        app.screen.query_one("#f-scope").value = f"p:{web.project_id}"
        await pilot.click("#submit")
        await settle(pilot)
        assert isinstance(app.screen, InvoicePreviewModal)
        await pilot.click(f"#{button}")
        await settle(pilot)
        assert not isinstance(app.screen, InvoicePreviewModal)
    assert len(store.get_invoices()) == before + (button == "yes")


@pytest.mark.parametrize("button", ["stop", "discard", "keep", "later"])
async def test_forgotten_timer_buttons(make_app, store, clock, button):
    clock.set(NOW + timedelta(days=1))  # WEB-1 has run since yesterday 08:30
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ForgottenModal)
        app.screen.query_one(Input).value = "2025-03-12 17:45"
        await pilot.click(f"#{button}")
        await settle(pilot)
        assert not isinstance(app.screen, ForgottenModal)
    web = store.get_session("WEB-1")
    expected = {
        "stop": S.STOPPED,
        "discard": S.RUNNING,
        "keep": S.RUNNING,
        "later": S.RUNNING,
    }[button]
    assert web.status == expected
    if button == "stop":
        assert web.segments[-1].end.hour == 17 and web.segments[-1].end.minute == 45
    if button == "discard":  # the time after 17:45 is dropped, a new segment runs from now
        assert any(s.end is not None and s.end.hour == 17 for s in web.segments)


async def test_push_scope_buttons(jira_app, store, fake):
    app = jira_app()
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        await _select_top(app, pilot, "WEB-2")
        fake.add_issue("WEB-2", "Header")
        await pilot.press("p")
        assert isinstance(app.screen, PushScopeModal)
        await pilot.click("#cancel")
        await settle(pilot)
        assert not fake.all_worklogs("WEB-2")
        await pilot.press("p")
        await pilot.click("#ticket")
        await settle(pilot)
    assert len(fake.all_worklogs("WEB-2")) == 1


# -- the recovery dialog ----------------------------------------------------------------


async def _lost(app, pilot, wire) -> None:
    await _ready(pilot)
    wire.stop()
    await wait_until(pilot, lambda: _recovery_shown(app))


async def test_recovery_work_offline_button(remote_app, wire):
    app = remote_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await _lost(app, pilot, wire)
        await pilot.click("#offline")
        await pilot.pause(0.1)
        assert not _modals(app, RecoveryModal)
        assert "offline" in _badge(app) or "reconnecting" in _badge(app)


@pytest.mark.parametrize("how", ["click", "enter"])
async def test_recovery_retry_button(remote_app, wire, how):
    app = remote_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await _lost(app, pilot, wire)
        wire.start()
        app.clear_notifications()  # a toast over a button would take the click
        await pilot.pause()
        if how == "click":
            await pilot.click("#retry")
        else:
            app.screen.query_one("#retry").focus()
            await pilot.press("enter")
        await wait_until(pilot, lambda: not _modals(app, RecoveryModal), timeout=10)
        await wait_until(pilot, lambda: "connected" in _badge(app))


async def test_recovery_local_and_settings_buttons(remote_app, wire):
    app = remote_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await _ready(pilot)
        from jtt_tui.storage.errors import failure

        app.services.storage.mark_offline(failure("config", "bad URI"))
        await wait_until(pilot, lambda: _recovery_shown(app))
        await pilot.click("#edit")
        await wait_until(pilot, lambda: getattr(app.screen, "SCOPE", "") == "database")
        await pilot.press("ctrl+o")  # the dialog again, on request
        assert isinstance(app.screen, RecoveryModal)
        await pilot.click("#local")
        storage = app.services.storage
        await wait_until(pilot, lambda: storage.kind == "local", timeout=10)


@pytest.mark.parametrize("button", ["mine", "theirs", "later"])
async def test_conflict_buttons(remote_app, wire, button):
    import asyncio

    app = remote_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await _lost(app, pilot, wire)
        storage = app.services.storage
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await asyncio.to_thread(storage.update_session, "API-7", notes="mine, offline")
        wire.data["jtt"]["sessions"].update_one(
            {"ticketNumber": "API-7"}, {"$set": {"notes": "theirs"}, "$inc": {"version": 1}}
        )
        wire.start()
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ConflictModal) and _text(app, "#conflict-diff"),
            timeout=10,
        )
        app.clear_notifications()  # a toast over a button would take the click
        await pilot.pause()
        await pilot.click(f"#{button}")
        await wait_until(pilot, lambda: not _modals(app, ConflictModal))
        if button != "later":
            await wait_until(pilot, lambda: not storage.conflicts())
    doc = wire.data["jtt"]["sessions"].find_one({"ticketNumber": "API-7"})
    assert doc["notes"] == {"mine": "mine, offline", "theirs": "theirs", "later": "theirs"}[button]
