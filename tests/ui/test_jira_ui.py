"""Jira in the TUI with Pilot, against the fake Jira over HTTP: the settings
section, searching in the new-timer dialog, pushing, push status per
segment, and deleting pushed time."""

from __future__ import annotations

from datetime import UTC

from textual.widgets import DataTable, Input, OptionList, Static

from jtt_tui.config import load_settings
from jtt_tui.ui.modals.confirm import ConfirmModal
from jtt_tui.ui.modals.jira import PushScopeModal
from jtt_tui.ui.modals.timer_forms import NewTimerModal
from tests.ui.conftest import settle


async def test_jira_section_saves_and_tests_the_connection(make_app, fake, memory_keyring):
    app = make_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert "not set up" in str(screen.query_one("#jira-queue", Static).render())
        screen.query_one("#f-url", Input).value = "ftp://nope"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "atlassian.net" in str(screen.query_one("#e-url", Static).render())
        screen.query_one("#f-url", Input).value = fake.url
        screen.query_one("#f-email", Input).value = fake.email
        screen.query_one("#f-token", Input).value = "wrong"
        screen.query_one("#f-url", Input).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert memory_keyring.secrets[("jtt", "jira-token")] == "wrong"
        screen.set_focus(None)
        await pilot.press("t")
        await settle(pilot)
        result = str(screen.query_one("#jira-result", Static).render())
        assert result.startswith("✗ Jira rejected the token") and "plain http" in result
        screen.query_one("#f-token", Input).value = fake.token
        screen.set_focus(None)
        await pilot.press("t")
        await settle(pilot)
        result = str(screen.query_one("#jira-result", Static).render())
        assert result.startswith("✓ Connected to Jira Cloud as Mia Krystof")
    saved = load_settings()
    assert saved.jira.url == fake.url and saved.jira.email == fake.email
    assert "tok-123" not in saved.settings_path.read_text()


async def test_new_timer_dialog_searches_jira_and_fills_the_form(jira_app, store, fake):
    app = jira_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, NewTimerModal)
        results = modal.query_one("#ticket-results", OptionList)
        assert results.option_count == 3  # your open tickets, before typing
        await pilot.press(*"password")
        await pilot.pause(0.5)
        await settle(pilot)
        assert results.option_count == 1
        assert "WEB-9" in str(results.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert modal.query_one("#f-ticket", Input).value == "WEB-9"
        assert modal.query_one("#f-name", Input).value == "Password reset e-mail"
        await pilot.press("ctrl+s")
        await settle(pilot)
    session = store.get_session("WEB-9")
    assert session is not None and session.ticket_name == "Password reset e-mail"
    cached = store.get_ticket("WEB-9")
    assert cached is not None and cached.source == "jira"


async def test_search_falls_back_to_the_cache_when_jira_is_down(jira_app, store, fake):
    app = jira_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)  # fills the cache with the open tickets
        await pilot.press("escape")
        fake.server.stop()
        await pilot.press("n")
        await pilot.press(*"rate")
        await pilot.pause(0.5)
        await settle(pilot)
        modal = app.screen
        results = modal.query_one("#ticket-results", OptionList)
        assert results.option_count == 1 and "API-7" in str(results.get_option_at_index(0).prompt)
        note = str(modal.query_one("#search-note", Static).render())
        assert "offline" in note and "cannot reach Jira" in note


def _jira_column(app) -> list[str]:
    table = app.screen.query_one("#segments", DataTable)
    return [str(table.get_row_at(i)[4]) for i in range(table.row_count)]


async def test_push_the_selected_ticket_then_delete_its_segment_in_jira_too(jira_app, store, fake):
    app = jira_app()
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        top = app.screen.query_one("#top", DataTable)
        top.move_cursor(row=1)  # WEB-2: paused, one finished segment today
        await settle(pilot)
        fake.add_issue("WEB-2", "Header")
        await pilot.press("p")
        assert isinstance(app.screen, PushScopeModal)
        await pilot.press("t")
        await settle(pilot)
        assert len(fake.all_worklogs("WEB-2")) == 1
        assert "✓" in _jira_column(app)
        # deleting the segment offers to delete the worklog too
        app.screen.query_one("#segments", DataTable).focus()
        app.screen.query_one("#segments", DataTable).move_cursor(row=0)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Delete them in Jira too" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
    assert fake.all_worklogs("WEB-2") == []
    assert store.get_session("WEB-2").segments == []


async def test_push_failures_show_on_the_segment(jira_app, store, fake):
    app = jira_app()
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        top = app.screen.query_one("#top", DataTable)
        top.move_cursor(row=1)  # WEB-2 is not in this Jira: 404
        await settle(pilot)
        await pilot.press("p", "t")
        await settle(pilot)
        assert "✗ failed" in _jira_column(app)
        summary = str(app.screen.query_one("#detail-summary").render())
        assert "Jira:" in summary and "404" in summary
        await pilot.press("5")
        await settle(pilot)
        queue = str(app.screen.query_one("#jira-queue", Static).render())
        assert "failed 1" in queue and "FAILED WEB-2 2025-03-12 07:30: not found" in queue


async def test_queued_pushes_are_sent_by_the_app_when_jira_is_back(jira_app, store, fake):
    app = jira_app()
    fake.add_issue("WEB-2", "Header")
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#top", DataTable).move_cursor(row=1)
        await settle(pilot)
        fake.server.stop()
        await pilot.press("p", "t")
        await settle(pilot)
        assert "… queued" in _jira_column(app) and app.jira_queued is True
        app.retry_jira_queue()  # still down: stays queued, quietly
        await settle(pilot)
        assert app.jira_queued is True
        fake.server.start()
        app.retry_jira_queue()  # what the app's timer does every two minutes
        await settle(pilot)
        assert app.jira_queued is False
        assert "✓" in _jira_column(app)
    assert len(fake.all_worklogs("WEB-2")) == 1


