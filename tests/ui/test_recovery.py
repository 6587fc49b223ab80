"""The app when MongoDB goes away and comes back: the badge, the recovery
modal and its keys, conflicts, and a UI that never waits on the network.
The store is the real pymongo driver talking to the wire server over TCP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC

from textual.widgets import DataTable, Static

from jtt_tui.services.storage_service import ConnectionLost
from jtt_tui.storage.errors import failure
from jtt_tui.ui.app import StorageChanged
from jtt_tui.ui.modals.recovery import ConflictModal, RecoveryModal
from tests.ui.conftest import wait_until


def _text(app, selector: str) -> str:
    """The text of one widget on the top screen ("" while it is still being
    composed, or already taken down)."""
    return "".join(str(w.render()) for w in app.screen.query(selector).results(Static))


def _badge(app) -> str:
    return str(app.screen.query_one("#status-badge").render())


def _recovery_shown(app) -> bool:
    """The recovery modal is up and drawn (mounted, its text filled in)."""
    screen = app.screen
    return isinstance(screen, RecoveryModal) and bool(_text(app, "#recovery-title"))


def _modals(app, kind) -> list:
    return [screen for screen in app.screen_stack if isinstance(screen, kind)]


async def _ready(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.ready)
    table = pilot.app.screen.query_one("#top", DataTable)
    await wait_until(pilot, lambda: table.row_count > 0)


async def test_server_stopped_mid_session_shows_the_modal_then_closes_it(remote_app, wire):
    app = remote_app(as_shipped=True)  # a 5 s health interval: the driver's heartbeat is quicker
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        assert "connected" in _badge(app)
        stopped = time.monotonic()
        wire.stop()
        await wait_until(pilot, lambda: _recovery_shown(app))
        assert time.monotonic() - stopped <= 3
        modal = app.screen
        assert "Cannot reach the database server" in _text(app, "#recovery-title") or (
            "did not answer" in _text(app, "#recovery-title")
        )
        assert "Nothing is lost" in _text(app, "#recovery-safe")
        await wait_until(pilot, lambda: "Retrying in" in _text(app, "#recovery-status"))
        # the running timer keeps running: it is a start time in the store
        status = str(app.screen_stack[0].query_one("#status-timer").render())
        assert "WEB-1" in status
        wire.start()
        await wait_until(pilot, lambda: not _modals(app, RecoveryModal), timeout=10)
        assert modal not in app.screen_stack
        await wait_until(pilot, lambda: "connected" in _badge(app))
        await wait_until(pilot, lambda: any("again" in n.message for n in app._notifications))


async def test_work_offline_then_writes_are_pending_and_sent(remote_app, wire):
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        wire.stop()
        await wait_until(pilot, lambda: _recovery_shown(app))
        await pilot.press("o")
        assert not _modals(app, RecoveryModal)
        assert "offline" in _badge(app) or "reconnecting" in _badge(app)
        await pilot.press("space")  # pause the highlighted running WEB-1, offline
        await wait_until(pilot, lambda: "1 pending" in _badge(app))
        # not shown again while the user works offline
        await pilot.pause(1.5)
        assert not _modals(app, RecoveryModal)
        wire.start()
        await wait_until(pilot, lambda: "connected" in _badge(app), timeout=10)
        assert "pending" not in _badge(app)
        doc = wire.data["jtt"]["sessions"].find_one({"ticketNumber": "WEB-1"})
        assert doc["status"] == "paused"


async def test_the_modal_never_stacks(remote_app, wire):
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        storage = app.services.storage
        storage.mark_offline(failure("network", "gone"))
        await wait_until(pilot, lambda: _recovery_shown(app))
        storage.mark_offline(failure("timeout", "slow"))  # a second, different loss
        await wait_until(pilot, lambda: "(timeout)" in _text(app, "#recovery-title"))
        assert len(_modals(app, RecoveryModal)) == 1  # updated in place, not stacked
        app.post_message(StorageChanged(ConnectionLost(failure("network", "again"))))
        await pilot.pause(0.2)
        assert len(_modals(app, RecoveryModal)) == 1


async def test_startup_with_mongodb_unreachable_opens_on_the_cached_data(
    remote_app, wire, tmp_path
):
    # a first run fills the offline copy, then the server is gone at the next start
    first = remote_app()
    async with first.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
    wire.stop()
    app = remote_app(seeded=False)
    assert not app.services.storage.online
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _recovery_shown(app))
        assert "(network)" in _text(app, "#recovery-title") or "(timeout)" in _text(
            app, "#recovery-title"
        )
        await pilot.press("escape")  # work offline
        table = app.screen.query_one("#top", DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        assert "WEB-1" in str(table.get_row_at(0)[0])


async def test_auth_refused_shows_the_kind_and_does_not_retry_by_itself(remote_app, wire):
    wire.mode = "auth_refused"
    app = remote_app(seeded=False, username="tester", password="pa55word-XYZ")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: _recovery_shown(app))
        assert "(auth)" in _text(app, "#recovery-title")
        assert "Not retried automatically" in _text(app, "#recovery-status")
        assert "authSource" in _text(app, "#recovery-tips")
        tries = wire.count_commands("saslstart")
        await pilot.pause(2)
        assert wire.count_commands("saslstart") == tries
        await pilot.press("r")  # the user asks: one attempt
        await wait_until(pilot, lambda: wire.count_commands("saslstart") > tries)
        await wait_until(pilot, lambda: "Not retried" in _text(app, "#recovery-status"))
        everything = " ".join(str(w.render()) for w in app.screen.query(Static)) + " ".join(
            n.message for n in app._notifications
        )
        assert "pa55word-XYZ" not in everything


async def test_edit_settings_opens_the_database_section(remote_app, wire):
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        app.services.storage.mark_offline(failure("config", "bad URI"))
        await wait_until(pilot, lambda: _recovery_shown(app))
        await pilot.press("e")
        await wait_until(pilot, lambda: getattr(app.screen, "SCOPE", "") == "database")
        await wait_until(pilot, lambda: "OFFLINE" in _text(app, "#storage-info"))


async def test_use_local_storage_takes_everything_along(remote_app, wire, settings):
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        remote_count = wire.data["jtt"]["sessions"].count_documents({})
        wire.stop()
        await wait_until(pilot, lambda: _recovery_shown(app))
        await pilot.press("o")
        await pilot.press("space")  # one more change, queued offline
        await wait_until(pilot, lambda: "1 pending" in _badge(app))
        await pilot.press("ctrl+o")  # the modal again, on request
        assert isinstance(app.screen, RecoveryModal)
        await pilot.press("l")
        storage = app.services.storage
        await wait_until(pilot, lambda: storage.kind == "local", timeout=10)
        await wait_until(pilot, lambda: "local" in _badge(app))
        assert storage.count_records()["sessions"] == remote_count
        assert str(storage.get_session("WEB-1").status) == "paused"  # the queued change
        from jtt_tui.config import load_settings

        assert load_settings().mongodb.enabled is False


async def _collide_offline(pilot, wire) -> None:
    """The server goes away, the user works offline and changes API-7's
    notes while someone else changes them on the server: a conflict once
    it is back."""
    app = pilot.app
    wire.stop()
    await wait_until(pilot, lambda: _recovery_shown(app))
    await pilot.press("o")
    await app.workers.wait_for_complete()
    storage = app.services.storage
    await asyncio.to_thread(storage.update_session, "API-7", notes="mine, offline")
    wire.data["jtt"]["sessions"].update_one(
        {"ticketNumber": "API-7"}, {"$set": {"notes": "theirs"}, "$inc": {"version": 1}}
    )


async def test_conflicts_are_settled_in_a_modal(remote_app, wire, clock):
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        storage = app.services.storage
        await _collide_offline(pilot, wire)
        wire.start()
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ConflictModal) and _text(app, "#conflict-diff"),
            timeout=10,
        )  # (pushed, then composed: wait for its text, not just the screen)
        diff = _text(app, "#conflict-diff")
        assert "mine, offline" in diff and "theirs" in diff
        await pilot.press("m")
        await wait_until(pilot, lambda: not _modals(app, ConflictModal))
        await wait_until(pilot, lambda: not storage.conflicts())
        doc = wire.data["jtt"]["sessions"].find_one({"ticketNumber": "API-7"})
        assert doc["notes"] == "mine, offline"


async def test_a_conflict_that_fails_to_settle_stops_the_chain_until_asked_again(
    remote_app, wire, clock, monkeypatch
):
    from jtt_tui.storage.errors import StorageError

    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        storage = app.services.storage
        await _collide_offline(pilot, wire)

        def refused(entry, keep):
            raise StorageError("the server refused the write")

        monkeypatch.setattr(storage, "resolve", refused)
        wire.start()
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ConflictModal) and _text(app, "#conflict-diff"),
            timeout=10,
        )
        await pilot.press("m")
        await wait_until(pilot, lambda: not _modals(app, ConflictModal))
        await app.workers.wait_for_complete()
        assert any("refused" in n.message for n in app._notifications)
        assert storage.conflicts()  # nothing settled, nothing lost
        await pilot.pause(0.3)
        assert not _modals(app, ConflictModal)  # not offered again on its own
        monkeypatch.undo()
        app.action_show_conflicts()  # F9: the chain starts again
        await wait_until(
            pilot, lambda: isinstance(app.screen, ConflictModal) and _text(app, "#conflict-diff")
        )
        await pilot.press("m")
        await wait_until(pilot, lambda: not storage.conflicts())


async def test_keypresses_never_wait_for_a_hung_server(remote_app, wire):
    """The write waits on the network in a worker: the row shows "pausing…"
    at once, and the next key moves the cursor while the server hangs.
    (bench/resilience.py measures the milliseconds.)"""
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        table = app.screen.query_one("#top", DataTable)
        wire.mode = "silent"
        await pilot.press("space")
        assert "pausing…" in str(table.get_row_at(0)[3])
        assert app.services.storage.online  # the write is still waiting on the server
        await pilot.press("down")
        assert table.cursor_row == 1
        # the hung write gives up after timeoutMS, goes offline and is queued
        await wait_until(pilot, lambda: _recovery_shown(app), timeout=5)
        await pilot.press("o")
        await wait_until(pilot, lambda: "1 pending" in _badge(app))
        wire.mode = "normal"
        await wait_until(pilot, lambda: "connected" in _badge(app), timeout=10)
        doc = wire.data["jtt"]["sessions"].find_one({"ticketNumber": "WEB-1"})
        assert doc["status"] == "paused"


async def test_a_slow_server_still_shows_the_change_at_once(remote_app, wire):
    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        table = app.screen.query_one("#top", DataTable)
        wire.latency = 0.1  # 100 ms per request
        await pilot.press("space")
        assert "pausing…" in str(table.get_row_at(0)[3])
        await wait_until(pilot, lambda: str(table.get_row_at(0)[3]).strip() == "paused")


async def test_disabled_certificate_checks_warn_in_the_status_bar(remote_app, settings):
    settings.mongodb = settings.mongodb.model_copy(update={"tls_allow_invalid_certificates": True})
    app = remote_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await _ready(pilot)
        await wait_until(pilot, lambda: "NOT CHECKED" in _badge(app))


async def test_a_change_from_another_machine_on_mongodb_shows_within_two_seconds(
    remote_app, wire, clock
):
    from jtt_tui.services.timer import TimerService
    from jtt_tui.storage import MongoStore
    from tests.support.remote import FAST

    app = remote_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _ready(pilot)
        other = MongoStore(wire.uri, "jtt", user_id="tester", clock=clock, **FAST)
        other.connect()
        try:
            started = time.monotonic()
            TimerService(other, clock=clock, tz=UTC).start("ACME-200")  # the other machine
            table = app.screen.query_one("#top", DataTable)
            await wait_until(
                pilot,
                lambda: "s:ACME-200" in table.rows,
                timeout=2.0,
            )
            assert time.monotonic() - started <= 2.0
        finally:
            other.disconnect()
