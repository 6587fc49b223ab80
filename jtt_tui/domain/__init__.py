"""Pure domain: models, the timer state machine and money math. No I/O.

Names are loaded on first use (PEP 562), so importing a light submodule such
as ``jtt_tui.domain.calendar`` does not pay for pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jtt_tui.domain.clock import Clock, FixedClock, SystemClock
    from jtt_tui.domain.errors import DomainError, IllegalTransition, TimerAlreadyRunning
    from jtt_tui.domain.models import (
        FORMAT_VERSION,
        BillingSettings,
        Client,
        Company,
        DataBundle,
        Invoice,
        InvoiceLine,
        InvoiceStatus,
        ManualTask,
        Project,
        ProjectStatus,
        Record,
        Segment,
        Session,
        SessionStatus,
        Ticket,
    )
    from jtt_tui.domain.timer import TimerChange, TimerMachine

_HOMES = {
    "jtt_tui.domain.clock": ("Clock", "FixedClock", "SystemClock"),
    "jtt_tui.domain.errors": ("DomainError", "IllegalTransition", "TimerAlreadyRunning"),
    "jtt_tui.domain.models": (
        "FORMAT_VERSION",
        "BillingSettings",
        "Client",
        "Company",
        "DataBundle",
        "Invoice",
        "InvoiceLine",
        "InvoiceStatus",
        "ManualTask",
        "Project",
        "ProjectStatus",
        "Record",
        "Segment",
        "Session",
        "SessionStatus",
        "Ticket",
    ),
    "jtt_tui.domain.timer": ("TimerChange", "TimerMachine"),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}
__all__ = [
    "FORMAT_VERSION",
    "BillingSettings",
    "Client",
    "Clock",
    "Company",
    "DataBundle",
    "DomainError",
    "FixedClock",
    "IllegalTransition",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "ManualTask",
    "Project",
    "ProjectStatus",
    "Record",
    "Segment",
    "Session",
    "SessionStatus",
    "SystemClock",
    "Ticket",
    "TimerAlreadyRunning",
    "TimerChange",
    "TimerMachine",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
