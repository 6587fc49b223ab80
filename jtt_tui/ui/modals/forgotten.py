"""A timer left running: keep it, stop it at a time, or discard the time
after that and keep it running."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.parsing import parse_moment
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.text import plain


@dataclass(frozen=True)
class ForgottenChoice:
    action: Literal["keep", "stop", "discard"]
    at: datetime | None = None  # when it stopped (stop / discard)


class ForgottenModal(ModalScreen[ForgottenChoice | None]):
    """Asked on start-up or at the next key press when a timer has run too
    long or across midnight. The time field has the focus (typing a time
    never fires a choice): Enter stops the timer then; Tab reaches the other
    choices, where k / d / l choose too; Esc asks again later."""

    BINDINGS = bindings_for("forgotten")

    def __init__(self, item: Any, *, now: datetime, tz: tzinfo | None) -> None:
        super().__init__()
        self.item = item
        self.now = now
        self.tz = tz

    def compose(self) -> ComposeResult:
        item = self.item
        name = f" — {plain(item.session.ticket_name, 40)}" if item.session.ticket_name else ""
        with Vertical():
            yield Label("A timer left running?", classes="title")
            yield Static(
                f"{item.ticket}{name} has been {item.reason}. Was it all work?", markup=False
            )
            yield Label("It stopped at (e.g. 18:00, yesterday 18:30, -2h) — Enter stops it then:")
            yield Input(self._text(item.suggested_end), id="forgotten-at", compact=True)
            yield Static("", id="forgotten-error", classes="-empty", markup=False)
            with Horizontal():
                yield Button("Stop it then (s)", id="stop", variant="primary", compact=True)
                yield Button("Discard after, keep running (d)", id="discard", compact=True)
            with Horizontal():
                yield Button("Keep it all (k)", id="keep", compact=True)
                yield Button("Later (l, Esc)", id="later", compact=True)

    def on_mount(self) -> None:
        self.query_one("#forgotten-at", Input).focus()

    def _text(self, moment: datetime) -> str:
        local = to_local(moment, self.tz)
        if local.date() == local_date(self.now, self.tz):
            return f"{local:%H:%M}"
        return f"{local:%Y-%m-%d %H:%M}"

    def _when(self) -> datetime | None:
        text = self.query_one("#forgotten-at", Input).value
        error = self.query_one("#forgotten-error", Static)
        try:
            moment = parse_moment(text, now=self.now, tz=self.tz, what="the time")
        except DomainError as exc:
            error.update(f"✗ {exc}")
            error.remove_class("-empty")
            self.query_one("#forgotten-at", Input).focus()
            return None
        if not self.item.since <= moment <= self.now:
            error.update("✗ give a time between its start and now")
            error.remove_class("-empty")
            return None
        return moment

    def action_choose(self, action: str) -> None:
        if action == "keep":
            self.dismiss(ForgottenChoice("keep"))
            return
        moment = self._when()
        if moment is not None:
            self.dismiss(ForgottenChoice(action, moment))  # type: ignore[arg-type]

    def action_later(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#later")
    def _later_pressed(self) -> None:
        self.action_later()

    @on(Button.Pressed, "#keep, #stop, #discard")
    def _choice_pressed(self, event: Button.Pressed) -> None:
        self.action_choose(str(event.button.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose("stop")
