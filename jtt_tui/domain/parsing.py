"""Dates and times as people type them, read in local time."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import local_date, local_datetime
from jtt_tui.domain.errors import DomainError


def parse_day(text: str, *, today: date, what: str = "the date") -> date:
    """``YYYY-MM-DD``, ``today``, ``yesterday`` or ``-N`` (N days ago)."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if re.fullmatch(r"-\d{1,4}", value):
        return today - timedelta(days=int(value[1:]))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            f"{what} {text!r} is not a date; use YYYY-MM-DD, today, yesterday or -N (days ago)"
        ) from None


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


def parse_local_datetime(
    text: str, *, now: datetime, tz: tzinfo | None, what: str = "the time"
) -> datetime:
    """``YYYY-MM-DD HH:MM`` or ``HH:MM`` (today), local time, as a UTC instant."""
    value = text.strip()
    if " " in value or "T" in value:
        day_text, _, clock_text = value.replace("T", " ").partition(" ")
        day = parse_day(day_text, today=local_date(now, tz), what=what)
        hour, minute = parse_clock(clock_text, what=what)
        return local_datetime(day, hour, minute, tz)
    return parse_local_time_today(value, now=now, tz=tz, what=what)
