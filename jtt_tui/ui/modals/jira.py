"""What to push to Jira: the selected ticket, today, or everything."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from jtt_tui.ui.commands import bindings_for


class PushScopeModal(ModalScreen[str]):
    BINDINGS = bindings_for("push")

    def __init__(self, ticket: str | None) -> None:
        super().__init__()
        self.ticket = ticket

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Push time to Jira as worklogs", classes="title")
            # a key, Enter on the focused choice, or a click
            if self.ticket:
                yield Button(f"t  {self.ticket}: its finished segments", id="ticket", compact=True)
            yield Button("d  today: every ticket's finished segments", id="today", compact=True)
            yield Button(
                "a  everything not in Jira yet (and retry the queue)", id="all", compact=True
            )
            yield Button("Esc  cancel", id="cancel", compact=True)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#ticket, #today, #all")
    def _scope_pressed(self, event: Button.Pressed) -> None:
        self.action_pick(str(event.button.id))

    def action_pick(self, scope: str) -> None:
        if scope == "ticket" and not self.ticket:
            return
        self.dismiss(scope)

    def action_cancel(self) -> None:
        self.dismiss(None)
