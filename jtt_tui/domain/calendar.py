"""Local calendar days for UTC instants.

Instants are stored in UTC; people think in local days. With ``tz=None`` the
system's own rules are used (``time.mktime`` / ``astimezone()``), so days
around a daylight-saving change are 23 or 25 hours long, as they really are.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, tzinfo


def to_local(moment: datetime, tz: tzinfo | None = None) -> datetime:
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def local_date(moment: datetime, tz: tzinfo | None = None) -> date:
    return to_local(moment, tz).date()


def day_start(day: date, tz: tzinfo | None = None) -> datetime:
    """The UTC instant at which local ``day`` begins."""
    if tz is not None:
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    timestamp = time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1))
    return datetime.fromtimestamp(timestamp, UTC)


def day_bounds(day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """``[start, end)`` of local ``day`` in UTC."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def local_datetime(day: date, hour: int, minute: int, tz: tzinfo | None = None) -> datetime:
    """The UTC instant of a local wall-clock time on ``day``."""
    if tz is not None:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)
    timestamp = time.mktime((day.year, day.month, day.day, hour, minute, 0, 0, 0, -1))
    return datetime.fromtimestamp(timestamp, UTC)
