"""Switching the store live: local <-> MongoDB (the wire server), with and
without copying, and failures that must leave everything as it was."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from pydantic import SecretStr

from jtt_tui.config import load_settings
from jtt_tui.domain import BillingSettings, ManualTask, Project, Session
from jtt_tui.services.database import switch_backend
from jtt_tui.services.health import HealthMonitor
from jtt_tui.services.opening import open_storage
from jtt_tui.services.storage_service import StorageService
from jtt_tui.services.timer import TimerService
from jtt_tui.storage.errors import StorageError, classify
from tests.support.remote import FAST, Recorder


@pytest.fixture
def settings(jtt_env):
    return load_settings()


def _mongo_config(settings, wire, **changes):
    uri = wire.uri + "&" + "&".join(f"{k}={v}" for k, v in FAST.items() if k != "tz_aware")
    return settings.mongodb.model_copy(update={"uri": uri, "database": "jtt", **changes})


def _fill(storage) -> None:
    timer = TimerService(storage)
    timer.start("WEB-1", name="Login page")
    timer.pause("WEB-1")
    timer.start("WEB-2")  # left running
    for n in range(3, 30):
        storage.save_session(Session(ticket_number=f"API-{n}", notes=f"note {n} — ünïcödé"))
    storage.save_project(Project(key="WEB", name="Website", hourly_rate="60"))
    storage.save_manual_task(
        ManualTask(title="Call", date=date(2026, 11, 2), duration=timedelta(minutes=30))
    )
    storage.save_billing_settings(BillingSettings(global_hourly_rate="50", tax_rate="10"))


def _content(storage) -> dict:
    bundle = storage.export_all().model_dump(mode="json", exclude={"exported_at"})
    for kind in ("sessions", "projects", "manual_tasks", "invoices"):
        bundle[kind] = sorted(bundle[kind], key=lambda r: r.get("id") or r.get("ticket_number"))
    return bundle


def test_local_to_mongodb_and_back_with_data_copied(settings, wire):
    storage = open_storage(settings).store
    _fill(storage)
    local_counts, local_content = storage.count_records(), _content(storage)
    events = Recorder()
    storage.subscribe(events)

    config = _mongo_config(settings, wire)
    outcome = switch_backend(
        settings, storage, "mongodb", config=config, copy_data=True, reload=load_settings
    )
    assert storage.kind == "mongodb" and storage.online and outcome.warning is None
    assert outcome.copied == sum(local_counts.values())
    assert storage.count_records() == local_counts
    assert _content(storage) == local_content
    assert wire.data["jtt"]["sessions"].count_documents({}) == local_counts["sessions"]
    # the offline copy is filled at once, so an outage right now loses no view
    assert storage.mirror is not None
    assert storage.mirror.count_records() == local_counts
    # remembered for the next start
    assert load_settings().mongodb.enabled is True
    assert load_settings().mongodb.uri == config.uri

    # a change made on MongoDB, then back to local with the data
    storage.update_session("API-3", notes="changed on MongoDB")
    outcome = switch_backend(
        outcome.settings, storage, "local", copy_data=True, reload=load_settings
    )
    assert storage.kind == "local"
    assert storage.get_session("API-3").notes == "changed on MongoDB"
    assert storage.count_records() == local_counts
    assert load_settings().mongodb.enabled is False
    assert [e.kind for _, e in events.events if type(e).__name__ == "Switched"] == [
        "mongodb",
        "local",
    ]
    storage.disconnect()


def test_switching_without_copying_leaves_each_store_its_own_data(settings, wire):
    storage = open_storage(settings).store
    storage.save_session(Session(ticket_number="LOC-1"))
    switch_backend(settings, storage, "mongodb", config=_mongo_config(settings, wire))
    assert storage.count_records()["sessions"] == 0
    storage.save_session(Session(ticket_number="REM-1"))
    switch_backend(settings, storage, "local")
    assert [s.ticket_number for s in storage.recent_sessions()] == ["LOC-1"]
    storage.disconnect()


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("mongodb://127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=500", "network"),
        ("mongodb://host:notaport", "config"),
        ("mongodb+srv://no-such-cluster.invalid", "config"),
        ("", "config"),
    ],
)
def test_a_bad_uri_leaves_the_local_store_active(settings, uri, kind):
    storage = open_storage(settings).store
    storage.save_session(Session(ticket_number="LOC-1"))
    before = settings.settings_path.read_text() if settings.settings_path.exists() else ""
    config = settings.mongodb.model_copy(update={"uri": uri})
    with pytest.raises(StorageError) as caught:
        switch_backend(settings, storage, "mongodb", config=config, copy_data=True)
    assert classify(caught.value).kind == kind
    assert storage.kind == "local" and storage.get_session("LOC-1") is not None
    storage.save_session(Session(ticket_number="LOC-2"))  # still fully usable
    after = settings.settings_path.read_text() if settings.settings_path.exists() else ""
    assert after == before
    storage.disconnect()


def test_refused_credentials_leave_the_local_store_active(settings, wire):
    storage = open_storage(settings).store
    wire.mode = "auth_refused"
    config = _mongo_config(settings, wire, username="alice")
    config = config.model_copy(update={"password": SecretStr("s3cret-pw")})
    with pytest.raises(StorageError) as caught:
        switch_backend(settings, storage, "mongodb", config=config)
    failure = classify(caught.value)
    assert failure.kind == "auth" and "s3cret-pw" not in failure.message
    assert storage.kind == "local"
    storage.disconnect()


def test_auth_refused_is_not_retried_by_itself(wire, tmp_path):
    """The wire server refuses every sign-in (code 18), as MongoDB does for a
    wrong password: the service starts offline with an auth failure and the
    monitor waits for the user instead of hammering the server."""
    from tests.support.remote import open_service

    wire.mode = "auth_refused"
    service: StorageService = open_service(wire, tmp_path, username="alice", password="s3cret-pw")
    assert not service.online
    assert service.failure.kind == "auth" and not service.failure.recoverable
    assert "s3cret-pw" not in service.failure.message
    monitor = HealthMonitor(service, interval_s=0.2)
    monitor.start()
    try:
        attempts = wire.count_commands("saslstart")
        time.sleep(3)
        assert wire.count_commands("saslstart") == attempts, "retried by itself"
        assert service.state == "offline"
        service.save_session(Session(ticket_number="WEB-1"))  # works offline meanwhile
        assert service.pending() == 1
        monitor.retry_now()  # the user asks: one more attempt, refused again
        deadline = time.monotonic() + 5
        while wire.count_commands("saslstart") == attempts and time.monotonic() < deadline:
            time.sleep(0.05)
        assert wire.count_commands("saslstart") > attempts
        time.sleep(0.5)
        assert service.failure.kind == "auth" and service.pending() == 1
    finally:
        monitor.stop()
        service.disconnect()
