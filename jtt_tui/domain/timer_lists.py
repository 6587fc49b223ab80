"""What the Timer section shows, as plain data: today's and active tickets,
a page of recent ones, and the selected ticket's segments by day.

Pure: the queries are :class:`~jtt_tui.services.timer.TimerService`'s, the
widgets the screen's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from jtt_tui.domain.segment_days import DayPiece, segment_days

if TYPE_CHECKING:  # the models load with the store, after the first frame
    from jtt_tui.domain.models import Invoice, ManualTask, Segment, Session
    from jtt_tui.domain.projects import ProjectIndex

PAGE = 100  # recent tickets fetched at a time
LOCKED = frozenset({"sent", "paid", "overdue"})  # billed time on these cannot change


@dataclass
class TimerRow:
    """One line of a list: a ticket's timer or a manual entry."""

    key: str
    session: Session | None = None
    task: ManualTask | None = None


@dataclass(frozen=True)
class BillMark:
    """The invoice a segment is on, as the segment list shows it."""

    number: str
    status: str

    @property
    def locked(self) -> bool:
        return self.status in LOCKED


@dataclass(frozen=True)
class RecentPage:
    """The next page of recent tickets: the rows not shown yet, how many
    sessions the store gave (shown or not), and whether there are more."""

    rows: list[TimerRow]
    fetched: int
    more: bool


@dataclass
class TimerLists:
    """Both lists of the Timer section and what their cells and marks need."""

    now: datetime
    top: list[TimerRow]
    recent: list[TimerRow]
    projects: ProjectIndex
    more: bool
    today: tuple[datetime, datetime]
    invoices: dict[str, BillMark] = field(default_factory=dict)  # id -> its number, status
    # (ticket, segment start) of today's time shared with another ticket (allowed overlaps)
    overlapping: set[tuple[str, datetime]] = field(default_factory=set)
    fetched: int = 0  # recent sessions read from the store so far: the next page's offset

    @property
    def empty(self) -> bool:
        return not self.top and not self.recent

    def shown_keys(self) -> set[str]:
        return {row.key for row in [*self.top, *self.recent]}

    def add_page(self, page: RecentPage) -> None:
        self.recent.extend(page.rows)
        self.fetched += page.fetched
        self.more = page.more

    def bill_of(self, segment: Segment) -> BillMark | None:
        if segment.invoice_id is None:
            return None
        return self.invoices.get(segment.invoice_id)

    def bills_of(self, session: Session) -> list[BillMark]:
        """The live invoices some of the ticket's time is on, by number."""
        marks = {self.bill_of(segment) for segment in session.segments}
        return sorted((m for m in marks if m is not None), key=lambda m: m.number)


def session_row(session: Session) -> TimerRow:
    return TimerRow(f"s:{session.ticket_number}", session=session)


def task_row(task: ManualTask) -> TimerRow:
    return TimerRow(f"m:{task.task_id}", task=task)


def top_rows(
    sessions: Iterable[Session], tasks: Iterable[ManualTask], text: str = ""
) -> list[TimerRow]:
    """Active and today's tickets (each once, in the order given), then
    today's manual entries; with ``text``, only those that match it."""
    seen: set[str] = set()
    rows: list[TimerRow] = []
    for session in sessions:
        if session.ticket_number not in seen:
            seen.add(session.ticket_number)
            rows.append(session_row(session))
    rows += [task_row(task) for task in tasks]
    return [row for row in rows if matches(row, text)] if text else rows


def recent_page(sessions: list[Session], shown: set[str], *, page_size: int = PAGE) -> RecentPage:
    """One page from the store as list rows, without the tickets ``shown``
    already (keys); a full page means there may be more."""
    rows = [session_row(s) for s in sessions]
    return RecentPage(
        [row for row in rows if row.key not in shown], len(sessions), len(sessions) == page_size
    )


def matches(row: TimerRow, text: str) -> bool:
    """Whether the row's ticket or name (title) contains ``text``, any case."""
    needle = text.casefold()
    if row.session is not None:
        return needle in row.session.ticket_number.casefold() or needle in (
            row.session.ticket_name.casefold()
        )
    assert row.task is not None
    return needle in (row.task.ticket_number or "").casefold() or needle in (
        row.task.title.casefold()
    )


def bill_marks(invoices: Iterable[Invoice]) -> dict[str, BillMark]:
    """Invoice id -> its number and status, for the live (not cancelled) ones."""
    return {
        i.invoice_id: BillMark(i.invoice_number, str(i.status))
        for i in invoices
        if i.status != "cancelled"
    }


# -- the selected ticket ------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentLine:
    """One line of the segment list: a segment's piece of a day."""

    piece: DayPiece
    shared: bool  # the segment shares time with another ticket's (⚠)
    bill: BillMark | None


@dataclass(frozen=True)
class DayLines:
    """A day of the segment list, closed by its total."""

    day: date
    lines: list[SegmentLine]
    total: timedelta

    @property
    def running(self) -> SegmentLine | None:
        found = [line for line in self.lines if line.piece.running]
        return found[-1] if found else None


@dataclass(frozen=True)
class JiraFailure:
    """A segment Jira refused (or could not take yet), and why."""

    start: datetime  # the segment's start
    error: str


@dataclass(frozen=True)
class SessionDetail:
    """The detail pane of a ticket: its days of segments and the facts its
    summary states."""

    session: Session
    elapsed: timedelta
    days: list[DayLines]
    failures: list[JiraFailure]  # in the order of the list
    locked: list[str]  # numbers of the sent/paid invoices its time is on
    drafts: list[str]  # numbers of the draft invoices its time is on
    overlaps: bool  # some of today's time is also on another ticket


def session_detail(
    session: Session, lists: TimerLists | None, now: datetime, tz: tzinfo | None
) -> SessionDetail:
    """The detail pane of ``session`` as of ``now``; ``lists`` (when loaded)
    gives the invoices and today's overlaps."""
    overlapping = lists.overlapping if lists is not None else set()
    ticket = session.ticket_number

    def line(piece: DayPiece) -> SegmentLine:
        bill = lists.bill_of(piece.segment) if lists is not None else None
        return SegmentLine(piece, (ticket, piece.segment.start) in overlapping, bill)

    days = [
        DayLines(day.day, [line(piece) for piece in day.pieces], day.total)
        for day in segment_days(session.segments, now, tz)
    ]
    failures = [
        JiraFailure(line.piece.segment.start, link.error)
        for day in days
        for line in day.lines
        if line.piece.last
        and (link := line.piece.segment.worklog) is not None
        and link.error
        and link.state != "pushed"
    ]
    billed = lists.bills_of(session) if lists is not None else []
    return SessionDetail(
        session=session,
        elapsed=session.elapsed(now),
        days=days,
        failures=failures,
        locked=[m.number for m in billed if m.locked],
        drafts=[m.number for m in billed if not m.locked],
        overlaps=any(ticket == t for t, _ in overlapping),
    )