async def test_editing_a_pushed_segment_updates_its_worklog_at_once(jira_app, store, fake):
    from jtt_tui.ui.modals.timer_forms import SegmentModal

    app = jira_app()
    fake.add_issue("WEB-2", "Header")
    fake.add_issue("API-7", "Rate limits")
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        app.screen.query_one("#top", DataTable).move_cursor(row=1)
        await settle(pilot)
        await pilot.press("p", "t")
        await settle(pilot)
        [log] = fake.all_worklogs("WEB-2")
        assert log["timeSpentSeconds"] == 45 * 60
        segments = app.screen.query_one("#segments", DataTable)
        segments.focus()
        segments.move_cursor(row=0)
        await pilot.press("e")
        assert isinstance(app.screen, SegmentModal)
        app.screen.query_one("#f-end", Input).value = "08:25"  # WEB-1 runs from 08:30
        await pilot.press("ctrl+s")
        await settle(pilot)
    [log] = fake.all_worklogs("WEB-2")
    assert log["timeSpentSeconds"] == 55 * 60 and fake.count("PUT") == 1
    assert fake.all_worklogs("API-7") == []  # an edit never pushes other time


async def test_reconcile_view_lists_the_differences_and_acts_on_them(jira_app, store, fake):
    """Push, then change one worklog in Jira and log one in its web UI: the
    Reconcile view (c on the Jira screen) shows both. API-7's time is billed:
    t (take Jira's) is refused and changes nothing, m puts jtt's time back in
    Jira; i imports the other; then Jira and jtt agree."""
    from datetime import timedelta

    from jtt_tui.config import JiraConfig
    from jtt_tui.jira.client import JiraClient
    from jtt_tui.services import jira_plan, jira_push
    from jtt_tui.ui.screens.reconcile import ReconcileScreen
    from tests.ui.conftest import NOW

    units = [
        u for u in jira_plan.plan(store, JiraConfig(url=fake.url), tz=UTC) if u.issue == "API-7"
    ]
    with JiraClient(fake.url, fake.token, email=fake.email) as client:
        assert jira_push.push(store, client, units, now=lambda: NOW).count("created") == 1
    [pushed] = fake.all_worklogs("API-7")
    sent = pushed["timeSpentSeconds"]
    pushed["timeSpentSeconds"] += 600  # ten minutes more, edited in Jira
    fake.add_web_worklog("WEB-9", NOW - timedelta(hours=3), 1800, "Pairing")
    before = store.get_session("API-7").segments
    [invoice] = store.get_invoices()
    store.update_invoice(invoice.invoice_id, status="sent")  # billed: its time is locked

    app = jira_app()
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReconcileScreen)
        table = screen.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[:2] for r in rows] == [["changed", "API-7"], ["Jira only", "WEB-9"]]
        title = str(screen.query_one("#reconcile-title", Static).render())
        assert "1 changed" in title and "1 only in Jira" in title
        await pilot.press("i")  # on the changed one: says what i is for, changes nothing
        await pilot.press("t")  # billed: refused
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("i imports" in m for m in said)
        assert any("billed time is locked" in m for m in said)
        assert store.get_session("API-7").segments == before
        await pilot.press("m")
        await settle(pilot)
        assert fake.all_worklogs("API-7")[0]["timeSpentSeconds"] == sent
        assert [str(table.get_row_at(0)[1])] == ["WEB-9"] and table.row_count == 1
        await pilot.press("i")
        await settle(pilot)
        title = str(screen.query_one("#reconcile-title", Static).render())
        # the seeded time never pushed makes days differ
        assert "every worklog in Jira is as jtt sent it" in title and "not pushed yet" in title
        assert table.row_count == 0
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ReconcileScreen)
    assert store.get_session("API-7").segments[0].end == before[0].end
    assert any(t.title == "Pairing" and t.worklog for t in store.get_manual_tasks())


async def test_a_pushed_manual_entry_shows_its_state_and_its_deletion_offers_jira(
    jira_app, store, fake
):
    from datetime import timedelta

    from jtt_tui.config import JiraConfig
    from jtt_tui.domain.models import ManualTask
    from jtt_tui.jira.client import JiraClient
    from jtt_tui.services import jira_plan, jira_push
    from tests.ui.conftest import NOW

    task = store.save_manual_task(
        ManualTask(
            title="Pairing", ticket_number="WEB-9", duration=timedelta(minutes=40), date=NOW.date()
        )
    )
    units = [u for u in jira_plan.plan(store, JiraConfig(url=fake.url), tz=UTC) if u.task_id]
    assert [u.task_id for u in units] == [task.task_id]  # the seeded entry has no ticket
    with JiraClient(fake.url, fake.token, email=fake.email) as client:
        assert jira_push.push(store, client, units, now=lambda: NOW).count("created") == 1
    assert len(fake.all_worklogs("WEB-9")) == 1
    app = jira_app()
    async with app.run_test(size=(110, 34)) as pilot:
        await settle(pilot)
        top = app.screen.query_one("#top", DataTable)
        row = top.get_row_index(f"m:{task.task_id}")
        assert "manual ✓" in str(top.get_row_at(row)[3])
        top.move_cursor(row=row)
        top.focus()
        await settle(pilot)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Delete it in Jira too" in app.screen.question
        await pilot.press("escape")  # neither: nothing is deleted anywhere
        await settle(pilot)
        assert store.get_manual_task(task.task_id) is not None
        assert len(fake.all_worklogs("WEB-9")) == 1
        await pilot.press("d")
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
    assert fake.all_worklogs("WEB-9") == []
    assert store.get_manual_task(task.task_id) is None
