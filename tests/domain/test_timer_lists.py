"""The Timer section's data, without a store or a screen: which rows go on
top, what a page of Recent adds, and what the detail pane states."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from jtt_tui.domain.models import (
    Invoice,
    ManualTask,
    Segment,
    Session,
    SessionStatus,
    WorklogLink,
)
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.domain.timer_lists import (
    BillMark,
    TimerLists,
    bill_marks,
    recent_page,
    session_detail,
    session_row,
    top_rows,
)

NOW = datetime(2025, 3, 12, 14, 30, tzinfo=UTC)
TODAY = (datetime(2025, 3, 12, tzinfo=UTC), datetime(2025, 3, 13, tzinfo=UTC))


def _session(ticket: str, *segments: Segment, name: str = "", status=SessionStatus.STOPPED):
    return Session(ticket_number=ticket, ticket_name=name, status=status, segments=list(segments))


def _closed(hour: int, minutes: int, **fields) -> Segment:
    start = NOW.replace(hour=hour, minute=0)
    return Segment(start=start, end=start + timedelta(minutes=minutes), **fields)


def _lists(**fields) -> TimerLists:
    empty: dict = {"top": [], "recent": [], "more": False}
    return TimerLists(NOW, projects=ProjectIndex([]), today=TODAY, **{**empty, **fields})


def _keys(rows) -> list[str]:
    return [row.key for row in rows]


def test_top_lists_each_ticket_once_then_todays_manual_entries():
    running = _session("WEB-1", Segment(start=NOW), status=SessionStatus.RUNNING)
    paused = _session("WEB-2", _closed(8, 30), status=SessionStatus.PAUSED)
    call = ManualTask(title="Client call", date=NOW.date(), duration=timedelta(minutes=30))
    # active sessions first, then today's: a ticket in both is listed once
    rows = top_rows([running, paused, paused, running], [call])
    assert _keys(rows) == ["s:WEB-1", "s:WEB-2", f"m:{call.task_id}"]
    assert rows[2].task == call and rows[2].session is None


def test_the_filter_matches_ticket_or_name_and_manual_titles_in_any_case():
    login = _session("WEB-1", _closed(9, 10), name="Login page")
    api = _session("API-7", _closed(10, 10), name="Rate limits")
    call = ManualTask(title="LOGIN review", date=NOW.date(), duration=timedelta(minutes=5))
    other = ManualTask(
        title="Call", ticket_number="OPS-1", date=NOW.date(), duration=timedelta(minutes=5)
    )
    assert _keys(top_rows([login, api], [call, other], "login")) == [
        "s:WEB-1",
        f"m:{call.task_id}",
    ]
    assert _keys(top_rows([login, api], [call, other], "ops-")) == [f"m:{other.task_id}"]
    assert _keys(top_rows([login, api], [call, other], "api")) == ["s:API-7"]


def test_a_page_leaves_out_what_is_shown_but_counts_it_for_the_next_offset():
    sessions = [_session(f"OPS-{i}", _closed(9, 10)) for i in range(1, 5)]
    page = recent_page(sessions, {"s:OPS-2"}, page_size=4)
    assert _keys(page.rows) == ["s:OPS-1", "s:OPS-3", "s:OPS-4"]
    assert page.fetched == 4  # the store gave four: the next page starts after them
    assert page.more  # a full page: there may be more
    last = recent_page(sessions[:3], set(), page_size=4)
    assert not last.more


def test_paging_walks_the_store_by_what_it_gave_not_by_what_is_shown():
    # the first page holds two tickets shown on top; one ticket on top (a
    # timer paused long ago) is not on it: counting rows on top would skip one
    lists = _lists(top=[session_row(_session(t, _closed(9, 1))) for t in ("AA-1", "BB-1", "ZZ-1")])
    first = recent_page(
        [_session(t, _closed(9, 1)) for t in ("AA-1", "BB-1", "CC-1", "DD-1")],
        lists.shown_keys(),
        page_size=4,
    )
    lists.recent, lists.fetched, lists.more = first.rows, first.fetched, first.more
    assert (lists.fetched, _keys(lists.recent)) == (4, ["s:CC-1", "s:DD-1"])
    lists.add_page(recent_page([_session("EE-1", _closed(9, 1))], lists.shown_keys(), page_size=4))
    assert lists.fetched == 5
    assert _keys(lists.recent) == ["s:CC-1", "s:DD-1", "s:EE-1"]
    assert not lists.more


def test_bill_marks_leave_out_cancelled_invoices():
    def invoice(number: str, status: str) -> Invoice:
        return Invoice(invoice_number=number, issue_date=date(2025, 3, 1), status=status)

    sent, draft, cancelled = (
        invoice("INV-1", "sent"),
        invoice("INV-2", "draft"),
        invoice("INV-3", "cancelled"),
    )
    marks = bill_marks([sent, draft, cancelled])
    assert marks == {
        sent.invoice_id: BillMark("INV-1", "sent"),
        draft.invoice_id: BillMark("INV-2", "draft"),
    }
    assert marks[sent.invoice_id].locked and not marks[draft.invoice_id].locked


def _link(state: str, error: str = "") -> WorklogLink:
    return WorklogLink(
        push_id="0123456789abcdef",
        state=state,
        issue="WEB-1",
        started=NOW,
        seconds=60,
        error=error,
    )


def test_the_detail_states_days_bills_overlaps_and_jira_failures():
    yesterday_late = Segment(
        start=NOW.replace(day=11, hour=23, minute=0),
        end=NOW.replace(day=12, hour=1, minute=0),
        worklog=_link("failed", "Issue is closed"),
        invoice_id="inv-sent",
    )
    morning = _closed(9, 60, invoice_id="inv-draft", worklog=_link("pushed", "old error"))
    running = Segment(start=NOW.replace(hour=14, minute=0), worklog=_link("pending", "timed out"))
    session = _session("WEB-1", yesterday_late, morning, running, status=SessionStatus.RUNNING)
    lists = _lists(
        invoices={"inv-sent": BillMark("INV-9", "paid"), "inv-draft": BillMark("INV-10", "draft")},
        overlapping={("WEB-1", morning.start), ("API-7", morning.start)},
    )
    detail = session_detail(session, lists, NOW, UTC)

    assert [(d.day, d.total) for d in detail.days] == [
        (date(2025, 3, 12), timedelta(hours=2, minutes=30)),  # 1:00 + 1:00 + 0:30
        (date(2025, 3, 11), timedelta(hours=1)),
    ]
    today = detail.days[0]
    assert [(line.piece.index, line.shared) for line in today.lines] == [
        (0, False),
        (1, True),
        (2, False),
    ]
    assert today.running is today.lines[2]
    assert today.lines[0].bill == BillMark("INV-9", "paid")
    assert (detail.locked, detail.drafts, detail.overlaps) == (["INV-9"], ["INV-10"], True)
    # once per segment (its last day), never for pushed time
    assert [(f.start, f.error) for f in detail.failures] == [
        (yesterday_late.start, "Issue is closed"),
        (running.start, "timed out"),
    ]
    assert detail.elapsed == timedelta(hours=3, minutes=30)


def test_the_detail_before_the_lists_load_has_no_bills_or_marks():
    session = _session("WEB-1", _closed(9, 30, invoice_id="inv-1"))
    detail = session_detail(session, None, NOW, UTC)
    assert detail.days[0].lines[0].bill is None
    assert (detail.locked, detail.drafts, detail.overlaps) == ([], [], False)


def test_another_tickets_overlap_is_not_this_tickets():
    session = _session("WEB-1", _closed(9, 30))
    lists = _lists(overlapping={("API-7", NOW.replace(hour=9, minute=0))})
    assert not session_detail(session, lists, NOW, UTC).overlaps
