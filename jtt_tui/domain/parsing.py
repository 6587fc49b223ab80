"""Dates and times as people type them, read in local time."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import local_date, local_datetime
from jtt_tui.domain.clock import truncate_ms
from jtt_tui.domain.errors import DomainError

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE
)
MOMENT_SYNTAX = (
    "HH:MM (today), -15m or -1h30m (that long ago), yesterday 17:30, mon 09:00, "
    "YYYY-MM-DD HH:MM or an ISO date-time"
)


def parse_day(text: str, *, today: date, what: str = "the date") -> date:
    """``YYYY-MM-DD``, ``today``, ``yesterday``, ``-N`` (N days ago) or a
    weekday (``mon``, ``friday``: the latest one, today included)."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if re.fullmatch(r"-\d{1,4}", value):
        return today - timedelta(days=int(value[1:]))
    weekday = _weekday(value)
    if weekday is not None:
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            f"{what} {text!r} is not a date; use YYYY-MM-DD, today, yesterday, -N (days ago) "
            "or a weekday"
        ) from None
    if day > LAST_DAY:  # its end, the next midnight, is past what a clock can say
        raise DomainError(f"{what} {text!r} is past the last day jtt can count ({LAST_DAY})")
    return day


LAST_DAY = date(9999, 12, 30)


def _weekday(text: str) -> int | None:
    """0-6 for ``mon`` / ``monday`` … ``sun`` / ``sunday``, else None."""
    if len(text) < 3:
        return None
    for number, name in enumerate(_WEEKDAYS):
        if name.startswith(text):
            return number
    return None


def parse_clock(text: str, *, what: str = "the time") -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise DomainError(f"{what} {text!r} is not a time of day; use HH:MM, e.g. 09:30")
    return int(match.group(1)), int(match.group(2))


def parse_local_time_today(
    text: str, *, now: datetime, tz: tzinfo | None, what: str = "the time"
) -> datetime:
    """``HH:MM`` today (local time) as a UTC instant."""
    hour, minute = parse_clock(text, what=what)
    return local_datetime(local_date(now, tz), hour, minute, tz)


def parse_moment(
    text: str, *, now: datetime, tz: tzinfo | None, what: str = "the time"
) -> datetime:
    """An instant as people type it, in local time: ``HH:MM`` (today),
    ``-15m`` / ``-1h30m`` (that long ago), ``now``, a day and a time
    (``yesterday 17:30``, ``mon 09:00``, ``-2 08:00``, ``2025-03-10 09:15``)
    or an ISO date-time (``2025-03-10T09:15:00+01:00``; without an offset it
    is local time). Returned as a UTC instant to the millisecond; whether it
    may lie in the future is the caller's rule."""
    from jtt_tui.domain.durations import parse_duration

    value = " ".join(text.split())
    if not value:
        raise DomainError(f"{what} is empty; use {MOMENT_SYNTAX}")
    low = value.lower()
    if low == "now":
        return now
    if low.startswith("-") and not re.fullmatch(r"-\d{1,4}( .*)?", low):
        try:
            return truncate_ms(now - parse_duration(low[1:]))
        except DomainError:
            raise DomainError(f"{what} {text!r} is not a time; use {MOMENT_SYNTAX}") from None
    if _ISO.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.upper().replace(" ", "T").replace("Z", "+00:00"))
        except ValueError:
            raise DomainError(f"{what} {text!r} is not a valid date and time") from None
        if moment.tzinfo is None:
            start = local_datetime(moment.date(), moment.hour, moment.minute, tz)
            return truncate_ms(start + timedelta(seconds=moment.second))
        return truncate_ms(moment.astimezone(now.tzinfo))
    if " " in value:
        day_text, _, clock_text = value.rpartition(" ")
        day = parse_day(day_text, today=local_date(now, tz), what=what)
        hour, minute = parse_clock(clock_text, what=what)
        return local_datetime(day, hour, minute, tz)
    if re.fullmatch(r"\d{1,2}:\d{2}", value):
        return parse_local_time_today(value, now=now, tz=tz, what=what)
    raise DomainError(f"{what} {text!r} is not a time; use {MOMENT_SYNTAX}")


def parse_local_datetime(
    text: str, *, now: datetime, tz: tzinfo | None, what: str = "the time"
) -> datetime:
    """What the forms accept: the same as :func:`parse_moment`."""
    return parse_moment(text, now=now, tz=tz, what=what)
