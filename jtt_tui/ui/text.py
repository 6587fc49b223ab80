"""Text shown in the interface: one line, no control characters."""

from __future__ import annotations

import unicodedata


def plain(text: str, limit: int | None = None) -> str:
    """``text`` on one line without control or bidi-override characters, so
    a hostile name cannot break the layout; cut to ``limit`` with an ellipsis."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    ).strip()
    if limit is not None and len(cleaned) > limit:
        return cleaned[: max(limit - 1, 0)] + "…"
    return cleaned
