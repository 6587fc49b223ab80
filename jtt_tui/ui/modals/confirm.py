"""Yes / no, answered with y or n (or Enter / Escape); with ``cancel``,
a third answer: Escape (or the Cancel button) changes nothing (None)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from jtt_tui.ui.commands import bindings_for


class ConfirmModal(ModalScreen[bool | None]):
    BINDINGS = bindings_for("confirm")

    def __init__(
        self, question: str, *, danger: bool = False, yes: str = "Yes", cancel: bool = False
    ) -> None:
        super().__init__(classes="-danger" if danger else "")
        self.question = question
        self.yes = yes
        self.cancel = cancel  # Escape: neither yes nor no, nothing happens

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            with Horizontal():
                yield Button(
                    f"{self.yes} (y)",
                    id="yes",
                    variant="error" if self.has_class("-danger") else "primary",
                )
                yield Button("No (n)", id="no")
                if self.cancel:
                    yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def _yes_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no_pressed(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def key_escape(self) -> None:
        """Escape: "no", or with ``cancel`` nothing at all."""
        self.dismiss(None if self.cancel else False)
