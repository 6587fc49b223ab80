"""Time reports in the app (from Billing, key r): hours, billable hours and
amounts per day, week, project or ticket, with a bar chart of hours drawn
from block characters — the same aggregation as `jtt report`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine

if TYPE_CHECKING:
    from jtt_tui.services.reports import GroupBy, TimeReport

GROUPS: tuple[GroupBy, ...] = ("week", "day", "project", "ticket")
SPANS = {"day": 14, "week": 12 * 7, "project": 12 * 7, "ticket": 12 * 7}  # days shown
EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: Decimal, largest: Decimal, width: int) -> str:
    """A horizontal bar of ``width`` cells for ``value`` out of ``largest``,
    to an eighth of a cell."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = int(value / largest * width * 8)
    full, rest = divmod(max(eighths, 1), 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


def chart_lines(report: TimeReport, width: int = 40) -> list[str]:
    """One line per row: label, bar, hours."""
    largest = max((row.hours for row in report.rows), default=Decimal(0))
    label_width = max((len(row.label) for row in report.rows), default=0)
    lines = []
    for row in report.rows:
        drawn = bar(row.hours, largest, width)
        lines.append(f"{row.label:<{label_width}}  {drawn:<{width}}  {row.hours:>7.2f} h")
    return lines


class ReportsScreen(JttScreen):
    SCOPE = "reports"
    BINDINGS = bindings_for("reports")

    def __init__(self) -> None:
        super().__init__()
        self.by: GroupBy = "week"
        self.last: date | None = None
        self.report: TimeReport | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with VerticalScroll(id="reports-body"):
            yield Static("Loading…", id="reports-title", markup=False)
            yield Static("", id="reports-chart", markup=False)
            yield DataTable(id="reports-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="label")
        table.add_column(Text("hours", justify="right"), key="hours")
        table.add_column(Text("billable", justify="right"), key="billable")
        table.add_column(Text("amount", justify="right"), key="amount")
        self.load()

    # -- actions ------------------------------------------------------------------------

    def action_group(self) -> None:
        self.by = GROUPS[(GROUPS.index(self.by) + 1) % len(GROUPS)]
        self.load()

    def action_earlier(self) -> None:
        self.last = self._range()[0] - timedelta(days=1)
        self.load()

    def action_later(self) -> None:
        last = self._range()[1] + timedelta(days=SPANS[self.by])
        today = self.jtt.services.billing.today()
        self.last = None if last >= today else last
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)

    # -- data -----------------------------------------------------------------------------

    def _range(self) -> tuple[date, date]:
        last = self.last or self.jtt.services.billing.today()
        first = last - timedelta(days=SPANS[self.by] - 1)
        if self.by == "week":  # whole weeks, Monday to Sunday
            first -= timedelta(days=first.weekday())
        return first, last

    def load(self) -> None:
        from jtt_tui.services.reports import time_report

        first, last = self._range()
        storage, tz, by = self.jtt.services.storage, self.jtt.tz, self.by
        self.query_one("#reports-title", Static).update(f"{first} to {last}, by {by} …")

        def run() -> tuple[TimeReport, str]:
            report = time_report(storage, first, last, by=by, tz=tz)
            return report, storage.get_billing_settings().number_format

        self.background(run, self._show, group="reports")

    def refresh_data(self) -> None:
        self.load()  # the data changed (or the screen came back): the same period again

    def _show(self, loaded: tuple[TimeReport, str]) -> None:
        from jtt_tui.domain.money import format_money

        report, style = loaded
        self.report = report

        def amounts(values: dict[str, Decimal]) -> str:
            return " + ".join(format_money(a, c, style) for c, a in sorted(values.items())) or "-"

        total = report.total
        self.query_one("#reports-title", Static).update(
            f"{report.first} to {report.last}, by {report.by}: {total.hours} h, "
            f"{total.billable_hours} h billable, {amounts(total.amounts)}"
        )
        width = max(10, min(50, self.size.width - 40))
        lines = chart_lines(report, width)
        self.query_one("#reports-chart", Static).update(
            "\n".join(lines) if lines else "Nothing tracked in this period."
        )
        table = self.query_one(DataTable)
        table.clear()
        for row in report.rows:
            table.add_row(
                row.label,
                Text(f"{row.hours:.2f}", justify="right"),
                Text(f"{row.billable_hours:.2f}", justify="right"),
                Text(amounts(row.amounts), justify="right"),
            )
        table.add_row(
            Text("total", style="bold"),
            Text(f"{total.hours:.2f}", justify="right", style="bold"),
            Text(f"{total.billable_hours:.2f}", justify="right", style="bold"),
            Text(amounts(total.amounts), justify="right", style="bold"),
        )
