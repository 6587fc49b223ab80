"""Projects, Billing and Database sections with Pilot."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

from textual.widgets import DataTable, Input, Static

from jtt_tui.config import load_settings
from jtt_tui.domain import InvoiceStatus
from jtt_tui.ui.modals.billing_forms import (
    InvoiceLinesModal,
    InvoicePreviewModal,
    NewInvoiceModal,
)
from jtt_tui.ui.modals.confirm import ConfirmModal
from jtt_tui.ui.modals.path_prompt import PathPrompt
from jtt_tui.ui.modals.project_form import ProjectFormModal
from tests.ui.conftest import settle

# the data file of the Electron app jtt replaces (copied from shared/fixtures)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "electron-store" / "app-data.json"


def _cells(app, table_id: str, column: int = 0) -> list[str]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def _error(app, name: str) -> str:
    return str(app.screen.query_one(f"#e-{name}", Static).render())


# -- projects --------------------------------------------------------------------------


async def test_projects_list_with_computed_figures(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert _cells(app, "projects") == ["API", "WEB"]
        web = app.screen.query_one("#projects", DataTable).get_row_at(1)
        # WEB: 1:30 + 6:00 (WEB-1) + 0:45 (WEB-2) + 0:30 manual = 8.75 h of 40
        assert str(web[3]) == "8.75/40"
        assert str(web[4]) == "$525.00/$5,000.00"  # 8.25 h tracked + 0.5 h manual, x 60
        assert "22%" in str(web[5])
        app.screen.query_one("#projects", DataTable).move_cursor(row=1)
        await settle(pilot)
        assert _cells(app, "project-tickets") == ["WEB-1", "WEB-2", "(manual) Client call"]
        assert "2025-03-10" in str(app.screen.query_one("#project-weeks", Static).render())


async def test_new_project_validates_and_saves(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ProjectFormModal)
        screen = app.screen
        screen.query_one("#f-key", Input).value = "mob ile"
        screen.query_one("#f-name", Input).value = "Mobile app"
        screen.query_one("#f-hourly_rate", Input).value = "-5"
        screen.query_one("#f-end_date", Input).value = "2025-01-01"
        screen.query_one("#f-start_date", Input).value = "2025-02-01"
        await pilot.press("ctrl+s")
        assert "not a Jira project key" in _error(app, "key")
        assert "must be 0 or more" in _error(app, "hourly_rate")
        assert len(store.get_projects()) == 2  # nothing saved
        screen.query_one("#f-key", Input).value = "mob"
        screen.query_one("#f-hourly_rate", Input).value = "85.50"
        screen.query_one("#f-end_date", Input).value = "2025-06-30"
        screen.query_one("#f-client_name", Input).value = "Initech"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert _cells(app, "projects") == ["API", "MOB", "WEB"]
    mobile = next(p for p in store.get_projects() if p.key == "MOB")
    assert mobile.hourly_rate == Decimal("85.50") and mobile.client.name == "Initech"


async def test_edit_archive_delete_project(make_app, store):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("e")  # API, the first row
        app.screen.query_one("#f-name", Input).value = "Public API v2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any(p.name == "Public API v2" for p in store.get_projects())
        await pilot.press("a")
        await settle(pilot)
        assert next(p for p in store.get_projects() if p.key == "API").status == "archived"
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    assert [p.key for p in store.get_projects()] == ["WEB"]


# -- billing ---------------------------------------------------------------------------


async def test_invoice_list_filter_and_status_changes(make_app, store):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        assert _cells(app, "invoices") == ["INV-1001"]
        assert "Rate limits" in str(app.screen.query_one("#invoice-detail", Static).render())
        await pilot.press("f")  # draft
        await settle(pilot)
        assert _cells(app, "invoices") == ["INV-1001"]
        await pilot.press("f")  # sent
        await settle(pilot)
        assert _cells(app, "invoices") == []
        for _ in range(4):  # overdue, paid, cancelled, and back to all
            await pilot.press("f")
        await settle(pilot)
        await pilot.press("p")  # a draft cannot be paid
        await settle(pilot)
        assert store.get_invoices()[0].status == InvoiceStatus.DRAFT
        await pilot.press("s")
        await settle(pilot)
        assert store.get_invoices()[0].status == InvoiceStatus.SENT
        await pilot.press("p")
        await settle(pilot)
    assert store.get_invoices()[0].status == InvoiceStatus.PAID


async def test_create_an_invoice_from_tracked_time(make_app, store):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewInvoiceModal)
        screen = app.screen
        screen.query_one("#f-first", Input).value = "2025-03-31"
        await pilot.press("ctrl+s")
        assert "ends before it starts" in _error(app, "last")
        # the first choice, project API, has nothing left to bill (Globex's invoice has it)
        screen.query_one("#f-first", Input).value = "2025-03-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InvoicePreviewModal)
        assert any("Nothing to bill" in n.message for n in app._notifications)
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#f-scope").value = next(
            f"p:{p.project_id}" for p in store.get_projects() if p.key == "WEB"
        )
        app.screen.query_one("#f-first", Input).value = "2025-03-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        preview = app.screen
        assert isinstance(preview, InvoicePreviewModal)
        # WEB-1's finished segment (yesterday) is billed, its running one is not
        assert [line.ticket_number for line in preview.draft.lines] == ["WEB-1", "WEB-2", None]
        assert preview.draft.skipped_running == ["WEB-1"]
        await pilot.press("y")
        await settle(pilot)
        assert _cells(app, "invoices") == ["INV-1002", "INV-1001"]
    invoice = next(i for i in store.get_invoices() if i.invoice_number == "INV-1002")
    assert invoice.total == Decimal("181.50")  # (1.5 h + 0.75 h + 0.5 h) x 60 + 10 %


async def test_edit_draft_lines(make_app, store):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, InvoiceLinesModal)
        area = app.screen.query_one("#f-lines")
        area.text = "Design | lots | 80"
        await pilot.press("ctrl+s")
        assert "must be numbers" in _error(app, "lines")
        area.text = "Design | 2 | 80\nReview | 0.5 | 80"
        await pilot.press("ctrl+s")
        await settle(pilot)
    invoice = store.get_invoices()[0]
    assert [item.description for item in invoice.items] == ["Design", "Review"]
    assert invoice.total == Decimal("220.00")


async def test_billing_settings_form(make_app, store):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#f-global_hourly_rate", Input).value == "50"
        screen.query_one("#f-tax_rate", Input).value = "150"
        screen.query_one("#f-project_rates", Input).value = "WEB=sixty"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "must be 100 or less" in _error(app, "tax_rate")
        assert store.get_billing_settings().tax_rate == Decimal(10)
        screen.query_one("#f-tax_rate", Input).value = "19"
        screen.query_one("#f-project_rates", Input).value = "web=60, API=72.50"
        screen.query_one("#f-company_name", Input).value = "Me Ltd"
        await pilot.press("ctrl+s")
        await settle(pilot)
    settings = store.get_billing_settings()
    assert settings.tax_rate == Decimal(19)
    assert settings.project_rates == {"WEB": Decimal(60), "API": Decimal("72.50")}
    assert settings.company.name == "Me Ltd"


# -- database --------------------------------------------------------------------------


async def test_database_shows_the_store_and_saves_mongodb_settings(
    make_app, settings, memory_keyring
):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        info = str(app.screen.query_one("#storage-info", Static).render())
        assert "Local SQLite file" in info and "answering" in info and "tester" in info
        assert "8 sessions" in info
        screen = app.screen
        screen.query_one("#f-uri", Input).value = "http://nope"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "mongodb://" in _error(app, "uri")
        screen.query_one("#f-uri", Input).value = "mongodb://jtt:s3cr3t-pw@db.example:27017"
        screen.query_one("#f-max_pool_size", Input).value = "ten"
        await pilot.press("ctrl+s")
        assert "whole number" in _error(app, "max_pool_size")
        screen.query_one("#f-max_pool_size", Input).value = "20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.query_one("#f-password", Input).value == ""
    saved = load_settings()
    assert saved.mongodb.uri == "mongodb://db.example:27017"
    assert saved.mongodb.username == "jtt" and saved.mongodb.max_pool_size == 20
    assert memory_keyring.secrets[("jtt", "mongodb-password")] == "s3cr3t-pw"
    assert "s3cr3t-pw" not in saved.settings_path.read_text()


async def test_test_connection_reports_the_classified_failure(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#f-uri", Input).value = "mongodb://127.0.0.1:1"
        screen.query_one("#f-server_selection_timeout_ms", Input).value = "300"
        screen.query_one("#f-connect_timeout_ms", Input).value = "300"
        await pilot.press("f12")
        await settle(pilot)
        result = str(screen.query_one("#test-result", Static).render())
        assert result.startswith("✗ Cannot reach the database server (network)")
        assert "Network Access" in result


async def test_export_and_import(make_app, store, tmp_path):
    app = make_app()
    target = tmp_path / "out" / "all.json"
    target.parent.mkdir()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, PathPrompt)
        app.screen.query_one("#f-path", Input).value = str(tmp_path / "missing" / "a.json")
        await pilot.press("enter")
        assert "does not exist" in _error(app, "path")
        app.screen.query_one("#f-path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        assert json.loads(target.read_text())["format_version"] == 1
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        await pilot.press("i")
        app.screen.query_one("#f-path", Input).value = str(FIXTURE)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "electron" in app.screen.question and "4 new" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
    assert store.get_session("WEB-101") is not None


async def test_team_members_are_offered_with_multi_user_only(make_app, settings, store):
    from jtt_tui.ui.modals.project_form import ProjectFormModal

    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, ProjectFormModal)
        assert not app.screen.query("#f-team_members")
        await pilot.press("escape")
        settings.enable_multi_user = True
        app.screen.query_one("#projects", DataTable).move_cursor(row=1)  # WEB
        await pilot.press("e")
        assert isinstance(app.screen, ProjectFormModal)
        app.screen.query_one("#f-team_members", Input).value = "bob, carol"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # back in single-user mode, editing the project keeps its team
        settings.enable_multi_user = False
        await pilot.press("e")
        app.screen.query_one("#f-name", Input).value = "Website 2"
        await pilot.press("ctrl+s")
        await settle(pilot)
    web = next(p for p in store.get_projects() if p.key == "WEB")
    assert (web.name, web.team_members) == ("Website 2", ["bob", "carol"])
