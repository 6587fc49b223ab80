"""Constrained field types shared by the domain models.

Validation lives here, at the edge of the domain: every value that reaches a
model passes through one of these, whatever its source (form, CLI, import file,
database document).
"""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

from jtt_tui.domain.clock import truncate_ms

TICKET_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]+-\d+$")
PROJECT_KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]+$")

NAME_MAX = 200
TEXT_MAX = 10_000
TAG_MAX = 50
TAGS_MAX = 50


def new_id() -> str:
    """A fresh record id (32 hex characters)."""
    return os.urandom(16).hex()


def normalize_ticket(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    ticket = value.strip().upper()
    if len(ticket) > 64 or not TICKET_PATTERN.match(ticket):
        raise ValueError(
            f"{value.strip()[:64]!r} is not a Jira ticket number; expected a project key, "
            "a dash and a number, e.g. WEB-123"
        )
    return ticket


def normalize_project_key(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    key = value.strip().upper()
    if len(key) > 32 or not PROJECT_KEY_PATTERN.match(key):
        raise ValueError(
            f"{value.strip()[:32]!r} is not a Jira project key; expected capital letters, "
            "digits or _ starting with a letter, at least 2 characters, e.g. WEB"
        )
    return key


def _to_utc(moment: datetime) -> datetime:
    # Hot path (every stored instant passes here on every read): skip the
    # conversions that are no-ops for values already UTC to the millisecond.
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.microsecond % 1000:
        moment = truncate_ms(moment)
    return moment


def _decimal_from_input(value: Any) -> Any:
    """Accept Decimal, int and numeric strings; a float (a JSON number) is taken
    by its shortest repr so 72.5 becomes Decimal("72.5"), never a binary fraction."""
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value[:40]!r} is not a number") from None
        if not parsed.is_finite():
            raise ValueError("expected a finite number")
        return parsed
    return value


def _non_negative_duration(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("a duration cannot be negative")
    return value


def _clean_tags(tags: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = tag.strip()
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


TicketNumber = Annotated[str, BeforeValidator(normalize_ticket)]
ProjectKey = Annotated[str, BeforeValidator(normalize_project_key)]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
RecordId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.:-]+$"),
]
UserId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[\w.@+-]+$"),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NAME_MAX)]
RequiredName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)
]
LongText = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, max_length=TAG_MAX)]
Tags = Annotated[list[Tag], Field(max_length=TAGS_MAX), AfterValidator(_clean_tags)]
Money = Annotated[
    Decimal, BeforeValidator(_decimal_from_input), Field(ge=0, max_digits=18, decimal_places=6)
]
Quantity = Annotated[
    Decimal, BeforeValidator(_decimal_from_input), Field(ge=0, max_digits=12, decimal_places=6)
]
Percent = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_input),
    Field(ge=0, le=100, max_digits=9, decimal_places=4),
]
Currency = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z]{3}$"),
]
Duration = Annotated[timedelta, AfterValidator(_non_negative_duration)]
# colour names every terminal theme can show (the 16 ANSI ones, a few common others)
COLOR_NAMES = frozenset(
    {
        *("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"),
        *("bright_black", "bright_red", "bright_green", "bright_yellow"),
        *("bright_blue", "bright_magenta", "bright_cyan", "bright_white"),
        *("orange", "purple", "pink", "brown", "gray", "grey", "navy", "teal", "olive"),
        *("maroon", "lime", "aqua", "fuchsia", "silver", "gold", "indigo", "violet"),
        *("coral", "salmon", "turquoise"),
    }
)


def _named_colour(name: str) -> bool:
    """A name above, or one of the terminal colour names Rich knows (dark_orange …)."""
    from rich.color import ANSI_COLOR_NAMES

    return name in COLOR_NAMES or name in ANSI_COLOR_NAMES


def _color(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or re.fullmatch(r"#[0-9a-fA-F]{6}", text) or _named_colour(text.lower()):
        return text.lower() if text and not text.startswith("#") else text
    raise ValueError(
        f"{text[:20]!r} is not a colour: give #rrggbb (e.g. #1e90ff) or a name such as "
        "red, teal, orange or bright_blue"
    )


Color = Annotated[str, BeforeValidator(_color), StringConstraints(max_length=20)]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+$")
]
Address = Annotated[str, StringConstraints(max_length=1_000)]
LineText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
InvoiceNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w/-]+$")
]
