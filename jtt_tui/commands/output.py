"""Plain-text output for the command line (no Rich: start-up time matters)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from jtt_tui.commands.context import CommandFailed
from jtt_tui.domain.calendar import local_date, local_datetime


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, align: str) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if align == "r" else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """Columns padded to their widest cell; ``align`` is one l/r per column."""
    align = align.ljust(len(headers), "l")
    widths = [_width(h) for h in headers]
    for row in rows:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(_pad(h, w, a) for h, w, a in zip(headers, widths, align, strict=True)).rstrip()
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = (_pad(c, w, a) for c, w, a in zip(row, widths, align, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def clean(text: str) -> str:
    """One line, no control characters (a hostile name cannot move the cursor)."""
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in text).strip()


def parse_day(text: str, *, today: date, what: str) -> date:
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
        raise CommandFailed(
            f"{what} {text!r} is not a date; use YYYY-MM-DD, today, yesterday or -N (days ago)"
        ) from None


def parse_clock_time(text: str, *, now: datetime, tz: tzinfo | None) -> datetime:
    """``HH:MM`` today (local time) as a UTC instant."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise CommandFailed(f"--at {text!r} is not a time of day; use HH:MM, e.g. 09:30")
    return local_datetime(local_date(now, tz), int(match.group(1)), int(match.group(2)), tz)
