"""The colours of states (running, paused, paid, failed …), one place for
every screen. On dark themes they are the terminal's own named colours; the
light theme uses darker shades, each with at least 4.5:1 contrast against
every background the app paints (WCAG AA), and its own success, warning,
error and accent colours to match. Colour is never the only sign of a state:
the state's word (or ✓ / ✗) is always there too."""

from __future__ import annotations

from typing import Literal

from textual.app import App
from textual.theme import BUILTIN_THEMES, Theme

Tone = Literal["good", "warn", "bad", "info", "muted"]

NAMED_TONES: dict[str, str] = {
    "good": "green",
    "warn": "yellow",
    "bad": "red",
    "info": "cyan",
    "muted": "dim",
}
LIGHT_TONES: dict[str, str] = {
    "good": "#175E2E",
    "warn": "#7A4100",
    "bad": "#A51D2D",
    "info": "#00567A",
    "muted": "#505050",
}

_base = BUILTIN_THEMES["textual-light"]
LIGHT_THEME = Theme(
    name="jtt-light",
    primary=_base.primary,
    secondary=_base.secondary,
    accent=LIGHT_TONES["warn"],
    warning=LIGHT_TONES["warn"],
    error=LIGHT_TONES["bad"],
    success=LIGHT_TONES["good"],
    foreground=_base.foreground,
    background=_base.background,
    surface=_base.surface,
    panel=_base.panel,
    boost=_base.boost,
    dark=False,
    variables=dict(_base.variables),
)


def tone(app: App[object], name: Tone, *, bold: bool = False) -> str:
    """A Rich style for a state, right for the current theme."""
    theme = app.current_theme
    colour = NAMED_TONES[name] if theme.dark else LIGHT_TONES[name]
    return f"bold {colour}" if bold else colour
