"""The services an interface (the TUI, a script) works with, over one store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from jtt_tui.services.billing import BillingService
from jtt_tui.services.projects import ProjectService
from jtt_tui.services.storage_service import StorageService
from jtt_tui.services.timer import TimerService
from jtt_tui.storage.base import Storage


@dataclass
class Services:
    storage: StorageService
    timer: TimerService
    projects: ProjectService
    billing: BillingService

    @classmethod
    def over(
        cls, backend: Storage, *, allow_concurrent: bool = False, tz: tzinfo | None = None
    ) -> Services:
        storage = backend if isinstance(backend, StorageService) else StorageService(backend)
        return cls(
            storage=storage,
            timer=TimerService(storage, allow_concurrent=allow_concurrent, tz=tz),
            projects=ProjectService(storage, tz=tz),
            billing=BillingService(storage, tz=tz),
        )
