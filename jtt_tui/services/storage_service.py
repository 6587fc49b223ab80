"""The one store the app talks to.

``StorageService`` is itself a :class:`Storage`: every primitive and query is
passed to the active backend, so the rest of the app (and every service) is
written against one interface, and the backend can change underneath.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jtt_tui.domain.models import DataBundle, Invoice, InvoiceStatus, ManualTask, Session
from jtt_tui.storage.base import ImportMode, ImportReport, ProjectTime, R, Storage
from jtt_tui.storage.errors import StorageError, StorageFailure, classify
from jtt_tui.storage.kinds import Kind


@dataclass(frozen=True)
class PingResult:
    ok: bool
    latency_ms: float | None
    server_version: str | None
    failure: StorageFailure | None
    at: datetime


@dataclass(frozen=True)
class StorageInfo:
    kind: str
    location: str
    user_id: str
    connected: bool
    counts: dict[str, int]
    last_ping: PingResult | None


class StorageService(Storage):
    def __init__(self, backend: Storage) -> None:
        super().__init__(backend.user_id, clock=backend.clock)
        self._backend = backend
        self._lock = threading.RLock()
        self.last_ping: PingResult | None = None

    # -- the active backend ------------------------------------------------------------

    @property
    def active(self) -> Storage:
        return self._backend

    @property
    def kind(self) -> str:
        return self._backend.kind

    @property
    def location(self) -> str:
        return self._backend.location

    def connect(self) -> None:
        self._backend.connect()

    def disconnect(self) -> None:
        self._backend.disconnect()

    def is_connected(self) -> bool:
        return self._backend.is_connected()

    def health_check(self) -> bool:
        return self.ping().ok

    def ping(self) -> PingResult:
        """Round-trip the active backend now; remembers the result."""
        started = time.perf_counter()
        backend = self._backend
        try:
            ok = backend.health_check()
            latency = (time.perf_counter() - started) * 1000
            version = None
            info = getattr(backend, "server_info", None)
            if ok and callable(info):
                version = str(info().get("version") or "") or None
            result = PingResult(
                ok,
                latency if ok else None,
                version,
                None if ok else classify(StorageError("no answer")),
                self.clock.now(),
            )
        except StorageError as exc:
            result = PingResult(False, None, None, classify(exc), self.clock.now())
        self.last_ping = result
        return result

    def info(self) -> StorageInfo:
        return StorageInfo(
            kind=self.kind,
            location=self.location,
            user_id=self.user_id,
            connected=self.is_connected(),
            counts=self.count_records(),
            last_ping=self.last_ping,
        )

    # -- delegation --------------------------------------------------------------------

    def _load(self, kind: Kind[R], key: str) -> R | None:
        return self._backend._load(kind, key)

    def _load_all(self, kind: Kind[R]) -> list[R]:
        return self._backend._load_all(kind)

    def _store(self, kind: Kind[R], record: R, expected_version: int) -> R:
        return self._backend._store(kind, record, expected_version)

    def _remove(self, kind: Kind, key: str) -> bool:
        return self._backend._remove(kind, key)

    def _consistent_read(self) -> Any:
        return self._backend._consistent_read()

    def count_records(self) -> dict[str, int]:
        return self._backend.count_records()

    def sessions_between(self, start: datetime, end: datetime) -> list[Session]:
        return self._backend.sessions_between(start, end)

    def active_sessions(self) -> list[Session]:
        return self._backend.active_sessions()

    def recent_sessions(
        self, limit: int = 50, offset: int = 0, text: str | None = None
    ) -> list[Session]:
        return self._backend.recent_sessions(limit, offset, text)

    def time_by_project(self) -> list[ProjectTime]:
        return self._backend.time_by_project()

    def sessions_for_project(self, project_id: str, key: str) -> list[Session]:
        return self._backend.sessions_for_project(project_id, key)

    def manual_tasks_between(self, first: date, last: date) -> list[ManualTask]:
        return self._backend.manual_tasks_between(first, last)

    def get_invoices(
        self,
        status: InvoiceStatus | str | None = None,
        client_id: str | None = None,
        project_id: str | None = None,
    ) -> list[Invoice]:
        return self._backend.get_invoices(status, client_id, project_id)

    def next_invoice_number(self) -> str:
        return self._backend.next_invoice_number()

    def import_all(self, bundle: DataBundle, mode: ImportMode = "merge") -> ImportReport:
        return self._backend.import_all(bundle, mode)
