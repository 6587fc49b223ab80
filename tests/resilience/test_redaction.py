"""A password in a MongoDB connection string never shows: not in exception
texts, classified failures, the Database screen, the switch result, the
recovery modal, toasts or logs — for every way a connection can fail
(refused authentication, nothing listening, an invalid URI)."""

from __future__ import annotations

import logging
from datetime import UTC

import pytest
from textual.widgets import Input

from jtt_tui.config import MongoConfig, load_settings
from jtt_tui.services.container import Services
from jtt_tui.services.database import check_mongodb, switch_backend
from jtt_tui.services.opening import open_storage
from jtt_tui.storage.errors import StorageError, classify
from jtt_tui.ui.app import JttApp
from jtt_tui.ui.modals.recovery import RecoveryModal
from tests.ui.conftest import settle

PASSWORD = "Pa55-tiger-LAMP"
# the same kind of secret percent-encoded in the URI, and as the driver decodes it
ENCODED, DECODED = "w%40lrus%3Akey-99", "w@lrus:key-99"
FAST = {"MONGODB_SERVER_SELECTION_TIMEOUT_MS": "400", "MONGODB_CONNECT_TIMEOUT_MS": "400"}


def _uris(port: int) -> dict[str, str]:
    return {
        "auth refused": f"mongodb://tracker:{PASSWORD}@127.0.0.1:{port}/?authSource=admin",
        "encoded password refused": f"mongodb://tracker:{ENCODED}@127.0.0.1:{port}/",
        "nothing listening": f"mongodb://tracker:{PASSWORD}@127.0.0.1:1/",
        "invalid port": f"mongodb://tracker:{PASSWORD}@127.0.0.1:99999/",
        # passes our checks, the driver refuses it
        "bad option": f"mongodb://tracker:{PASSWORD}@127.0.0.1:{port},127.0.0.1:1/?directConnection=true",
        "srv with a port": f"mongodb+srv://tracker:{PASSWORD}@cluster0.example.net:27017/",
    }


def _assert_clean(*texts: object) -> None:
    for text in texts:
        shown = str(text)
        for secret in (PASSWORD, ENCODED, DECODED):
            assert secret not in shown, f"{secret!r} leaked in: {shown}"


@pytest.fixture
def refusing(wire):
    wire.mode = "auth_refused"
    return wire


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _settings(monkeypatch, uri: str, *, enabled: bool):
    monkeypatch.setenv("DEFAULT_USER_ID", "tester")
    monkeypatch.setenv("LOCAL_BACKUP_ENABLED", "false")
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MONGODB_URI", uri)
    monkeypatch.setenv("MONGODB_ENABLED", "true" if enabled else "false")
    return load_settings()


@pytest.mark.parametrize(
    "case",
    ["auth refused", "encoded password refused", "nothing listening", "bad option"],
)
@pytest.mark.usefixtures("jtt_env", "memory_keyring")
def test_service_layer_failures(case, refusing, monkeypatch, everything_logged):
    """Connecting, the connection check, a live switch, and starting on an
    unreachable server: every text they produce, and the logs."""
    uri = _uris(refusing.port)[case]
    settings = _settings(monkeypatch, uri, enabled=False)
    seen: list[object] = []

    check = check_mongodb(settings, settings.mongodb)
    assert not check.ok and check.failure is not None
    seen += [check.failure.message, *check.failure.suggestions, check.failure.title]

    local = open_storage(settings).store
    try:
        with pytest.raises(StorageError) as raised:
            switch_backend(settings, local, "mongodb", config=settings.mongodb)
        seen += [str(raised.value), repr(raised.value), classify(raised.value).message]
        assert local.kind == "local"  # nothing changed
        for cause in (raised.value.__cause__,):  # the driver's own error stays inside
            assert cause is None or isinstance(cause, Exception)
    finally:
        local.disconnect()

    # MongoDB configured and enabled but failing: the app opens offline
    enabled = _settings(monkeypatch, uri, enabled=True)
    opened = open_storage(enabled)
    try:
        service = opened.store
        assert not service.online and service.failure is not None
        seen += [service.failure.message, service.location, service.info()]
        ping = service.ping(timeout_s=0.4)
        seen += [ping, ping.failure and ping.failure.message]
    finally:
        opened.store.disconnect()

    assert any("127.0.0.1" in str(text) for text in seen)  # the texts are about this URI
    _assert_clean(*seen, *(record.getMessage() for record in everything_logged.records))
    _assert_clean(everything_logged.text)


def test_an_invalid_uri_in_the_settings_is_reported_without_its_password(jtt_env, monkeypatch):
    from jtt_tui.config import ConfigError

    for uri in (_uris(1)["invalid port"], _uris(1)["srv with a port"]):
        monkeypatch.setenv("MONGODB_URI", uri)
        with pytest.raises(ConfigError) as raised:
            load_settings()
        assert "MONGODB_URI" in str(raised.value)
        _assert_clean(str(raised.value), repr(raised.value))
    with pytest.raises(ValueError) as invalid:
        MongoConfig(uri=_uris(1)["invalid port"])
    assert "port" in str(invalid.value)


def _screen_text(app: JttApp) -> str:
    """The text of every widget on every screen in the stack (under the modal
    too) and every toast; not the input fields, which show what the user typed."""
    parts = []
    for screen in app.screen_stack:
        for widget in screen.walk_children():
            if isinstance(widget, Input):
                continue
            render = getattr(widget, "render", None)
            if callable(render):
                parts.append(str(render()))
    parts += [note.message for note in app._notifications]
    return "\n".join(parts)


async def test_database_screen_test_and_switch(
    refusing, jtt_env, monkeypatch, everything_logged, memory_keyring
):
    settings = _settings(monkeypatch, "", enabled=False)
    local = open_storage(settings).store
    app = JttApp(Services.over(local, tz=UTC), settings, status_refresh_s=3600)
    uri = _uris(refusing.port)["auth refused"]
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#f-uri", Input).value = uri
        await pilot.press("f12")
        await settle(pilot)
        tested = _screen_text(app)
        assert "(auth)" in tested
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("ctrl+s")  # confirm the switch
        await settle(pilot)
        switched = _screen_text(app)
        assert "Not switched" in switched
        assert app.services.storage.kind == "local"
    local.disconnect()
    _assert_clean(tested, switched, everything_logged.text)


async def test_recovery_modal_on_a_refused_password(
    refusing, jtt_env, monkeypatch, everything_logged, memory_keyring
):
    settings = _settings(monkeypatch, _uris(refusing.port)["auth refused"], enabled=True)
    opened = open_storage(settings)
    app = JttApp(Services.over(opened.store, tz=UTC), settings, status_refresh_s=3600)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            if not isinstance(app.screen, RecoveryModal):
                app.action_show_connection()
                await settle(pilot)
            assert isinstance(app.screen, RecoveryModal)
            shown = _screen_text(app)
            assert "(auth)" in shown and "127.0.0.1" in shown
            await pilot.press("r")  # retry: refused again, still redacted
            await settle(pilot)
            retried = _screen_text(app)
    finally:
        opened.store.disconnect()
    _assert_clean(shown, retried, everything_logged.text)
