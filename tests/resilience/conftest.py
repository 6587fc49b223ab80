"""The real pymongo driver against a wire-level server that can be stopped,
hung or made to refuse authentication (tests/support/wire_server.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jtt_tui.services.health import HealthMonitor
from jtt_tui.services.storage_service import StorageService
from tests.support.remote import open_service
from tests.support.wire_server import WireServer


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
