"""The Timer section: today's and active tickets on top, recent ones below
(paged from the store, never all of them), and the selected ticket's
segments with day totals beside or under them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label
from textual.worker import Worker, WorkerState

from jtt_tui.domain.calendar import day_bounds, local_date, to_local
from jtt_tui.domain.durations import format_clock, format_span
from jtt_tui.domain.timer_lists import session_detail
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.palette import tone
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.ui.widgets.tables import selected_key
from jtt_tui.ui.widgets.text_line import TextLine
from jtt_tui.words import count

if TYPE_CHECKING:  # the models load with the store, after the first frame
    from jtt_tui.domain.models import ManualTask, Segment, Session, WorklogLink
    from jtt_tui.domain.timer import TimerChange
    from jtt_tui.domain.timer_lists import (
        BillMark,
        RecentPage,
        SegmentLine,
        SessionDetail,
        TimerLists,
        TimerRow,
    )

RUNNING = "running"  # SessionStatus is a str enum: plain strings compare equal
DETAIL_DELAY_S = 0.06
COLUMNS = (
    ("ticket", "Ticket"),
    ("name", "Name"),
    ("project", "Project"),
    ("status", "Status"),
    ("today", "Today"),
    ("total", "Total"),
)


@dataclass(frozen=True)
class _ChangedElsewhere:
    """An action found its ticket changed since the row was drawn."""

    ticket: str
    status: str


class SegmentTable(DataTable[Text]):
    """The selected ticket's segments; e / d edit or delete the highlighted one."""

    BINDINGS = bindings_for("timer.segments")


