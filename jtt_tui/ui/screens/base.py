"""What every top-level screen shares: the status line and footer, and one
way to run a service call off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from jtt_tui.ui.workers import background

if TYPE_CHECKING:
    from jtt_tui.ui.app import JttApp

T = TypeVar("T")


class JttScreen(Screen[None]):
    """A top-level section (Timer, Projects, Billing, Database)."""

    @property
    def jtt(self) -> JttApp:
        return self.app  # type: ignore[return-value]

    def background(
        self,
        work: Callable[[], T],
        then: Callable[[T], None] | None = None,
        *,
        group: str = "default",
        exclusive: bool = True,
        description: str = "",
    ) -> Worker[None]:
        """Run ``work`` (blocking storage calls) in a thread worker; hand its
        result to ``then`` on the UI thread (see ``ui/workers.py``)."""
        return background(
            self, work, then, group=group, exclusive=exclusive, description=description
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: hand failures to the app's handler."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.jtt.report_failure(event.worker.error)

    def changed(self, message: str | None = None) -> None:
        """After a write: tell the user (if asked) and refresh what shows data."""
        if message:
            self.notify(message, timeout=3)
        self.jtt.data_changed()

    def refresh_data(self) -> None:
        """Reload this screen's data (override)."""

    def on_screen_resume(self) -> None:
        if self.jtt.ready:  # before that, the app refreshes the screen once booted
            self.refresh_data()

    def action_refresh(self) -> None:
        self.refresh_data()


def ignore(_: Any) -> None:
    """A ``then`` for work whose result is not needed."""
