"""Plain-text output for the command line (no Rich: start-up time matters)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


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
