"""The services an interface (the TUI, a script) works with, over one store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from jtt_tui.domain.workday import TimerRules
from jtt_tui.services.billing import BillingService
from jtt_tui.services.ledger import Ledger, LedgerRules
from jtt_tui.services.projects import ProjectService
from jtt_tui.services.storage_service import StorageService
from jtt_tui.services.timer import TimerService
from jtt_tui.storage.base import Storage

if TYPE_CHECKING:
    from jtt_tui.config import Settings


@dataclass
class Services:
    storage: StorageService
    timer: TimerService
    projects: ProjectService
    billing: BillingService
    ledger: Ledger

    @classmethod
    def over(
        cls,
        backend: Storage,
        *,
        allow_concurrent: bool = False,
        tz: tzinfo | None = None,
        ledger_rules: LedgerRules | None = None,
        timer_rules: TimerRules | None = None,
    ) -> Services:
        """Every service over ``backend``, sharing one ledger (so every
        change is checked and journaled the same way)."""
        storage = backend if isinstance(backend, StorageService) else StorageService(backend)
        rules = ledger_rules or LedgerRules(allow_overlap=allow_concurrent)
        ledger = Ledger(storage, rules=rules, tz=tz)
        return cls(
            storage=storage,
            timer=TimerService(
                storage, allow_concurrent=allow_concurrent, tz=tz, ledger=ledger, rules=timer_rules
            ),
            projects=ProjectService(storage, tz=tz, ledger=ledger),
            billing=BillingService(storage, tz=tz, ledger=ledger),
            ledger=ledger,
        )

    @classmethod
    def configured(
        cls, backend: Storage, settings: Settings, *, tz: tzinfo | None = None
    ) -> Services:
        """The services as ``settings`` ask: overlaps, concurrent timers,
        forgotten-timer rules, the journal's bounds."""
        return cls.over(
            backend,
            allow_concurrent=settings.timer.allow_concurrent,
            tz=tz,
            ledger_rules=ledger_rules(settings),
            timer_rules=settings.timer.rules(),
        )


def ledger_rules(settings: Settings) -> LedgerRules:
    timer = settings.timer
    return LedgerRules(
        # several timers at once are overlapping time by definition
        allow_overlap=timer.allow_overlap or timer.allow_concurrent,
        journal_keep=settings.journal.keep,
        journal_days=settings.journal.days,
    )
