"""The real pymongo driver against a wire-level server that can be stopped,
hung or made to refuse authentication (tests/support/wire_server.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jtt_tui.services.health import HealthMonitor
from jtt_tui.services.storage_service import (
    ConnectionLost,
    ConnectionRestored,
    Event,
    StorageService,
)
from jtt_tui.storage import MongoStore
from jtt_tui.storage.errors import StorageError, classify
from jtt_tui.storage.offline import OfflineMirror
from tests.support.wire_server import WireServer

# Prompt detection, as the app configures it (heartbeat 500 ms is pymongo's floor)
FAST = {
    "serverSelectionTimeoutMS": 1000,
    "connectTimeoutMS": 1000,
    "heartbeatFrequencyMS": 500,
    "timeoutMS": 2000,
    "tz_aware": True,
}
TIMEOUT_MS = FAST["timeoutMS"]


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer().start()
    yield server
    server.mode = "normal"
    server.stop()


class Recorder:
    """Collects the service's events (they arrive on other threads)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, Event]] = []

    def __call__(self, event: Event) -> None:
        self.events.append((time.monotonic(), event))

    def first(self, kind: type) -> tuple[float, Event] | None:
        return next(((t, e) for t, e in self.events if isinstance(e, kind)), None)

    def wait_for(self, kind: type, timeout: float, after: int = 0) -> tuple[float, Event]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [(t, e) for t, e in self.events[after:] if isinstance(e, kind)]
            if found:
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no {kind.__name__} within {timeout} s: {self.events}")


def open_service(
    server: WireServer,
    tmp_path: Path,
    *,
    user_id: str = "alice",
    database: str = "jtt",
    **options: object,
) -> StorageService:
    remote = MongoStore(server.uri, database, user_id=user_id, **{**FAST, **options})
    mirror = OfflineMirror(tmp_path / f"offline-{user_id}.db", user_id=user_id)
    mirror.connect()
    try:
        remote.connect()
    except StorageError as exc:
        return StorageService(remote, mirror=mirror, online=False, failure=classify(exc))
    return StorageService(remote, mirror=mirror)


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Callable[..., StorageService]]:
    opened: list[StorageService] = []

    def factory(server: WireServer, **kwargs: object) -> StorageService:
        service = open_service(server, tmp_path, **kwargs)
        opened.append(service)
        return service

    yield factory
    for service in opened:
        service.disconnect()


@pytest.fixture
def monitor_factory() -> Iterator[Callable[[StorageService], HealthMonitor]]:
    monitors: list[HealthMonitor] = []

    def factory(service: StorageService, interval_s: float = 0.5) -> HealthMonitor:
        monitor = HealthMonitor(service, interval_s=interval_s)
        monitor.start()
        monitors.append(monitor)
        return monitor

    yield factory
    for monitor in monitors:
        monitor.stop()


__all__ = ["TIMEOUT_MS", "ConnectionLost", "ConnectionRestored", "Recorder", "open_service"]
