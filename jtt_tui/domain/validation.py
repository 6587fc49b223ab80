"""Turn pydantic validation errors into one line a person can act on."""

from __future__ import annotations

from pydantic import ValidationError

_MAX_SHOWN = 60


def explain(exc: ValidationError, *, context: str = "") -> str:
    """``field: what is wrong`` for the first problem (and how many more)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    location = ".".join(str(part) for part in first["loc"] if part != "__root__")
    message = str(first["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if first["type"] == "extra_forbidden":
        message = "is not a known field"
    elif first["type"] == "missing":
        message = "is required"
    value = first.get("input")
    shown = ""
    if (
        first["type"] not in ("missing", "extra_forbidden")
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
    ):
        text = str(value)
        if len(text) > _MAX_SHOWN:
            text = text[:_MAX_SHOWN] + "…"
        if text not in message:
            shown = f" (got {text!r})"
    prefix = f"{context}: " if context else ""
    where = f"{location}: " if location else ""
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{prefix}{where}{message}{shown}{more}"
