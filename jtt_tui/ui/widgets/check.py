"""A checkbox whose state shows by its shape, not by colour alone: ``[X]``
when on, ``[ ]`` when off — unambiguous in the 16-colour theme, on a
monochrome terminal and for colour-blind eyes."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class Check(Checkbox):
    @property
    def _button(self) -> Content:
        inner = self.get_visual_style("toggle--button")
        return Content.assemble("[", ("X" if self.value else " ", inner), "]")
