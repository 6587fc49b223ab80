"""TimerService.lists / more_recent on every backend: what the Timer
section shows on top and in Recent, page after page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jtt_tui.domain import ManualTask, Segment, Session, SessionStatus
from jtt_tui.domain.timer_lists import PAGE
from jtt_tui.services.timer import TimerService

S = SessionStatus
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def service(store, clock) -> TimerService:
    return TimerService(store, clock=clock, tz=BERLIN)


def _closed(ticket: str, start: datetime, minutes: int, **fields) -> Session:
    return Session(
        ticket_number=ticket,
        status=fields.pop("status", S.STOPPED),
        segments=[Segment(start=start, end=start + timedelta(minutes=minutes))],
        **fields,
    )


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def _tickets(rows) -> list[str]:
    return [row.session.ticket_number if row.session else f"m:{row.task.title}" for row in rows]


def test_top_holds_active_and_todays_tickets_and_todays_manual_entries(service, store, clock):
    # now: Monday 2025-03-10 10:00 in Berlin
    store.save_session(
        Session(ticket_number="WEB-1", status=S.RUNNING, segments=[Segment(start=_local(10, 9))])
    )
    # worked on until 00:30 last night: today's ticket (Berlin time), though
    # all of it was on Sunday in UTC
    store.save_session(_closed("WEB-2", _local(9, 23), 90))
    store.save_session(_closed("WEB-3", _local(9, 22, 30), 90))  # ended at midnight: yesterday's
    store.save_session(_closed("OPS-1", _local(1, 9), 30, status=S.PAUSED))  # paused long ago
    store.save_manual_task(
        ManualTask(title="Standup", date=date(2025, 3, 10), duration=timedelta(minutes=15))
    )
    store.save_manual_task(
        ManualTask(title="Old call", date=date(2025, 3, 9), duration=timedelta(minutes=20))
    )

    lists = service.lists()

    assert set(_tickets(lists.top)) == {"WEB-1", "OPS-1", "WEB-2", "m:Standup"}
    assert _tickets(lists.top)[-1] == "m:Standup"  # manual entries after the timers
    assert _tickets(lists.recent) == ["WEB-3"]  # never a ticket that is on top
    assert (lists.more, lists.fetched) == (False, 4)
    assert lists.now == clock.now()
    assert lists.today == (_local(10, 0), _local(11, 0))


def test_the_filter_narrows_both_lists(service, store):
    store.save_session(_closed("WEB-1", _local(10, 8), 30, ticket_name="Login page"))
    store.save_session(_closed("API-7", _local(10, 8, 30), 30, ticket_name="Rate limits"))
    store.save_session(_closed("WEB-9", _local(3, 8), 30, ticket_name="Old login bug"))
    store.save_session(_closed("OPS-3", _local(3, 9), 30, ticket_name="Backups"))
    store.save_manual_task(
        ManualTask(title="Login review", date=date(2025, 3, 10), duration=timedelta(minutes=5))
    )

    lists = service.lists("LOGIN")

    assert _tickets(lists.top) == ["WEB-1", "m:Login review"]
    assert _tickets(lists.recent) == ["WEB-9"]


def test_an_empty_store_gives_empty_lists(service):
    lists = service.lists()
    assert lists.empty and not lists.more
    assert (lists.invoices, lists.overlapping) == ({}, set())


def test_todays_overlaps_are_marked_on_both_tickets(make_store, clock):
    from jtt_tui.services.ledger import Ledger, LedgerRules

    store = make_store()
    ledger = Ledger(store, rules=LedgerRules(allow_overlap=True), clock=clock, tz=BERLIN)
    service = TimerService(store, clock=clock, tz=BERLIN, ledger=ledger)
    store.save_session(_closed("WEB-1", _local(10, 8), 60))
    store.save_session(_closed("API-7", _local(10, 8, 30), 60))
    store.save_session(_closed("OPS-1", _local(10, 9, 30), 15))  # touches, no overlap

    lists = service.lists()

    assert lists.overlapping == {("WEB-1", _local(10, 8)), ("API-7", _local(10, 8, 30))}


def test_paging_reaches_every_ticket_once(service, store, clock):
    """Two full pages and a bit, with a ticket on top that the first page
    does not hold (a timer paused long ago): none is skipped or repeated."""
    sessions = [
        _closed(f"OPS-{i}", clock.now() - timedelta(days=i, hours=2), 30)
        for i in range(1, 2 * PAGE + 6)
    ]
    sessions.append(
        Session(ticket_number="WEB-1", status=S.RUNNING, segments=[Segment(start=_local(10, 9))])
    )
    sessions.append(_closed("OLD-1", clock.now() - timedelta(days=400), 30, status=S.PAUSED))
    for session in sessions:
        store.save_session(session)

    lists = service.lists()
    assert set(_tickets(lists.top)) == {"WEB-1", "OLD-1"}
    assert (len(lists.recent), lists.fetched, lists.more) == (PAGE - 1, PAGE, True)
    pages = 1
    while lists.more:
        lists.add_page(service.more_recent(lists.fetched, lists.shown_keys()))
        pages += 1

    shown = _tickets([*lists.top, *lists.recent])
    assert sorted(shown) == sorted(s.ticket_number for s in sessions)  # each exactly once
    assert pages == 3
    assert lists.fetched == len(sessions)
    # most recent first, page after page
    assert _tickets(lists.recent)[:3] == ["OPS-1", "OPS-2", "OPS-3"]
    assert _tickets(lists.recent)[PAGE - 2 : PAGE + 1] == [
        f"OPS-{i}" for i in (PAGE - 1, PAGE, PAGE + 1)
    ]


def test_a_page_of_the_filtered_list_keeps_the_filter(service, store, clock):
    for i in range(1, PAGE + 3):
        store.save_session(
            _closed(f"OPS-{i}", clock.now() - timedelta(days=i), 5, ticket_name=f"Task {i}")
        )
    store.save_session(_closed("WEB-1", clock.now() - timedelta(days=1), 5, ticket_name="Task x"))

    lists = service.lists("ops")
    assert (len(lists.recent), lists.more) == (PAGE, True)
    page = service.more_recent(lists.fetched, lists.shown_keys(), "ops")
    assert _tickets(page.rows) == ["OPS-101", "OPS-102"]
    assert not page.more
