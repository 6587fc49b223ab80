"""Every section at 60x20 (a split pane), 80x24 (an SSH terminal) and 120x40, with deterministic
data and a frozen clock. Update after an intended change with
`pytest tests/ui/test_snapshots.py --snapshot-update` and review the report."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from jtt_tui.services.metrics import MetricsSnapshot, StorageMetrics
from jtt_tui.services.storage_service import PingResult, StorageService
from tests.ui.conftest import NOW, settle

SIZES = [(60, 20), (80, 24), (120, 40)]


@pytest.fixture
def steady_storage(monkeypatch):
    """Make the Database section's live readings fixed: the store's path (a
    temporary folder) and its ping latency."""
    monkeypatch.setattr(
        StorageService, "location", property(lambda self: "/home/me/.local/share/jtt/jtt.db")
    )
    monkeypatch.setattr(
        StorageService,
        "ping",
        lambda self: setattr(self, "last_ping", PingResult(True, 0.4, None, None, NOW)),
    )
    fixed = MetricsSnapshot(300, 42, {"network": 1}, 0.3, 2.5)
    monkeypatch.setattr(StorageMetrics, "snapshot", lambda self: fixed)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "key", ["1", "2", "3", "4", "5"], ids=["timer", "projects", "billing", "database", "jira"]
)
def test_sections(snap_compare, make_app, steady_storage, key, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_new_timer_form_with_an_error(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press(*"WEB 1")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_billing_settings(snap_compare, make_app, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f3", "g")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_ansi_theme(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.theme = "ansi-dark"
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_recovery_modal(snap_compare, make_app):
    """What the user sees when the database refuses the credentials (a failure
    that is not retried by itself, so no countdown moves)."""
    from jtt_tui.storage.errors import failure
    from jtt_tui.ui.modals.recovery import RecoveryModal

    async def run_before(pilot) -> None:
        await settle(pilot)
        refused = failure("auth", "MongoDB: Authentication failed. (code 18)")
        modal = RecoveryModal(
            refused, location="mongodb://alice:***@db.example:27017 (database jtt)", pending=3
        )
        pilot.app.push_screen(modal)
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
