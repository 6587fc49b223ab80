"""A deterministic app for Pilot and snapshot tests: a frozen clock, UTC,
a seeded SQLite store in a temporary folder, isolated settings."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input
from textual.worker import WorkerCancelled

from jtt_tui.config import MongoConfig, Settings, load_settings
from jtt_tui.domain import (
    BillingSettings,
    FixedClock,
    ManualTask,
    Project,
    Segment,
    Session,
    SessionStatus,
)
from jtt_tui.services.billing import BillingService
from jtt_tui.services.container import Services
from jtt_tui.storage import SQLiteStore
from jtt_tui.storage.factory import mongo_options
from jtt_tui.ui.app import JttApp
from tests.support.fake_jira import serving
from tests.support.remote import open_service

NOW = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)  # a Wednesday afternoon


def _closed(ticket: str, start: datetime, minutes: int, **fields) -> Session:
    return Session(
        ticket_number=ticket,
        status=fields.pop("status", SessionStatus.STOPPED),
        segments=[Segment(start=start, end=start + timedelta(minutes=minutes))],
        **fields,
    )


def seed(store: SQLiteStore) -> None:
    store.save_billing_settings(
        BillingSettings(
            global_hourly_rate=Decimal(50), tax_rate=Decimal(10), payment_terms="Net 15"
        )
    )
    web = store.save_project(
        Project(
            key="WEB",
            name="Website relaunch",
            hourly_rate=Decimal(60),
            client={"name": "Acme"},
            estimated_hours=Decimal(40),
            budget=Decimal(5000),
        )
    )
    store.save_project(Project(key="API", name="Public API", client={"name": "Globex"}))
    today = NOW.replace(hour=8, minute=30)
    store.save_session(
        Session(
            ticket_number="WEB-1",
            ticket_name="Login page",
            status=SessionStatus.RUNNING,
            tags=["ui"],
            segments=[
                Segment(
                    start=today - timedelta(days=1), end=today - timedelta(days=1, minutes=-90)
                ),
                Segment(start=today),
            ],
        )
    )
    store.save_session(
        _closed(
            "WEB-2",
            today - timedelta(hours=1),
            45,
            ticket_name="Header",
            status=SessionStatus.PAUSED,
        )
    )
    store.save_session(_closed("API-7", today - timedelta(days=2), 120, ticket_name="Rate limits"))
    for i in range(1, 6):
        store.save_session(
            _closed(f"OPS-{i}", today - timedelta(days=10 + i), 30, ticket_name=f"Maintenance {i}")
        )
    store.save_manual_task(
        ManualTask(
            title="Client call",
            date=NOW.date(),
            duration=timedelta(minutes=30),
            project_id=web.project_id,
        )
    )
    billing = BillingService(store, tz=UTC)
    billing.create(client="Globex", first=date(2025, 3, 1), last=date(2025, 3, 11))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(jtt_env, monkeypatch) -> Settings:
    monkeypatch.setenv("DEFAULT_USER_ID", "tester")
    monkeypatch.setenv("LOCAL_BACKUP_ENABLED", "false")
    return load_settings()


@pytest.fixture
def store(settings: Settings, clock: FixedClock) -> SQLiteStore:
    store = SQLiteStore(settings.store_path, user_id="tester", clock=clock)
    store.connect()
    seed(store)
    yield store
    store.disconnect()


@pytest.fixture
def make_app(store: SQLiteStore, settings: Settings, clock: FixedClock):
    def factory() -> JttApp:
        services = Services.over(store, tz=UTC)
        return JttApp(services, settings, clock=clock, status_refresh_s=3600)

    return factory


async def settle(pilot) -> None:
    """Wait until every worker has finished and the screen has caught up (a
    reload may replace, and so cancel, an earlier one: that is fine)."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


def today_path(settings: Settings) -> Path:
    return settings.data_dir


async def burst(pilot, *keys: str) -> None:
    """Keys as a paste or a laggy SSH link delivers them: all at once, no
    waiting between them (Pilot's press waits for the app after each key),
    then wait until the app has handled them all."""
    import unicodedata

    from textual import events
    from textual.app import _character_to_key, _get_unicode_name_from_key
    from textual.keys import REPLACED_KEYS

    app = pilot.app
    for pressed in keys:
        key = _character_to_key(pressed) if len(pressed) == 1 and not pressed.isalnum() else pressed
        original = REPLACED_KEYS.get(key, key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    await settle(pilot)


def typed(text: str) -> list[str]:
    """The keys that type ``text``."""
    return list(text)


# -- shared by several test files ----------------------------------------------------


@pytest.fixture
def remote_app(wire, tmp_path, settings, clock):
    """An app on the wire server (seeded like the other UI tests)."""
    opened = []

    def factory(*, seeded: bool = True, as_shipped: bool = False, **service_options) -> JttApp:
        if as_shipped:  # the driver settings and health interval a user gets by default
            service_options = {**mongo_options(MongoConfig()), **service_options}
        service = open_service(wire, tmp_path, user_id="tester", clock=clock, **service_options)
        opened.append(service)
        if seeded and service.online:
            seed(service)
        return JttApp(
            Services.over(service, tz=UTC),
            settings,
            clock=clock,
            status_refresh_s=3600,
            health_interval_s=None if as_shipped else 0.5,
        )

    yield factory
    for service in opened:
        service.disconnect()


async def wait_until(pilot, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        await pilot.pause(0.05)


@pytest.fixture
def fake():
    with serving(cloud=True, email="mia@example.com", token="tok-123") as jira:
        jira.add_issue("WEB-1", "Login page")
        jira.add_issue("WEB-9", "Password reset e-mail")
        jira.add_issue("API-7", "Rate limits")
        yield jira


@pytest.fixture
def jira_settings(settings, fake, memory_keyring):
    from jtt_tui.config import update_settings_file

    update_settings_file(settings.config_dir, {"jira": {"url": fake.url, "email": fake.email}})
    memory_keyring.set_password("jtt", "jira-token", fake.token)
    return load_settings()


@pytest.fixture
def jira_app(make_app, jira_settings):
    def factory():
        app = make_app()
        app.settings = jira_settings
        return app

    return factory
