"""Text that changes often (a ticking clock, the selection's detail).

``Static.update`` asks for a new layout of the whole screen, because new
text may need a new size. A ``TextLine`` has its size set in CSS and only
repaints itself, so a 1 Hz clock or a moving selection stays cheap."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    DEFAULT_CSS = """
    TextLine { height: 1; width: 1fr; }
    """

    def __init__(self, text: str | Text = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._text: str | Text = text

    def set(self, text: str | Text) -> None:
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> str | Text:
        return self._text
