"""The header line on every screen: the running timer with its live elapsed
time, today's total, and the storage badge. Its 1 Hz tick repaints only the
labels that show time; it never reads the store.

On a narrow terminal the running timer and its elapsed time always stay:
the store badge is shortened first (``mongodb: host:27017/jtt ●
reconnecting · 1 pending`` → ``mongodb ● reconnecting · 1 pending`` → ``●
reconnecting · 1 pending`` → ``● reconnecting``), then the ticket's name
goes, then today's total."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize

from jtt_tui.domain.durations import format_clock, format_span
from jtt_tui.ui.state import StoreBadge, TimerSnapshot
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.text_line import TextLine

PAD = 2  # each part has one cell of padding on either side
TODAY_WIDTH = 16  # steady, so the line does not jitter as the total grows


def badge_texts(badge: StoreBadge) -> list[str]:
    """The badge from its full form to its shortest; the state's word stays
    unless all is well (then the dot alone)."""
    detail = f" · {badge.detail}" if badge.detail else ""
    kind = badge.text.split(":")[0]
    texts = [
        f"{badge.text} ● {badge.state}{detail}",
        f"{kind} ● {badge.state}{detail}",
        f"● {badge.state}{detail}",
        f"● {badge.state}",
    ]
    if badge.state == "connected":
        texts.append("●")
    return list(dict.fromkeys(texts))  # without repeats, in order


def timer_texts(snapshot: TimerSnapshot, now: object) -> list[str]:
    """The timer part from its full form to its shortest (never without the
    ticket and its elapsed time)."""
    running = snapshot.running
    if running:
        first = running[0]
        clock = format_clock(first.elapsed(now))  # type: ignore[arg-type]
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        short_more = f" +{len(running) - 1}" if len(running) > 1 else ""
        name = f" {plain(first.ticket_name)}" if first.ticket_name else ""
        texts = [
            f"▶ {first.ticket_number}{name} {clock}{more}",
            f"▶ {first.ticket_number} {clock}{more}",
            f"▶ {first.ticket_number} {clock}{short_more}",
        ]
    elif snapshot.active:
        texts = [f"❚❚ {len(snapshot.active)} paused"]
    else:
        texts = ["■ no timer running", "■ idle"]
    return list(dict.fromkeys(texts))


def fit(width: int, timers: list[str], today: str, badges: list[str]) -> tuple[str, str, str]:
    """(timer, today, badge) for ``width`` cells: the badge shortens first,
    then the timer loses its name, then today's total goes."""

    def fits(timer: str, day: str, badge: str) -> bool:
        used = cell_len(timer) + cell_len(badge) + 2 * PAD
        if day:
            used += max(TODAY_WIDTH, cell_len(day) + PAD)
        return used <= width

    candidates = [(timers[0], today, b) for b in badges[:-1]]
    candidates += [(t, today, badges[-1]) for t in timers]
    candidates += [(t, "", badges[-1]) for t in timers]
    for candidate in candidates:
        if fits(*candidate):
            return candidate
    return timers[-1], "", badges[-1]


class StatusLine(Horizontal):
    DEFAULT_CSS = """
    StatusLine { height: 1; dock: top; background: $panel; }
    StatusLine > TextLine { padding: 0 1; }
    StatusLine > #status-timer { width: 1fr; }
    StatusLine > #status-badge.-connected { color: $success; }
    StatusLine > #status-badge.-offline { color: $error; text-style: bold; }
    StatusLine > #status-badge.-reconnecting { color: $warning; }
    StatusLine > #status-badge.-opening, StatusLine > #status-badge.-connecting {
        color: $text-muted;
    }
    """

    def compose(self) -> ComposeResult:
        # the ticking parts repaint without a relayout (TextLine); a part's
        # width changes only when the fit does
        yield TextLine(id="status-timer")
        yield TextLine(id="status-today")
        yield TextLine(id="status-badge")

    def on_mount(self) -> None:
        self.watch(self.app, "timer_snapshot", self._show)
        self.watch(self.app, "store_badge", self._show)
        self.set_interval(1.0, self._show)

    def on_resize(self, _event: Resize) -> None:
        self._show()

    def _show(self, _changed: object = None) -> None:
        snapshot: TimerSnapshot = self.app.timer_snapshot  # type: ignore[attr-defined]
        badge: StoreBadge = self.app.store_badge  # type: ignore[attr-defined]
        now = self.app.clock.now()  # type: ignore[attr-defined]
        today = f"today {format_span(snapshot.today_at(now))}"
        width = self.size.width or self.app.size.width
        timer, today, shown = fit(width, timer_texts(snapshot, now), today, badge_texts(badge))
        self.query_one("#status-timer", TextLine).set(timer)
        self._sized("#status-today", today, minimum=TODAY_WIDTH)
        self._sized("#status-badge", shown)
        self.query_one("#status-badge").set_classes(f"-{badge.state}")

    def _sized(self, selector: str, text: str, minimum: int = 0) -> None:
        """Set a part's text; resize it only when its width must change (the
        today total keeps a steady width so the line does not jitter)."""
        part = self.query_one(selector, TextLine)
        part.set(text)
        width = 0 if not text else max(minimum, cell_len(text) + PAD)
        if part.styles.width is None or part.styles.width.value != width:
            part.styles.width = width
            part.display = bool(text)
