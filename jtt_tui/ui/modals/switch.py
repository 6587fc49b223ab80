"""Confirm a live switch of the store, and whether to take the data along."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Static

from jtt_tui.ui.modals.forms import FormModal, check_field


class SwitchModal(FormModal[bool]):
    """Dismissed with whether to copy the data (None: cancelled)."""

    SUBMIT = "Switch"

    def __init__(self, source: str, target: str, *, copy_default: bool) -> None:
        super().__init__()
        self.heading = f"Switch to {target}"
        self.source = source
        self.target = target
        self.copy_default = copy_default

    def fields(self) -> Iterable[Widget]:
        yield Static(
            f"jtt connects to {self.target} and checks it first; if that fails, nothing "
            f"changes and {self.source} stays in use. The choice is saved for the next start.",
            classes="form-hint",
            markup=False,
        )
        yield from check_field(
            "copy",
            f"Copy my data from {self.source} (the newer copy of each record wins)",
            self.copy_default,
        )

    def build(self) -> bool:
        return bool(self.value("copy"))
