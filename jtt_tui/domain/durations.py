"""Durations as people type and read them: ``1h30m``, ``90m``, ``1.5h``,
``1:30``; shown as ``1:30:00`` (clocks) or ``1h 30m`` (totals)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from jtt_tui.domain.errors import DomainError

_UNITS = {"h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([hms])")
MAX_DURATION = timedelta(hours=24 * 31)


def parse_duration(text: str) -> timedelta:
    """Parse ``1h30m``, ``1h 30m``, ``90m``, ``1.5h``, ``45s``, ``1:30`` (h:mm)
    or ``1:30:15``. Bare numbers are minutes. Raises DomainError if unclear."""
    raw = text.strip().lower()
    if not raw:
        raise DomainError("enter a duration such as 1h30m, 90m or 1.5h")
    seconds: Decimal
    if re.fullmatch(r"\d+:\d{1,2}(:\d{1,2})?", raw):
        parts = [int(p) for p in raw.split(":")]
        if any(p >= 60 for p in parts[1:]):
            raise DomainError(f"{text!r}: minutes and seconds must be below 60")
        seconds = Decimal(parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0))
    elif re.fullmatch(r"\d+(?:[.,]\d+)?", raw):
        seconds = _number(raw) * 60
    else:
        compact = raw.replace(" ", "")
        matches = list(_PART.finditer(compact))
        if not matches or "".join(m.group(0) for m in matches) != compact:
            raise DomainError(f"{text!r} is not a duration; write it like 1h30m, 90m, 1.5h or 1:30")
        units = [m.group(2) for m in matches]
        if len(set(units)) != len(units):
            raise DomainError(f"{text!r} names a unit twice")
        seconds = sum((_number(m.group(1)) * _UNITS[m.group(2)] for m in matches), Decimal(0))
    duration = timedelta(seconds=int(seconds.to_integral_value()))
    if duration > MAX_DURATION:
        raise DomainError(f"{text!r} is longer than 31 days")
    return duration


def _number(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise DomainError(f"{text!r} is not a number") from None


def format_clock(duration: timedelta) -> str:
    """``H:MM:SS`` (hours grow past 24): for running timers."""
    total = max(int(duration.total_seconds()), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def format_minutes(seconds: int) -> str:
    """``1h 05m`` / ``45m`` / ``0m``: whole minutes (day totals, worklogs)."""
    return format_span(timedelta(minutes=seconds // 60)) if seconds >= 60 else "0m"


def format_span(duration: timedelta) -> str:
    """``2h 05m`` / ``45m`` / ``30s``: for totals."""
    total = max(int(duration.total_seconds()), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def hours_decimal(duration: timedelta, places: int = 2) -> Decimal:
    """Hours as a Decimal rounded half-up to ``places`` (for tables and CSV)."""
    from decimal import ROUND_HALF_UP

    seconds = Decimal(int(duration.total_seconds()))
    return (seconds / Decimal(3600)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
