"""Errors raised by the pure domain layer.

They are ``ValueError`` subclasses so that callers validating input at the edge
can treat "the user asked for something impossible" uniformly.
"""

from __future__ import annotations


class DomainError(ValueError):
    """A request that breaks a rule of the domain (the message says which)."""


class IllegalTransition(DomainError):
    """A timer action that is not allowed from the timer's current status."""

    def __init__(self, ticket: str, status: str, action: str, hint: str = "") -> None:
        self.ticket = ticket
        self.status = status
        self.action = action
        message = f"cannot {action} {ticket}: it is {status}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class TimerAlreadyRunning(DomainError):
    """Starting a second timer while one runs and concurrent timers are off."""

    def __init__(self, running: list[str]) -> None:
        self.running = running
        super().__init__(
            "another timer is running: " + ", ".join(running) + " (pause it first, or "
            "enable JTT_ALLOW_CONCURRENT_TIMERS)"
        )
