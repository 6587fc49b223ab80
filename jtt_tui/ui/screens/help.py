"""Every key, from the command registry, grouped by section. Readable from
60 columns up: descriptions wrap, and each command's id (for remapping in
settings.toml) sits in its own column when there is room, else under the
description — never off screen."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from jtt_tui.ui.commands import REGISTRY, SCREEN_TITLES, key_label

SCOPE_TITLES = {
    "app": "Everywhere",
    **SCREEN_TITLES,
    "timer.segments": "Timer: segment list",
    "billing.settings": "Billing: settings form",
    "reports": "Time reports",
    "reconcile": "Jira: reconcile",
    "migrate": "The migration wizard",
    "recovery": "When the database is unreachable",
    "conflict": "Settling a conflict",
    "confirm": "Questions",
    "form": "Forms",
    "preview": "Invoice preview",
    "forgotten": "A timer left running",
    "push": "Push to Jira: what",
}
WIDE = 90  # from this width on, the ids get a column of their own
FORMS = (
    "In forms: Enter or ^s saves, Esc or ^g cancels, Tab and shift+Tab move between "
    "fields. Inside a text field letters and digits are text: F1–F5 (or alt+1…5) "
    "still switch sections, ^l lists the keys, ^p opens the command palette."
)


def keys_table(width: int) -> RenderableType:
    """The keys of every section, laid out for ``width`` cells."""
    wide = width >= WIDE
    key_width = min(16, max(len(key_label(c.key)) for c in REGISTRY))
    id_width = max(len(c.id) for c in REGISTRY)
    parts: list[RenderableType] = []
    for scope, title in SCOPE_TITLES.items():
        commands = [c for c in REGISTRY if c.scope == scope]
        if not commands:
            continue
        if parts:
            parts.append(Text(""))
        parts.append(Text(title, style="bold underline"))
        table = Table.grid(padding=(0, 2, 0, 0), expand=True)
        table.add_column("key", width=key_width, no_wrap=False, style="bold")
        table.add_column("does", ratio=1, overflow="fold")
        if wide:
            table.add_column("id", width=id_width, no_wrap=True, style="dim")
        for command in commands:
            key = Text(key_label(command.key))
            if wide:
                table.add_row(key, Text(command.help), Text(command.id))
            else:
                does = Text(command.help)
                does.append(f"\n{command.id}", style="dim")
                table.add_row(key, does)
        parts.append(table)
    return Group(*parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,ctrl+l", "dismiss_help", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Keys (↑↓ PgUp PgDn scroll, Esc closes). Remap any of them in "
                'settings.toml, section [keys], by its id: timer.new = "ctrl+n".',
                markup=False,
            )
            with VerticalScroll(id="help-scroll"):
                yield Static(id="help-keys")
                yield Static(FORMS, id="help-forms", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
        self._fill()

    def on_resize(self, _event: Resize) -> None:
        self._fill()

    def _fill(self) -> None:
        width = self.query_one("#help-scroll").size.width or self.app.size.width
        self.query_one("#help-keys", Static).update(keys_table(width))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
