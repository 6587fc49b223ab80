"""Bars drawn with block characters: progress ratios and a weekly chart."""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual.app import App

from jtt_tui.domain.durations import format_span
from jtt_tui.ui.palette import NAMED_TONES, Tone, tone

_PARTIAL = " ▏▎▍▌▋▊▉"


def _blocks(fraction: float, width: int) -> str:
    cells = max(0.0, min(fraction, 1.0)) * width
    full = int(cells)
    part = _PARTIAL[int((cells - full) * 8)] if full < width else ""
    return ("█" * full + part).ljust(width, " ")


def ratio_bar(ratio: float | None, width: int = 8, *, app: App[object] | None = None) -> Text:
    """``████▌   62%``; red past 100 %, dim when there is nothing to compare
    (the theme's tones with an ``app``)."""

    def style_of(name: Tone) -> str:
        return tone(app, name) if app is not None else NAMED_TONES[name]

    if ratio is None:
        return Text("–", style=style_of("muted"))
    style = style_of("bad" if ratio > 1 else ("warn" if ratio > 0.85 else "good"))
    return Text(f"{_blocks(ratio, width)} {ratio * 100:3.0f}%", style=style)


def week_bars(weeks: list[tuple[date, timedelta]], width: int = 24) -> str:
    """One line per week: its Monday, a bar, the time."""
    longest = max((total for _, total in weeks), default=timedelta(0))
    lines = []
    for monday, total in weeks:
        fraction = total / longest if longest else 0.0
        lines.append(f"{monday:%Y-%m-%d} {_blocks(fraction, width)} {format_span(total)}")
    return "\n".join(lines)
