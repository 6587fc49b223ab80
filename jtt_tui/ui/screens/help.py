"""Every key, from the command registry, grouped by section."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from jtt_tui.ui.commands import REGISTRY, SCREEN_TITLES, key_label

SCOPE_TITLES = {"app": "Everywhere", **SCREEN_TITLES, "timer.segments": "Timer: segment list"}


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: 90%; border: thick $primary; background: $surface;
    }
    HelpScreen Label { text-style: bold; padding: 0 1; }
    HelpScreen DataTable { height: auto; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("Keys (remap any of them in settings.toml under [keys] by its id)")
            for scope, title in SCOPE_TITLES.items():
                commands = [c for c in REGISTRY if c.scope == scope]
                if not commands:
                    continue
                yield Label(title)
                table: DataTable[str] = DataTable(cursor_type="none", show_cursor=False)
                table.add_columns("Key", "Does", "Id")
                for command in commands:
                    table.add_row(key_label(command.key), command.help, command.id)
                yield table
            yield Label(
                "In forms: Enter or ^s saves, Esc or ^g cancels; Tab moves between "
                "fields. ^p opens the command palette."
            )

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
