"""The bottom line: the keys that work right now, as one line of text.

It shows the same bindings a Footer would (the focused widget's, the
screen's and the app's, remapped keys included) but is a single widget, so
it costs next to nothing at start-up or when focus moves.

It never cuts a key off half way: the most important keys come first (each
command's ``rank``), less used ones only where there is room, and ``? Keys``
(the way to every other key) always last.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ScreenStackError
from textual.events import Resize
from textual.keys import key_to_character
from textual.screen import Screen
from textual.widgets import Input, Static, TextArea

from jtt_tui.ui.commands import REGISTRY

# (rank, place): the rank picks what shows, the place where it shows (the
# section's keys in registry order, then those that work everywhere)
_ORDER = {
    command.id: (command.rank, n + (1000 if command.scope == "app" else 0))
    for n, command in enumerate(REGISTRY)
}
_UNKNOWN = (3, 2000)  # bindings not in the registry (Textual's own)
HELP = "show_keys"


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    enabled: bool
    rank: int
    order: int

    @property
    def width(self) -> int:
        return cell_len(f" {self.key} {self.label} ")


def fit(items: list[Item], last: Item | None, width: int) -> list[Item]:
    """The items to show in ``width`` cells, by rank then registry order.
    Once a key does not fit, no key of a lower rank shows (a shorter one of
    the same rank still may); ``last`` always ends the line."""
    room = width - (last.width if last else 0)
    chosen: list[Item] = []
    dropped_rank: int | None = None
    for item in sorted(items, key=lambda i: (i.rank, i.order)):
        if dropped_rank is not None and item.rank > dropped_rank:
            break  # a more important key did not fit: no less important one shows
        if item.width <= room:
            chosen.append(item)
            room -= item.width
        elif dropped_rank is None:
            dropped_rank = item.rank
    chosen.sort(key=lambda i: i.order)
    return chosen + ([last] if last else [])


def _is_text(key: str) -> bool:
    """Keys a text field takes as text (a letter, a digit, ?, space, /)."""
    char = key_to_character(key)
    return (char is not None and char.isprintable()) or key == "slash"


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $text-muted; }
    KeyBar > .keybar--key { color: $accent; text-style: bold; }
    KeyBar > .keybar--disabled { color: $text-disabled; }
    """
    COMPONENT_CLASSES = {"keybar--key", "keybar--disabled"}

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        # and at once when the focus moves (Textual updates the bindings after
        # a refresh, which on a real terminal can lag behind the move)
        self.watch(self.screen, "focused", self._focus_moved, init=False)
        self._show()

    def _focus_moved(self, _focused: object) -> None:
        try:
            if not self.screen.is_current:
                return  # a screen behind a dialog, or the app closing
        except ScreenStackError:
            return
        self._show()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self, _event: Resize) -> None:
        self._show()

    def _bindings_changed(self, _screen: Screen[object]) -> None:
        self._show()

    def items(self) -> tuple[list[Item], Item | None]:
        """What could show: one item per action (its shortest key), and the
        help item apart."""
        by_action: dict[str, Item] = {}
        help_item: Item | None = None
        # in a text field a letter is text: only keys that still act are shown
        typing = isinstance(self.screen.focused, Input | TextArea)
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.show or (typing and _is_text(key) and not binding.priority):
                continue
            rank, order = _ORDER.get(binding.id or "", _UNKNOWN)
            item = Item(
                self.app.get_key_display(binding),
                binding.description,
                active.enabled,
                rank,
                order,
            )
            if binding.action == HELP:
                if help_item is None or cell_len(item.key) < cell_len(help_item.key):
                    help_item = item
                continue
            known = by_action.get(binding.action)
            if known is None or cell_len(item.key) < cell_len(known.key):
                by_action[binding.action] = item  # q rather than ^q, x rather than F6
        items = list(by_action.values())
        if typing:
            # digits are text in a field: say how to change section from here
            items.append(Item("F1-F5", "Sections", True, 2, 999))
        return items, help_item

    def _show(self) -> None:
        key_style = self.get_component_rich_style("keybar--key")
        disabled = self.get_component_rich_style("keybar--disabled")
        items, help_item = self.items()
        width = self.size.width or self.app.size.width
        text = Text(no_wrap=True, overflow="crop")
        for item in fit(items, help_item, width):
            text.append(f" {item.key}", style=key_style if item.enabled else disabled)
            text.append(f" {item.label} ", style="" if item.enabled else disabled)
        self.update(text)
