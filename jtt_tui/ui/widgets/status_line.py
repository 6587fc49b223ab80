"""The header line on every screen: the running timer with its live elapsed
time, today's total, and the storage badge. Its 1 Hz tick repaints only the
two labels that show time; it never reads the store."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from jtt_tui.domain.durations import format_clock, format_span
from jtt_tui.ui.state import StoreBadge, TimerSnapshot
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.text_line import TextLine


class StatusLine(Horizontal):
    DEFAULT_CSS = """
    StatusLine { height: 1; dock: top; background: $panel; }
    StatusLine > Static { width: auto; padding: 0 1; }
    StatusLine > #status-timer { width: 1fr; padding: 0 1; }
    StatusLine > #status-today { width: 16; }
    StatusLine > #status-badge.-connected { color: $success; }
    StatusLine > #status-badge.-offline { color: $error; text-style: bold; }
    StatusLine > #status-badge.-reconnecting { color: $warning; }
    """

    def compose(self) -> ComposeResult:
        # the two ticking parts repaint without a relayout (TextLine)
        yield TextLine(id="status-timer")
        yield TextLine(id="status-today")
        yield Static(id="status-badge", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "timer_snapshot", self._show_timers)
        self.watch(self.app, "store_badge", self._show_badge)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self._show_timers(self.app.timer_snapshot)  # type: ignore[attr-defined]

    def _show_timers(self, snapshot: TimerSnapshot) -> None:
        now = self.app.clock.now()  # type: ignore[attr-defined]
        running = snapshot.running
        if running:
            first = running[0]
            name = f" {plain(first.ticket_name)}" if first.ticket_name else ""
            more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
            text = f"▶ {first.ticket_number}{name} {format_clock(first.elapsed(now))}{more}"
        elif snapshot.active:
            text = f"❚❚ {len(snapshot.active)} paused"
        else:
            text = "■ no timer running"
        self.query_one("#status-timer", TextLine).set(text)
        self.query_one("#status-today", TextLine).set(
            f"today {format_span(snapshot.today_at(now))}"
        )

    def _show_badge(self, badge: StoreBadge) -> None:
        widget = self.query_one("#status-badge", Static)
        detail = f" · {badge.detail}" if badge.detail else ""
        widget.update(f"{badge.text} ● {badge.state}{detail}")
        widget.set_classes(f"-{badge.state}")
