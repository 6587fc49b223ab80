"""Pure domain: models, the timer state machine and money math. No I/O."""

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
