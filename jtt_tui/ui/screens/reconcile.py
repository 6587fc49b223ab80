"""Reconcile in the app (from Jira, key c): the user's worklogs in Jira for
14 days against what jtt pushed — changed in Jira, deleted in Jira, logged
outside jtt — with an action for each, and per day Jira's total against
jtt's. The same service as `jtt jira reconcile`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from jtt_tui.domain.durations import format_minutes
from jtt_tui.services.reconcile import DEFAULT_DAYS, Entry, Reconciler, Reconciliation
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.palette import tone
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.ui.widgets.tables import selected_key
from jtt_tui.words import count

if TYPE_CHECKING:
    from jtt_tui.services.jira_plan import PushReport

LABELS = {"changed": "changed", "deleted": "deleted", "jira_only": "Jira only", "same": "same"}
TONES = {"changed": "warn", "deleted": "bad", "jira_only": "info", "same": "muted"}
# what each action works on, and what to say when the row is something else
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "take_jiras": (("changed",), "t takes Jira's time for a worklog changed in Jira"),
    "push_mine": (("changed", "deleted"), "m pushes jtt's time again (changed or deleted)"),
    "forget": (("deleted",), "f forgets a worklog deleted in Jira"),
    "import_entry": (("jira_only",), "i imports a worklog logged outside jtt"),
}


class ReconcileScreen(JttScreen):
    SCOPE = "reconcile"
    BINDINGS = bindings_for("reconcile")

    def __init__(self, reconciler: Reconciler, today: date) -> None:
        super().__init__()
        self.reconciler = reconciler
        self.today = today
        self.last = today
        self.result: Reconciliation | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with VerticalScroll(id="reconcile-body"):
            yield Static("Reading Jira …", id="reconcile-title", markup=False)
            yield DataTable(id="reconcile-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="reconcile-days", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="kind")
        table.add_column("ticket", key="issue")
        table.add_column("day", key="day")
        table.add_column("jtt", key="jtt")
        table.add_column("Jira", key="jira")
        table.add_column("worklog", key="worklog")
        table.focus()
        self.refresh_data()

    @property
    def first(self) -> date:
        return self.last - timedelta(days=DEFAULT_DAYS - 1)

    # -- reading ----------------------------------------------------------------------------

    def refresh_data(self) -> None:
        first, last = self.first, self.last
        self.query_one("#reconcile-title", Static).update(
            f"Reading your worklogs in Jira, {first} to {last} …"
        )

        def run() -> Reconciliation | str:
            from jtt_tui.jira.client import JiraError

            try:
                return self.reconciler.run(first, last)
            except JiraError as exc:
                return str(exc)

        self.background(run, self._show, group="reconcile")

    def _show(self, result: Reconciliation | str) -> None:
        table = self.query_one(DataTable)
        if isinstance(result, str):  # Jira could not be read: no rows to act on
            self.result = None
            table.clear()
            self.query_one("#reconcile-title", Static).update(
                f"Could not read Jira: {result}. ^r tries again."
            )
            self.query_one("#reconcile-days", Static).update("")
            return
        self.result = result
        selected, row = self._selected_key(), table.cursor_row
        table.clear()
        tz = self.jtt.tz
        for entry in result.differences:
            day = f"{entry.started.astimezone(tz):%m-%d}"
            jtt = entry.jtt
            table.add_row(
                Text(LABELS[entry.kind], style=tone(self.app, TONES[entry.kind])),  # type: ignore[arg-type]
                entry.issue,
                day,
                _side(jtt.link.started, jtt.link.seconds, tz, day) if jtt else "—",
                _jira_side(entry, tz, day),
                entry.worklog_id,
                key=entry.worklog_id,
            )
        keys = [e.worklog_id for e in result.differences]
        if selected in keys:  # the same worklog; or, when it was settled, the row in its place
            table.move_cursor(row=keys.index(selected), scroll=False)
        elif keys:
            table.move_cursor(row=min(row, len(keys) - 1), scroll=False)
        counts = (
            f"{len(result.of('same'))} in sync · {len(result.of('changed'))} changed in Jira · "
            f"{len(result.of('deleted'))} deleted in Jira · {len(result.of('jira_only'))} "
            "only in Jira"
        )
        if result.in_sync:
            state = "Jira and jtt agree."
        elif not result.differences:
            differing = sum(1 for d in result.days if d.differs)
            state = f"every worklog in Jira is as jtt sent it; {count(differing, 'day')} differ"
            if result.unpushed:
                state += f" ({count(result.unpushed, 'worklog')} not pushed yet)"
        else:
            state = counts
        self.query_one("#reconcile-title", Static).update(
            f"{result.first} to {result.last}: {state} ({count(result.requests, 'request')})"
        )
        self.query_one("#reconcile-days", Static).update(_days_text(result))

    def _selected_key(self) -> str | None:
        return selected_key(self.query_one(DataTable))

    def _selected(self) -> Entry | None:
        key = self._selected_key()
        if self.result is None or key is None:
            return None
        return next((e for e in self.result.entries if e.worklog_id == key), None)

    # -- acting -----------------------------------------------------------------------------

    def _act(self, name: str, said: Callable[[Any], tuple[bool, str]]) -> None:
        """Run an action on the selected worklog; ``said`` turns its result
        into (done, what to tell)."""
        kinds, hint = ACTIONS[name]
        entry = self._selected()
        if entry is None:
            self.notify("Nothing selected: every worklog is in sync.", severity="warning")
            return
        if entry.kind not in kinds:
            what = {
                "changed": "changed in Jira",
                "deleted": "deleted in Jira",
                "jira_only": "logged only in Jira",
            }[entry.kind]
            self.notify(
                f"Worklog {entry.worklog_id} ({entry.issue}) was {what}: {hint}.",
                severity="warning",
            )
            return
        method = getattr(self.reconciler, name)

        def run() -> tuple[bool, str]:
            from jtt_tui.domain.errors import DomainError
            from jtt_tui.jira.client import JiraError

            try:
                return said(method(entry))
            except (DomainError, JiraError) as exc:
                return False, str(exc)

        def then(outcome: tuple[bool, str]) -> None:
            done, text = outcome
            if not done:
                self.notify(text, severity="warning", timeout=8)
            self.changed(text if done else None)  # read Jira again either way

        self.background(run, then, group="reconcile-act")

    def action_take_jiras(self) -> None:
        self._act("take_jiras", lambda text: (True, str(text)))

    def action_push_mine(self) -> None:
        from jtt_tui.services.jira import describe

        def said(report: PushReport) -> tuple[bool, str]:
            ok = not report.count("failed") and report.stopped is None
            if ok and report.sent:
                unit = report.outcomes[0].unit
                return True, f"{unit.label}: jtt's time is in Jira again"
            return ok, describe(report)

        self._act("push_mine", said)

    def action_forget(self) -> None:
        self._act("forget", lambda text: (True, str(text)))

    def action_import_entry(self) -> None:
        self._act(
            "import_entry",
            lambda task: (True, f"Imported as a manual entry: {task.title!r} on {task.date}"),
        )

    def action_earlier(self) -> None:
        self.last = self.first - timedelta(days=1)
        self.refresh_data()

    def action_later(self) -> None:
        if self.last >= self.today:
            self.notify("These are the latest 14 days.", timeout=2)
            return
        self.last = min(self.today, self.last + timedelta(days=DEFAULT_DAYS))
        self.refresh_data()

    def action_close(self) -> None:
        self.dismiss(None)


def _side(started: datetime | None, seconds: int, tz: tzinfo | None, day: str) -> str:
    """``09:00 45m`` (with its day when not the row's): both sides fit on 60 columns."""
    if started is None:
        return f"? {format_minutes(seconds)}"
    local = started.astimezone(tz)
    when = f"{local:%H:%M}" if f"{local:%m-%d}" == day else f"{local:%m-%d %H:%M}"
    return f"{when} {format_minutes(seconds)}"


def _jira_side(entry: Entry, tz: tzinfo | None, day: str) -> str:
    if entry.jira is None:
        return "deleted"
    side = _side(entry.jira.started_at, entry.jira.seconds, tz, day)
    if entry.kind == "jira_only" and entry.jira.text:
        side += f" {plain(entry.jira.text.splitlines()[0], 40)}"
    return side


def _days_text(result: Reconciliation) -> str:
    differing = [d for d in result.days if d.differs]
    lines = []
    if differing:
        lines.append("Days whose totals differ (Jira / jtt):")
        for day in differing:
            jira, jtt = format_minutes(day.jira_seconds), format_minutes(day.jtt_seconds)
            lines.append(f"  {day.day:%a %Y-%m-%d}  {jira:>7} / {jtt}")
    if result.unpushed:
        lines.append(f"{count(result.unpushed, 'worklog')} not pushed yet: p on the Jira screen.")
    if result.refused:
        lines.append(
            f"{count(result.refused, 'worklog')} refused by Jira: the Jira screen says why."
        )
    if result.on_done:
        lines.append(
            f"Time on {', '.join(result.on_done)}, done in Jira, is not sent (Jira takes no "
            "worklogs there): reopen the issue to push it."
        )
    for issue in result.unreadable:
        lines.append(f"{issue}: Jira would not show its worklogs (deleted, or no permission).")
    if not lines and result.in_sync:
        lines.append("Every worklog in Jira is as jtt sent it, and every day adds up.")
    lines.append(
        "t take Jira's · m push mine again · f forget (deleted in Jira) · i import · "
        "[ and ] the 14 days before or after"
    )
    return "\n".join(lines)
