"""The bottom line: the keys that work right now, as one line of text.

It shows the same bindings a Footer would (the focused widget's, the
screen's and the app's, remapped keys included) but is a single widget, so
it costs next to nothing at start-up or when focus moves.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text-muted; }
    KeyBar > .keybar--key { color: $accent; text-style: bold; }
    KeyBar > .keybar--disabled { color: $text-disabled; }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--disabled"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._show()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self._show()

    def _show(self) -> None:
        key_style = self.get_component_rich_style("keybar--key")
        disabled = self.get_component_rich_style("keybar--disabled")
        text = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        shown = [a for a in self.screen.active_bindings.values() if a.binding.show]
        # "? Keys" first, so the way to every other key is always on screen
        shown.sort(key=lambda a: a.binding.action != "show_keys")
        for active in shown:
            binding = active.binding
            if binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            text.append(f" {key}", style=key_style if active.enabled else disabled)
            text.append(f" {binding.description} ", style="" if active.enabled else disabled)
        self.update(text)
