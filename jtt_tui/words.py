"""Counted words for messages: ``1 segment``, ``2 segments`` — never
``1 segment(s)``."""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "manual task": "manual tasks", "settings": "settings"}


def count(number: int, word: str, plural: str | None = None) -> str:
    """``count(1, "invoice")`` -> ``1 invoice``; ``count(3, "invoice")`` -> ``3 invoices``."""
    if number == 1:
        return f"{number} {word}"
    return f"{number} {plural or _IRREGULAR.get(word) or word + 's'}"
