"""What to push to Jira: the selected ticket, today, or everything."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class PushScopeModal(ModalScreen[str]):
    DEFAULT_CSS = """
    PushScopeModal { align: center middle; }
    PushScopeModal > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $primary; background: $surface;
    }
    PushScopeModal Label { width: 100%; }
    PushScopeModal .title { text-style: bold; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("t", "pick('ticket')", "This ticket", id="push.ticket"),
        Binding("d", "pick('today')", "Today", id="push.today"),
        Binding("a", "pick('all')", "Everything", id="push.all"),
        Binding("escape,n", "cancel", "Cancel", id="push.cancel"),
    ]

    def __init__(self, ticket: str | None) -> None:
        super().__init__()
        self.ticket = ticket

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Push time to Jira as worklogs", classes="title")
            if self.ticket:
                yield Label(f"t  {self.ticket}: its finished segments", markup=False)
            yield Label("d  today: every ticket's finished segments", markup=False)
            yield Label("a  everything not in Jira yet (and retry the queue)", markup=False)
            yield Label("Esc  cancel", markup=False)

    def action_pick(self, scope: str) -> None:
        if scope == "ticket" and not self.ticket:
            return
        self.dismiss(scope)

    def action_cancel(self) -> None:
        self.dismiss(None)
