"""Argument types: a value that cannot be read is a usage error (exit 2,
with the command's usage), caught by the parser before anything opens.

Each returns the text it was given (or its normal form): times and days are
resolved later against the store's clock and time zone; here only their
form is checked, so ``--at 25:00`` never reaches a command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime

from jtt_tui.domain.errors import DomainError

# any moment will do to check a form: the rules (not in the future …) come later
_SOME_MOMENT = datetime(2001, 1, 3, 12, 0, tzinfo=UTC)


def _checked(parse: Callable[[str], object], text: str) -> None:
    try:
        parse(text)
    except (DomainError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc).strip()) from None


def moment(text: str) -> str:
    """A time: 09:15, -15m, yesterday 17:30, mon 09:00, an ISO date and time."""
    from jtt_tui.domain.parsing import parse_moment

    _checked(lambda t: parse_moment(t, now=_SOME_MOMENT, tz=UTC, what="").isoformat(), text)
    return text


def day(text: str) -> str:
    """A day: YYYY-MM-DD, today, yesterday, -N, a weekday."""
    from jtt_tui.domain.parsing import parse_day

    _checked(lambda t: parse_day(t, today=_SOME_MOMENT.date(), what=""), text)
    return text


def duration(text: str) -> str:
    """A duration: 1h30m, 90m, 1.5h, 1:30."""
    from jtt_tui.domain.durations import parse_duration

    _checked(parse_duration, text)
    return text


def ticket(text: str) -> str:
    """A Jira ticket number, in capitals: web-1 -> WEB-1."""
    from jtt_tui.domain.types import normalize_ticket

    _checked(normalize_ticket, text)
    return str(normalize_ticket(text))
