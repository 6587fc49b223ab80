"""Every key, from the command registry, grouped by section."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from jtt_tui.ui.commands import REGISTRY, SCREEN_TITLES, key_label

SCOPE_TITLES = {
    "app": "Everywhere",
    **SCREEN_TITLES,
    "timer.segments": "Timer: segment list",
    "billing.settings": "Billing: settings form",
    "reports": "Time reports",
    "migrate": "The migration wizard",
    "recovery": "When the database is unreachable",
    "conflict": "Settling a conflict",
}


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100; max-width: 100%; height: 90%; border: thick $primary;
        background: $surface;
    }
    HelpScreen Label { padding: 0 1; width: 100%; }
    HelpScreen DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Keys — remap any of them in settings.toml, section [keys], by its id "
                '(e.g. timer.new = "ctrl+n"). Esc closes.',
                markup=False,
            )
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Does", "Id")
            for scope, title in SCOPE_TITLES.items():
                commands = [c for c in REGISTRY if c.scope == scope]
                if not commands:
                    continue
                table.add_row(Text(title, style="bold"), Text(""), Text(""))
                for command in commands:
                    table.add_row(
                        Text(key_label(command.key)),
                        Text(command.help),
                        Text(command.id, style="dim"),
                    )
            yield table
            yield Label(
                "In forms: Enter or ^s saves, Esc or ^g cancels, Tab moves between "
                "fields. ^p opens the command palette.",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
