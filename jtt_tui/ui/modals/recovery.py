"""When the shared database stops answering: what happened, in words, what to
try, and what to do now (retry, work offline, move to the local store, or
fix the settings); and, once it is back, settling writes that collided with
someone else's.

Both modals only show things and report the user's choice: the app owns the
connection and does the work (see ``JttApp.on_storage_changed``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Label, Static

from jtt_tui.storage.errors import StorageFailure, redact
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.text import plain

if TYPE_CHECKING:
    from jtt_tui.domain.models import Record
    from jtt_tui.storage.offline import OutboxEntry

RecoveryChoice = Literal["offline", "local", "edit"]


class RecoveryModal(ModalScreen[RecoveryChoice | None]):
    """Shown on ConnectionLost. Closes by itself (dismissed with None) when
    the connection comes back."""

    AUTO_FOCUS = "#retry"

    BINDINGS = bindings_for("recovery")

    def __init__(self, failure: StorageFailure, *, location: str, pending: int) -> None:
        super().__init__()
        self.failure = failure
        self.location = location
        self.pending = pending
        self._retry_at: float | None = None
        self._attempt = 0
        self._busy: str | None = None
        self._countdown: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="recovery"):
            yield Label("", id="recovery-title", markup=False)
            yield Static("", id="recovery-message", markup=False)
            yield Static("", id="recovery-tips", markup=False)
            yield Static("", id="recovery-safe", markup=False)
            yield Static("", id="recovery-status", markup=False)
            with Horizontal():
                yield Button("Retry now (r)", id="retry", variant="primary", compact=True)
                yield Button("Work offline (o)", id="offline", compact=True)
                yield Button("Use local storage (l)", id="local", compact=True)
                yield Button("Settings (e)", id="edit", compact=True)

    def on_mount(self) -> None:
        self._show_failure()
        self._show_safe()
        self._show_status()
        self._countdown = self.set_interval(1.0, self._show_status)

    # -- what the app tells it -------------------------------------------------------

    def update_failure(self, failure: StorageFailure) -> None:
        self.failure = failure
        self._busy = None
        if self.is_mounted:
            self._show_failure()
            self._show_status()

    def retry_scheduled(self, seconds: float, attempt: int) -> None:
        self._retry_at = time.monotonic() + seconds
        self._attempt = attempt
        self._busy = None
        if self.is_mounted:
            self._show_status()

    def set_pending(self, pending: int) -> None:
        self.pending = pending
        if self.is_mounted:
            self._show_safe()

    def set_busy(self, text: str | None) -> None:
        self._busy = text
        if self.is_mounted:
            self._show_status()
            for button in self.query(Button):
                button.disabled = text is not None and button.id in ("local", "retry")

    # -- drawing ----------------------------------------------------------------------

    def _draw(self, part: str, text: str) -> None:
        """Update one line of the modal; a no-op once it is being taken down
        (a countdown tick or a late event can arrive while it closes)."""
        for widget in self.query(f"#{part}").results(Static):
            widget.update(text)

    def _show_failure(self) -> None:
        failure = self.failure
        self._draw("recovery-title", f"✗ {failure.title} ({failure.kind})")
        self._draw("recovery-message", f"{redact(self.location)}\n{redact(failure.message)}")
        self._draw("recovery-tips", "\n".join(f"• {redact(tip)}" for tip in failure.suggestions))

    def _show_safe(self) -> None:
        waiting = (
            "no changes waiting to be sent"
            if not self.pending
            else f"{self.pending} change{'s' if self.pending != 1 else ''} saved on this "
            "machine, sent when it is back"
        )
        self._draw(
            "recovery-safe",
            f"Nothing is lost: timers keep running, you can keep working ({waiting}).",
        )

    def _show_status(self) -> None:
        retrying = self._retry_at is not None and self.failure.recoverable
        self.set_class(retrying, "-retrying")
        if self._busy is not None:
            text = self._busy
        elif not self.failure.recoverable:
            text = (
                "Not retried automatically: this will not fix itself. Fix the settings (e), "
                "then retry (r)."
            )
        elif self._retry_at is None:
            text = "Retrying shortly…"
        else:
            left = max(0, round(self._retry_at - time.monotonic()))
            text = f"Retrying in {left} s (attempt {self._attempt})…" if left else "Retrying now…"
        self._draw("recovery-status", text)

    # -- the user's choice ------------------------------------------------------------

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        """A click or Enter on a button does what its key does."""
        action = {"retry": "retry", "offline": "work_offline", "local": "use_local"}.get(
            str(event.button.id), "edit_settings"
        )
        await self.run_action(action)

    def action_retry(self) -> None:
        self.set_busy("Retrying now…")
        connection = getattr(self.app, "connection", None)  # None: a bare app (snapshots)
        if connection is not None:
            connection.retry()

    def action_work_offline(self) -> None:
        self.dismiss("offline")

    def action_use_local(self) -> None:
        if self._busy is None:
            self.dismiss("local")

    def action_edit_settings(self) -> None:
        self.dismiss("edit")


Keep = Literal["mine", "theirs"]


class ConflictModal(ModalScreen[Keep | None]):
    """One write that collided with someone else's change while offline: both
    versions side by side (the fields that differ); the user keeps one."""

    BINDINGS = bindings_for("conflict")
    AUTO_FOCUS = "#mine"

    def __init__(self, entry: OutboxEntry, theirs: Record | None, *, remaining: int) -> None:
        super().__init__()
        self.entry = entry
        self.theirs = theirs
        self.remaining = remaining

    def compose(self) -> ComposeResult:
        entry = self.entry
        with Vertical():
            more = f" ({self.remaining} more after this one)" if self.remaining else ""
            yield Label(
                f"Conflict: {entry.kind.label} {plain(entry.key, 40)}{more}",
                id="conflict-title",
                markup=False,
            )
            yield Static(
                f"Your change from {entry.queued_at:%Y-%m-%d %H:%M} (made offline) was not "
                f"sent: the record was {plain(entry.detail, 120)}. Nothing was overwritten; "
                "choose which version to keep.",
                id="conflict-detail",
                markup=False,
            )
            yield Static(describe_difference(entry, self.theirs), id="conflict-diff", markup=False)
            with Horizontal():
                yield Button("Keep mine (m)", id="mine", variant="primary", compact=True)
                yield Button("Keep theirs (t)", id="theirs", compact=True)
                yield Button("Decide later (Esc)", id="later", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice = event.button.id
        self.dismiss(choice if choice in ("mine", "theirs") else None)  # type: ignore[arg-type]

    def action_keep(self, which: Keep) -> None:
        self.dismiss(which)

    def action_later(self) -> None:
        self.dismiss(None)


_SKIP = {"version", "updated_at", "created_at", "user_id"}


def describe_difference(entry: OutboxEntry, theirs: Record | None, width: int = 34) -> str:
    """The fields that differ, one per line: ``field: mine | theirs``."""
    if entry.op == "delete":
        if theirs is None:
            return "You deleted it; it is gone on the server too."
        return f"You deleted it offline; it was changed elsewhere (now version {theirs.version})."
    mine = entry.record
    if mine is None:
        return ""
    if theirs is None:
        return "You changed it offline; it was deleted elsewhere. Keep mine puts it back."
    left = mine.model_dump(mode="json", exclude=_SKIP)
    right = theirs.model_dump(mode="json", exclude=_SKIP)
    lines = [f"{'':14} {'mine':<{width}} theirs"]
    for name in left:
        if left[name] != right.get(name):
            lines.append(
                f"{name[:14]:<14} {_short(left[name], width):<{width}} "
                f"{_short(right.get(name), width)}"
            )
    if len(lines) == 1:
        lines.append("(the same content, saved twice)")
    return "\n".join(lines)


def _short(value: object, width: int) -> str:
    if isinstance(value, list):
        text = f"{len(value)} item{'s' if len(value) != 1 else ''}"
    else:
        text = "—" if value in (None, "") else str(value)
    return plain(text, width - 1)
