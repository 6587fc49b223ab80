"""Turn pydantic validation errors into one line a person can act on."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

_MAX_SHOWN = 60


def explain(exc: ValidationError, *, context: str = "") -> str:
    """``field: what is wrong`` for the first problem (and how many more)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    location = ".".join(str(part) for part in first["loc"] if part != "__root__")
    message = sentence(first)
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


# what a field must look like, for pattern mismatches, by the field's name
_PATTERNS = {
    "currency": "a currency is three capital letters, e.g. EUR",
    "invoice_prefix": "letters, digits, _ / and - only, e.g. INV",
    "email": "an e-mail address such as name@example.com",
    "key": "a Jira project key: capital letters, digits or _, starting with a letter (e.g. WEB)",
    "user_id": "letters, digits and . _ @ + - only",
    "invoice_number": "letters, digits, _ / and - only",
}


def sentence(error: Any) -> str:
    """One pydantic error as words a person reads (never the raw
    ``String should match pattern '^[A-Z]{3}$'``)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    name = str(error.get("loc", ("",))[-1]) if error.get("loc") else ""
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    message = message.removeprefix("Assertion failed, ")
    words = {
        "extra_forbidden": "is not a known field",
        "missing": "is required",
        "string_pattern_mismatch": _PATTERNS.get(name, "is not in the expected form"),
        "greater_than_equal": f"must be {ctx.get('ge')} or more",
        "greater_than": f"must be more than {ctx.get('gt')}",
        "less_than_equal": f"must be {ctx.get('le')} or less",
        "less_than": f"must be less than {ctx.get('lt')}",
        "string_too_long": f"at most {ctx.get('max_length')} characters",
        "too_long": f"at most {ctx.get('max_length')} entries",
        "string_too_short": "must not be empty"
        if ctx.get("min_length") == 1
        else f"at least {ctx.get('min_length')} characters",
        "decimal_max_places": f"at most {ctx.get('decimal_places')} decimal places",
        "decimal_max_digits": f"at most {ctx.get('max_digits')} digits",
        "decimal_whole_digits": "too many digits before the decimal point",
        "decimal_parsing": "must be a number such as 72.50",
        "decimal_type": "must be a number such as 72.50",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "bool_parsing": "must be true or false",
        "date_parsing": "must be a date such as 2025-03-10",
        "date_from_datetime_parsing": "must be a date such as 2025-03-10",
        "datetime_parsing": "must be a date and time such as 2025-03-10T09:15:00+01:00",
        "timezone_aware": "must be a time with its UTC offset, e.g. 2025-03-10T09:15:00+01:00",
        "literal_error": f"must be one of {ctx.get('expected')}",
        "enum": f"must be one of {ctx.get('expected')}",
    }
    return words.get(kind, message)
