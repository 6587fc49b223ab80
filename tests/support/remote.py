"""Helpers for tests of the connection to MongoDB over the real driver
(the wire server in tests/support/wire_server.py)."""

from __future__ import annotations

import time
from pathlib import Path

from jtt_tui.domain.clock import Clock
from jtt_tui.services.storage_service import Event, StorageService
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
    clock: Clock | None = None,
    **options: object,
) -> StorageService:
    """A StorageService over the wire server with its offline mirror, opened
    the way the app opens one (offline, with the failure, if it cannot connect)."""
    remote = MongoStore(server.uri, database, user_id=user_id, clock=clock, **{**FAST, **options})
    mirror = OfflineMirror(tmp_path / f"offline-{user_id}.db", user_id=user_id, clock=clock)
    mirror.connect()
    try:
        remote.connect()
    except StorageError as exc:
        return StorageService(remote, mirror=mirror, online=False, failure=classify(exc))
    return StorageService(remote, mirror=mirror)