class TimerScreen(JttScreen):
    SCOPE = "timer"
    BINDINGS = [
        *bindings_for("timer"),
        # Tab follows the screen: today's tickets, their segments, then Recent
        Binding("tab", "cycle_focus(1)", show=False),
        Binding("shift+tab", "cycle_focus(-1)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[str, TimerRow] = {}
        self._data: TimerLists | None = None
        self._filter = ""
        self._selected: TimerRow | None = None
        self._segment_rows: list[int | None] = []  # segment index per detail row
        self._loading_more = False
        self._active_list = "top"  # the list whose selection the detail pane shows
        self._detail_timer: Timer | None = None
        # the running segment in the segment list: (its row, its day total's
        # row, its start, the rest of that day) — ticked once a second
        self._running_segment: tuple[int, int, datetime, timedelta] | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with Horizontal(id="timer-body"):
            with Vertical(id="timer-lists"):
                yield Label("Today and active", classes="section-title")
                yield DataTable(id="top", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="recent-bar"):
                    yield Label("Recent", classes="section-title", id="recent-title")
                    # the filter box is mounted the first time / is pressed
                yield DataTable(id="recent", cursor_type="row", zebra_stripes=True)
            with Vertical(id="timer-detail"):
                yield TextLine("Select a ticket", id="detail-title", classes="section-title")
                # the segment table is mounted right after the first frame
                yield TextLine(id="detail-summary")
        yield KeyBar()

    def on_mount(self) -> None:
        for table_id in ("top", "recent"):
            table = self.query_one(f"#{table_id}", DataTable)
            for key, label in COLUMNS:
                table.add_column(label, key=key)
        self.set_interval(1.0, self._tick)
        self.query_one("#top", DataTable).focus()
        # Start-up is mostly Textual building widgets: what the first frame
        # does not need is built just after it.
        self.call_after_refresh(self._mount_segment_table)

    def _mount_segment_table(self) -> None:
        segments = SegmentTable(id="segments", cursor_type="row")
        self.query_one("#timer-detail").mount(segments, before="#detail-summary")
        for key, label in (
            ("day", "Day"),
            ("start", "Start"),
            ("end", "End"),
            ("length", "Length"),
            ("jira", "Jira"),
            ("bill", "Bill"),
        ):
            segments.add_column(label, key=key)
        self._show_detail(self._current_row())

    def _filter_box(self) -> Input:
        found = self.query("#filter")
        if found:
            return found.first(Input)
        box = Input(placeholder="filter: ticket or name (Enter to apply)", id="filter")
        self.query_one("#recent-bar").mount(box)
        return box

    # -- loading -----------------------------------------------------------------------

    def refresh_data(self) -> None:
        timer, text = self.jtt.services.timer, self._filter
        self.background(lambda: timer.lists(text), self._show, group="timer-load")

    def _load_more(self) -> None:
        """The next page of Recent, once the cursor nears its end."""
        data = self._data
        if data is None or not data.more or self._loading_more:
            return
        self._loading_more = True
        timer, text = self.jtt.services.timer, self._filter
        offset, shown = data.fetched, data.shown_keys()
        self.background(
            lambda: timer.more_recent(offset, shown, text), self._show_more, group="timer-more"
        )

    def _show_more(self, page: RecentPage) -> None:
        self._loading_more = False
        if self._data is None:
            return
        self._data.add_page(page)
        table = self.query_one("#recent", DataTable)
        for row in page.rows:
            self._rows[row.key] = row
            table.add_row(*self._cells(row, self._data), key=row.key)

    def _show(self, data: TimerLists) -> None:
        self._data = data
        self._rows = {row.key: row for row in [*data.top, *data.recent]}
        for table_id, rows in (("top", data.top), ("recent", data.recent)):
            table = self.query_one(f"#{table_id}", DataTable)
            selected, scrolled = selected_key(table), table.scroll_y
            table.clear()
            for row in rows:
                table.add_row(*self._cells(row, data), key=row.key)
            if selected is not None and selected in {r.key for r in rows}:
                table.move_cursor(row=table.get_row_index(selected), scroll=False)
            table.scroll_to(y=scrolled, animate=False)  # a refresh keeps the view still
        self.query_one("#recent-title", Label).update(
            f"Recent — matching {self._filter!r}" if self._filter else "Recent"
        )
        self._show_detail(self._current_row())

    def _cells(self, row: TimerRow, data: TimerLists) -> list[Text]:
        now = self.jtt.clock.now()
        if row.task is not None:
            task = row.task
            return [
                Text(task.ticket_number or "—"),
                Text(plain(task.title, 40)),
                Text(data.projects.key_for(task.ticket_number, task.project_id)),
                _manual_cell(task, self.app),
                Text(format_clock(task.duration), justify="right"),
                Text(format_clock(task.duration), justify="right"),
            ]
        session = row.session
        assert session is not None
        status = str(session.status)
        style = {
            "running": tone(self.app, "good", bold=True),
            "paused": tone(self.app, "warn"),
        }.get(status, "")
        return [
            Text(session.ticket_number, style="bold" if status == "running" else ""),
            Text(plain(session.ticket_name, 40)),
            Text(data.projects.key_for(session.ticket_number, session.project_id)),
            Text(status, style=style),
            Text(format_clock(session.elapsed_between(*data.today, now)), justify="right"),
            Text(format_clock(session.elapsed(now)), justify="right"),
        ]

    def _tick(self) -> None:
        """Once a second: repaint only the time cells of running timers."""
        data = self._data
        if data is None:
            return
        now = self.jtt.clock.now()
        segments = self.query(SegmentTable)
        if self._running_segment is not None and segments:
            seg_row, total_row, start, rest = self._running_segment
            seg_table = segments.first()
            if total_row < seg_table.row_count:
                length = seg_table.get_column_index("length")
                seg_table.update_cell_at(
                    Coordinate(seg_row, length), Text(format_clock(now - start), justify="right")
                )
                seg_table.update_cell_at(
                    Coordinate(total_row, length),
                    Text(format_clock(rest + (now - start)), justify="right", style="bold"),
                )
        for table_id, rows in (("top", data.top), ("recent", data.recent)):
            table = self.query_one(f"#{table_id}", DataTable)
            for row in rows:
                if row.session is not None and row.session.status == RUNNING:
                    session = row.session
                    table.update_cell(
                        row.key,
                        "today",
                        Text(
                            format_clock(session.elapsed_between(*data.today, now)), justify="right"
                        ),
                    )
                    table.update_cell(
                        row.key, "total", Text(format_clock(session.elapsed(now)), justify="right")
                    )

    # -- selection and detail ------------------------------------------------------------

    def _current_row(self) -> TimerRow | None:
        """The highlighted row of the list the user last worked in."""
        table = self.query_one(f"#{self._active_list}", DataTable)
        key = selected_key(table)
        return self._rows.get(key) if key is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if table.id not in ("top", "recent"):
            return
        # a list being reloaded also reports a highlight: only the list the
        # user is in drives the detail pane
        if table.id == self._active_list and event.row_key.value is not None:
            self._show_detail_soon(self._rows.get(event.row_key.value))
        if table.id == "recent" and event.cursor_row >= table.row_count - 5:
            self._load_more()

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        # an empty list leaves the detail pane as it is (never a blank pane)
        if (
            isinstance(focused, DataTable)
            and focused.id in ("top", "recent")
            and focused.id != self._active_list
            and focused.row_count
        ):
            self._active_list = str(focused.id)
            self._show_detail(self._current_row())

    def action_cycle_focus(self, step: int) -> None:
        """Tab / shift+Tab in the order the screen reads: Today and active,
        the selected ticket's segments, the filter (when open), Recent."""
        order = [
            w
            for w in (
                self.query_one("#top", DataTable),
                *self.query(SegmentTable),
                *self.query("#filter"),
                self.query_one("#recent", DataTable),
            )
            if w.display and w.focusable
        ]
        if not order:
            return
        current = self.focused
        index = order.index(current) if current in order else -step
        order[(index + step) % len(order)].focus()

    def _show_detail_soon(self, row: TimerRow | None) -> None:
        """Show ``row`` once the selection rests: holding an arrow key moves
        the cursor at once and draws the detail pane only for the last row."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        key = row.key if row is not None else None
        # by its key: the row as it is then (a refresh may have replaced it)
        self._detail_timer = self.set_timer(
            DETAIL_DELAY_S, lambda: self._show_detail(self._rows.get(key) if key else None)
        )

    def _show_detail(self, row: TimerRow | None) -> None:
        if not self.query("#detail-title"):
            return  # a timer that fired while the screen was closing
        self._selected = row
        tables = self.query(SegmentTable)
        if not tables:
            return  # not mounted yet: it shows the selection once it is
        table = tables.first()
        table.clear()
        self._segment_rows = []
        self._running_segment = None
        if row is None:
            self._show_no_ticket()
        elif row.task is not None:
            self._show_task(row.task)
        else:
            assert row.session is not None
            now = self.jtt.clock.now()
            self._show_session(
                table, session_detail(row.session, self._data, now, self.jtt.tz), now
            )

    def _show_no_ticket(self) -> None:
        empty = self._data is not None and self._data.empty
        self.query_one("#detail-title", TextLine).set(
            "No timers yet" if empty else "Select a ticket"
        )
        self.query_one("#detail-summary", TextLine).set(
            "Press n to start a timer on a Jira ticket, a to add time by hand, or 4 to "
            "import data (Database section)."
            if empty
            else ""
        )

    def _show_task(self, task: ManualTask) -> None:
        self.query_one("#detail-title", TextLine).set(f"Manual entry: {plain(task.title, 60)}")
        self.query_one("#detail-summary", TextLine).set(
            f"{task.date} · {format_span(task.duration)} · "
            f"{'billable' if task.billable else 'not billable'}"
            + (f" · {plain(task.category)}" if task.category else "")
            + _task_jira_line(task)
            + (f"\n{plain(task.description, 200)}" if task.description else "")
        )

    def _show_session(self, table: SegmentTable, detail: SessionDetail, now: datetime) -> None:
        session = detail.session
        name = f" — {plain(session.ticket_name, 50)}" if session.ticket_name else ""
        self.query_one("#detail-title", TextLine).set(f"{session.ticket_number}{name}")
        for day in detail.days:
            first = table.row_count
            for line in day.lines:
                table.add_row(*self._segment_cells(line))
                self._segment_rows.append(line.piece.index)
            running = day.running
            if running is not None and self._running_segment is None:
                start = running.piece.start
                # the rest of the day is fixed: only the running piece grows
                self._running_segment = (
                    first + day.lines.index(running),
                    table.row_count,
                    start,
                    day.total - (now - start),
                )
            table.add_row(
                Text(""),
                Text(""),
                Text("day total", style="dim"),
                Text(format_clock(day.total), justify="right", style="bold"),
                Text(""),
                Text(""),
            )
            self._segment_rows.append(None)
        self.query_one("#detail-summary", TextLine).set(self._session_summary(detail))

    def _segment_cells(self, line: SegmentLine) -> list[Text]:
        piece, tz = line.piece, self.jtt.tz
        if not piece.last:
            end_text, end_style = "24:00", "dim"
        elif piece.segment.end is None:
            end_text, end_style = "running", "bold green"
        else:
            end_text, end_style = f"{to_local(piece.end, tz):%H:%M}", ""
        begin = f"{to_local(piece.start, tz):%H:%M}"
        return [
            Text(str(piece.day)),
            Text(f"⚠{begin}" if line.shared else begin, style="bold yellow" if line.shared else ""),
            Text(end_text, style=end_style),
            Text(format_clock(piece.length), justify="right"),
            jira_cell(piece.segment.worklog, self.app),
            _bill_cell(line.bill),
        ]

    def _session_summary(self, detail: SessionDetail) -> str:
        session, tz = detail.session, self.jtt.tz
        tags = f" · tags: {', '.join(session.tags)}" if session.tags else ""
        notes = f"\n{plain(session.notes, 200)}" if session.notes else ""
        failures = [
            f"{to_local(f.start, tz):%m-%d %H:%M}: {plain(f.error, 120)}"
            for f in detail.failures[:2]
        ]
        jira = ("\nJira: " + "; ".join(failures)) if failures else ""
        bill = f"\n🔒 billed on {', '.join(detail.locked)} (locked)" if detail.locked else ""
        bill += f"\non draft {', '.join(detail.drafts)}" if detail.drafts else ""
        if detail.overlaps:
            bill += "\n⚠ some of today's time is also on another ticket"
        return (
            f"{session.status} · {format_span(detail.elapsed)} in "
            f"{count(len(session.segments), 'segment')}{tags}{notes}{jira}{bill}"
        )

    def _bill(self, segment: Segment) -> BillMark | None:
        return self._data.bill_of(segment) if self._data is not None else None

    def selected_session(self) -> Session | None:
        row = self._current_row()
        return row.session if row is not None else None

    def selected_segment(self) -> tuple[Session, int] | None:
        row = self._selected
        tables = self.query(SegmentTable)
        if row is None or row.session is None or not tables or not tables.first().row_count:
            return None
        table = tables.first()
        if not table.row_count:
            return None
        cursor = table.cursor_row
        if not 0 <= cursor < len(self._segment_rows):
            return None
        index = self._segment_rows[cursor]
        return (row.session, index) if index is not None else None

    # -- actions -------------------------------------------------------------------------

    def _project_keys(self) -> set[str]:
        return set(self._data.projects.by_key) if self._data else set()

    def _need_session(self) -> Session | None:
        row = self._current_row()
        if row is None:
            self.notify("Select a ticket first (arrow keys), or press n for a new timer.")
            return None
        if row.session is None:
            self.notify("That is a manual entry: it has no timer.", severity="warning")
            return None
        return row.session

    def action_new_timer(self) -> None:
        from jtt_tui.ui.modals.timer_forms import NewTimerModal
        from jtt_tui.ui.screens.jira import jira_service

        timer = self.jtt.services.timer

        def started(change: TimerChange | None) -> None:
            if change is not None:
                self.changed(f"Started {change.session.ticket_number}" + _notes(change.notes))

        modal = NewTimerModal(self._project_keys(), search=jira_service(self.jtt).search)
        # the start is checked by the store before the dialog closes: a refusal
        # (an unknown project, time on another ticket) shows in it
        self.app.push_screen(modal.saving(lambda values: timer.start(**values)), started)

    def _mark(self, ticket: str, doing: str) -> None:
        """Show at once that a change is on its way (the write runs off the UI
        thread and may wait on the network); the reload replaces the mark."""
        key = f"s:{ticket}"
        for table_id in ("top", "recent"):
            table = self.query_one(f"#{table_id}", DataTable)
            if key in table.rows:
                table.update_cell(key, "status", Text(f"{doing}…", style="italic"))

    def _timer_action(
        self, session: Session, doing: str, work: Callable[[], object], done: str
    ) -> None:
        self._after_forgotten_check(
            [session.ticket_number], lambda: self._on_stored(session, doing, work, done)
        )

    def _on_stored(
        self, session: Session, doing: str, work: Callable[[], object], done: str
    ) -> None:
        """Act on the stored record, never on the row drawn before: when the
        ticket changed elsewhere since (another jtt, another machine), say so
        once and show it as it is, instead of acting."""
        timer, ticket, seen = self.jtt.services.timer, session.ticket_number, str(session.status)

        def run() -> object:
            stored = timer.store.get_session(ticket)
            status = str(stored.status) if stored is not None else "deleted"
            return _ChangedElsewhere(ticket, status) if status != seen else work()

        def then(result: object) -> None:
            if isinstance(result, _ChangedElsewhere):
                self.notify(
                    f"{result.ticket} was {result.status} elsewhere: the list is up to date now.",
                    timeout=5,
                )
                self.jtt.data_changed()
            else:
                self.changed(done)

        self._mark(ticket, doing)
        self.background(run, then, group=f"timer-write-{ticket}", exclusive=False)

    def _after_forgotten_check(self, tickets: list[str], act: Callable[[], None]) -> None:
        """Ending a timer that looks left running asks first (keep it all,
        or when it really stopped): never 14 hours counted silently."""
        timer, keeper = self.jtt.services.timer, self.jtt.timekeeping
        rows = [self._rows.get(f"s:{t}") for t in tickets]
        for row in rows:
            session = row.session if row is not None else None
            if session is not None and keeper is not None and timer.looks_forgotten(session):
                keeper.ask_about(session.ticket_number, act)
                return
        act()

    def action_toggle_timer(self) -> None:
        session = self._need_session()
        if session is None:
            return
        timer = self.jtt.services.timer
        ticket = session.ticket_number
        if session.status == RUNNING:
            self._timer_action(session, "pausing", lambda: timer.pause(ticket), f"Paused {ticket}")
            return
        self._after_forgotten_check(
            self._running_tickets(),
            lambda: self._on_stored(
                session, "starting", lambda: timer.start(ticket), f"Started {ticket}"
            ),
        )

    def _running_tickets(self) -> list[str]:
        """Tickets running now (a start pauses them)."""
        return [
            row.session.ticket_number
            for row in self._rows.values()
            if row.session is not None and row.session.status == RUNNING
        ]

    def action_resume_timer(self) -> None:
        session = self.selected_session()
        timer = self.jtt.services.timer
        if session is not None:
            ticket = session.ticket_number
            self._on_stored(session, "resuming", lambda: timer.resume(ticket), f"Resumed {ticket}")
            return
        self.background(
            lambda: timer.resume(None),
            lambda change: self.changed(f"Resumed {change.session.ticket_number}"),
            group="timer-write",
            exclusive=False,
        )

    def action_stop_timer(self) -> None:
        session = self._need_session()
        if session is not None:
            timer, ticket = self.jtt.services.timer, session.ticket_number
            self._timer_action(session, "stopping", lambda: timer.stop(ticket), f"Stopped {ticket}")

    def action_complete_timer(self) -> None:
        session = self._need_session()
        if session is not None:
            timer, ticket = self.jtt.services.timer, session.ticket_number
            self._timer_action(
                session, "completing", lambda: timer.complete(ticket), f"Completed {ticket}"
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # (JttScreen's handler reports the failure: Textual calls each class's
        # handler, so calling it here as well would show every error twice)
        if event.state == WorkerState.ERROR and event.worker.group.startswith("timer-write"):
            self.refresh_data()  # the write failed: drop the "pausing…" mark

    def action_edit_session(self) -> None:
        from jtt_tui.ui.modals.timer_forms import EditSessionModal

        session = self._need_session()
        if session is None or self._data is None:
            return
        project = self._data.projects.for_ticket(session.ticket_number, session.project_id)
        explicit = project.key if project and session.project_id else ""
        timer, ticket = self.jtt.services.timer, session.ticket_number

        def save(changes: dict[str, object]) -> list[str]:
            said: list[str] = []
            timer.edit(ticket, **changes, said=said)  # type: ignore[arg-type]
            return said

        def saved(said: list[str] | None) -> None:
            if said is not None:
                self.changed(f"Saved {ticket}" + _notes(said))

        modal = EditSessionModal(
            session, explicit, tz=self.jtt.tz, project_keys=self._project_keys()
        )
        self.app.push_screen(modal.saving(save), saved)

    def action_delete_entry(self) -> None:
        from jtt_tui.ui.modals.confirm import ConfirmModal

        row = self._current_row()
        if row is None:
            return
        timer = self.jtt.services.timer
        if row.task is not None:
            task = row.task
            mark = self._data.invoices.get(task.invoice_id or "") if self._data else None
            if mark is not None and mark.locked:
                self.notify(
                    f"That entry is billed on {mark.number} ({mark.status}): it cannot be "
                    "deleted. Cancel the invoice first (Billing, x) to free its time.",
                    severity="error",
                    timeout=8,
                )
                return
            question = (
                f"Delete the manual entry {plain(task.title, 40)!r} ({format_span(task.duration)})?"
            )
            if mark is not None:
                question += f" It is on draft {mark.number}, which will need a refresh."

            def delete_task(yes: bool | None) -> None:
                if yes:
                    self._ask_jira_delete_task(task)

            self.app.push_screen(ConfirmModal(question), delete_task)
            return
        session = row.session
        assert session is not None
        if self._refuse_locked(session, session.segments, "deleted"):
            return
        now = self.jtt.clock.now()
        question = (
            f"Delete {session.ticket_number} and all its tracked time "
            f"({format_span(session.elapsed(now))} in {len(session.segments)} segments)?"
            + self._draft_note(session.segments)
        )

        def delete_session(yes: bool | None) -> None:
            if yes:
                self._ask_jira_delete(
                    session,
                    [seg.start for seg in session.segments],
                    lambda: timer.delete(session.ticket_number),
                    f"Deleted {session.ticket_number}",
                )

        self.app.push_screen(ConfirmModal(question, danger=True), delete_session)

    def _ask_jira_delete(
        self,
        session: Session,
        starts: list[datetime],
        delete_here: Callable[[], object],
        done: str,
    ) -> None:
        """Delete here; when the time was pushed, first offer to delete its
        worklogs in Jira too (deleted there first, so a failure changes nothing)."""
        from jtt_tui.services.jira_links import pushed_links
        from jtt_tui.ui.modals.confirm import ConfirmModal
        from jtt_tui.ui.screens.jira import jira_service

        worklogs = pushed_links(session, starts)
        if not worklogs:
            self.background(delete_here, lambda _: self.changed(done))
            return
        service = jira_service(self.jtt)

        def answer(also_jira: bool | None) -> None:
            if also_jira is None:
                return

            def run() -> object:
                if also_jira:
                    service.delete_worklogs(session, starts)
                return delete_here()

            suffix = f" (and {count(worklogs, 'worklog')} in Jira)" if also_jira else ""
            self.background(run, lambda _: self.changed(done + suffix))

        self.app.push_screen(
            ConfirmModal(
                f"This time is in Jira as {count(worklogs, 'worklog')}. Delete them in Jira too? "
                "(n keeps them there and deletes the time here; Esc deletes nothing)",
                yes="Delete in Jira too",
                cancel=True,
            ),
            answer,
        )

    def _ask_jira_delete_task(self, task: ManualTask) -> None:
        """Delete a manual entry; when it is in Jira, first offer to delete
        its worklog there too (deleted there first: a failure changes nothing)."""
        from jtt_tui.ui.modals.confirm import ConfirmModal
        from jtt_tui.ui.screens.jira import jira_service

        timer = self.jtt.services.timer
        link = task.worklog
        if link is None or link.worklog_id is None:
            self.background(
                lambda: timer.delete_manual_entry(task.task_id),
                lambda _: self.changed("Manual entry deleted"),
            )
            return
        service = jira_service(self.jtt)

        def answer(also_jira: bool | None) -> None:
            if also_jira is None:
                return

            def run() -> object:
                if also_jira:
                    service.delete_task_worklog(task)
                return timer.delete_manual_entry(task.task_id)

            suffix = " (and its worklog in Jira)" if also_jira else ""
            self.background(run, lambda _: self.changed("Manual entry deleted" + suffix))

        self.app.push_screen(
            ConfirmModal(
                f"This entry is in Jira as worklog {link.worklog_id} on {link.issue}. Delete it "
                "in Jira too? (n keeps it there and deletes the entry here; Esc deletes nothing)",
                yes="Delete in Jira too",
                cancel=True,
            ),
            answer,
        )

    def action_add_manual(self) -> None:
        from jtt_tui.ui.modals.timer_forms import ManualEntryModal

        session = self.selected_session()
        today = local_date(self.jtt.clock.now(), self.jtt.tz)
        timer = self.jtt.services.timer

        def added(task: ManualTask | None) -> None:
            if task is not None:
                self.changed(f"Added {format_span(task.duration)} on {task.date}")

        modal = ManualEntryModal(today, session.ticket_number if session else "")
        self.app.push_screen(modal.saving(lambda values: timer.add_manual_entry(**values)), added)

    def action_filter(self) -> None:
        box = self._filter_box()
        box.remove_class("hidden")
        box.value = self._filter
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._filter = event.value.strip()
            if not self._filter:
                event.input.add_class("hidden")
            self.query_one("#recent" if self._filter else "#top", DataTable).focus()
            self.refresh_data()

    def key_escape(self) -> None:
        found = self.query("#filter")
        if not found:
            return
        box = found.first(Input)
        if box.has_focus or self._filter:
            self._filter = ""
            box.value = ""
            box.add_class("hidden")
            self.query_one("#top", DataTable).focus()
            self.refresh_data()

    def action_edit_segment(self) -> None:
        from jtt_tui.ui.modals.timer_forms import SegmentModal

        picked = self.selected_segment()
        if picked is None:
            self.notify("Highlight a segment (not a day total) to edit it.")
            return
        session, index = picked
        segment = session.segments[index]
        if self._refuse_locked(session, [segment], "edited"):
            return

        pushed = segment.worklog is not None and segment.worklog.worklog_id is not None
        timer, ticket = self.jtt.services.timer, session.ticket_number

        def save(times: tuple[datetime, datetime | None]) -> list[str]:
            start, end = times
            said: list[str] = []
            timer.edit_segment(ticket, index, start=start, end=end, said=said)
            return said

        def saved(said: list[str] | None) -> None:
            if said is None:
                return
            if not pushed:
                self.changed("Segment saved" + _notes(said))
                return
            # the store has it; Jira follows in the background (it may be slow or away)
            self.changed()
            self.background(
                lambda: "Segment saved; " + self._update_in_jira(ticket) + _notes(said),
                self.changed,
            )

        modal = SegmentModal(
            segment.start, segment.end, tz=self.jtt.tz, note=self._draft_note([segment]).strip()
        )
        # the new times are checked against the rest of the day before the
        # dialog closes: an overlap shows under the field, the input stays
        self.app.push_screen(modal.saving(save), saved)

    def action_delete_segment(self) -> None:
        from jtt_tui.ui.modals.confirm import ConfirmModal

        picked = self.selected_segment()
        if picked is None:
            self.notify("Highlight a segment (not a day total) to delete it.")
            return
        session, index = picked
        segment = session.segments[index]
        if segment.end is None:
            self.notify(
                "Stop or pause the timer before deleting its running segment.", severity="warning"
            )
            return
        if self._refuse_locked(session, [segment], "deleted"):
            return
        question = (
            f"Delete the segment {to_local(segment.start, self.jtt.tz):%Y-%m-%d %H:%M}–"
            f"{to_local(segment.end, self.jtt.tz):%H:%M} of {session.ticket_number}?"
            + self._draft_note([segment])
        )

        def delete(yes: bool | None) -> None:
            if yes:
                timer = self.jtt.services.timer
                self._ask_jira_delete(
                    session,
                    [segment.start],
                    lambda: timer.delete_segment(session.ticket_number, index),
                    "Segment deleted",
                )

        self.app.push_screen(ConfirmModal(question, danger=True), delete)

    def _refuse_locked(self, session: Session, segments: list[Segment], verb: str) -> bool:
        """Time on a sent or paid invoice: say so (naming it) instead of asking."""
        locked = [m for m in (self._bill(s) for s in segments) if m is not None and m.locked]
        if not locked:
            return False
        mark = locked[0]
        self.notify(
            f"{session.ticket_number}: time billed on {mark.number} ({mark.status}) cannot be "
            f"{verb}. Cancel the invoice first (Billing, x) to free its time.",
            severity="error",
            timeout=8,
        )
        return True

    def _draft_note(self, segments: list[Segment]) -> str:
        drafts = sorted({m.number for m in (self._bill(s) for s in segments) if m is not None})
        if not drafts:
            return ""
        return f" It is on draft {', '.join(drafts)}, which will need a refresh (Billing, u)."

    def action_add_segment(self) -> None:
        from jtt_tui.ui.modals.timer_forms import AddSegmentModal, NewSegment

        session = self.selected_session()
        timer = self.jtt.services.timer

        def add(new: NewSegment) -> tuple[NewSegment, list[str]]:
            change = timer.add(new.ticket, new.start, new.end)
            return new, list(getattr(change, "notes", []))

        def added(outcome: tuple[NewSegment, list[str]] | None) -> None:
            if outcome is not None:
                new, notes = outcome
                self.changed(
                    f"Added {format_span(new.end - new.start)} to {new.ticket}" + _notes(notes)
                )

        modal = AddSegmentModal(session.ticket_number if session else "", tz=self.jtt.tz)
        self.app.push_screen(modal.saving(add), added)

    # -- Jira ------------------------------------------------------------------------------

    def _update_in_jira(self, ticket: str) -> str:
        """After editing pushed time (in a worker): send the change to Jira
        now; when it cannot be, it stays queued and says so."""
        from jtt_tui.jira.client import JiraError
        from jtt_tui.ui.screens.jira import jira_service

        service = jira_service(self.jtt)
        if not service.configured:
            return "its worklog is updated by the next push to Jira"
        try:
            report = service.push(ticket=ticket, only_linked=True)
        except JiraError as exc:
            self.jtt.jira_queued = True
            return f"Jira not updated yet ({exc}): push again later"
        return self.jtt.note_push(report)

    def action_push_to_jira(self) -> None:
        from jtt_tui.ui.modals.jira import PushScopeModal
        from jtt_tui.ui.screens.jira import jira_service

        service = jira_service(self.jtt)
        if not service.configured:
            self.notify("Set up Jira first: press 5 (Jira), fill in the form, ^s.")
            return
        session = self.selected_session()
        ticket = session.ticket_number if session is not None else None

        def chosen(scope: str | None) -> None:
            if scope is None:
                return

            if scope == "ticket" and ticket:
                work = lambda: service.push(ticket=ticket)  # noqa: E731
            elif scope == "today":
                start, end = day_bounds(local_date(self.jtt.clock.now(), self.jtt.tz), self.jtt.tz)
                work = lambda: service.push(start=start, end=end)  # noqa: E731
            else:
                work = service.push
            self.notify("Pushing to Jira …", timeout=2)

            self.background(
                work, lambda report: self.changed(self.jtt.note_push(report)), group="jira-push"
            )

        self.app.push_screen(PushScopeModal(ticket), chosen)


def _notes(notes: list[str]) -> str:
    """What else a change did, for its toast."""
    return f" ({'; '.join(notes)})" if notes else ""


def _bill_cell(mark: BillMark | None) -> Text:
    """🔒 for time on a sent or paid invoice (locked), "draft" on a draft;
    the numbers are in the summary below the list."""
    if mark is None:
        return Text("")
    return Text("🔒") if mark.locked else Text("draft", style="dim")


def _task_jira_line(task: ManualTask) -> str:
    """Where a manual entry's time is in Jira, in words."""
    link = task.worklog
    if not task.ticket_number:
        return " · no ticket: not sent to Jira"
    if link is None:
        return f" · {task.ticket_number}: not in Jira yet (the next push sends it)"
    states = {
        "pushed": f"in Jira as worklog {link.worklog_id} on {link.issue}",
        "pending": "queued for Jira",
        "failed": f"Jira refused it: {plain(link.error, 80)}",
        "local": "kept in jtt only (deleted in Jira)",
    }
    return f" · {states.get(str(link.state), str(link.state))}"


def _manual_cell(task: ManualTask, app: App[object]) -> Text:
    """A manual entry's status column: "manual", and its push status."""
    cell = Text("manual", style="italic")
    if task.worklog is not None:
        cell += Text(" ") + jira_cell(task.worklog, app)
    return cell


def jira_cell(link: WorklogLink | None, app: App[object]) -> Text:
    """Push status of a segment or manual entry: ✓ in Jira, … queued, ✗
    refused (reason below), kept local. Editing pushed time sends the change
    at once (queued if Jira is away), so a ✓ is never stale for long."""
    if link is None:
        return Text("")
    if link.state == "pushed":
        return Text("✓", style=tone(app, "good"))
    if link.state == "pending":
        return Text("… queued", style=tone(app, "warn"))
    if link.state == "local":
        return Text("kept local", style=tone(app, "muted"))
    return Text("✗ failed", style=tone(app, "bad", bold=True))
