"""Random days of work on SQLite and on MongoDB over the wire (the real
driver): whatever people do — start, pause, stop, backdate, add, edit,
delete, invoice, undo, redo — the ledger's invariants hold after every
step:

- no time on two tickets at once;
- no day's tracked total exceeds the wall-clock span it was tracked in;
- undoing a change and redoing it gives back exactly the same data;
- time on a sent invoice never changes while the invoice stays sent.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jtt_tui.domain import BillingSettings, DomainError, FixedClock, Project
from jtt_tui.domain.calendar import day_bounds
from jtt_tui.domain.timeline import overlap_pairs
from jtt_tui.services.billing import BillingService
from jtt_tui.services.ledger import Ledger
from jtt_tui.services.timer import TimerService
from jtt_tui.storage import ConflictError
from jtt_tui.storage.base import content_of
from tests.conftest import WIRE_OPTIONS

BEGIN = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
TICKETS = ("WEB-1", "WEB-2", "API-3")
_RUNS = itertools.count()

minutes = st.integers(min_value=1, max_value=240)
ticket = st.sampled_from(TICKETS)
back = st.one_of(st.none(), st.integers(min_value=0, max_value=300))  # minutes before now
actions = st.one_of(
    st.tuples(st.just("advance"), minutes),
    st.tuples(st.just("start"), ticket, back),
    st.tuples(st.just("pause"), back),
    st.tuples(st.just("stop"), st.one_of(st.none(), ticket), back),
    st.tuples(st.just("add"), ticket, st.integers(0, 600), minutes),
    st.tuples(
        st.just("edit"), ticket, st.integers(0, 3), st.integers(-60, 60), st.integers(-60, 60)
    ),
    st.tuples(st.just("delete_segment"), ticket, st.integers(0, 3)),
    st.tuples(st.just("delete"), ticket),
    st.tuples(st.just("invoice"), st.booleans()),
    st.tuples(st.just("undo")),
    st.tuples(st.just("undo_redo")),
    st.tuples(st.just("redo")),
)


def _store(backend: str, tmp_path, clock, request):
    run = next(_RUNS)
    if backend == "sqlite":
        from jtt_tui.storage import SQLiteStore

        store = SQLiteStore(tmp_path / f"p{run}.db", user_id="alice", clock=clock)
    else:
        from jtt_tui.storage import MongoStore

        server = request.getfixturevalue("wire_server_shared")
        name = f"prop{os.getpid()}_{run}"
        store = MongoStore(server.uri, name, user_id="alice", clock=clock, **WIRE_OPTIONS)
    store.connect()
    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(50)))
    store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
    store.save_project(Project(key="API", name="Api", client={"name": "Acme"}))
    return store


def _data(store) -> list:
    bundle = store.export_all()
    return [content_of(r) for r in (*bundle.sessions, *bundle.manual_tasks, *bundle.invoices)]


def _locked(store) -> dict[tuple[str, datetime], datetime | None]:
    """Segments on a sent invoice: (ticket, start) -> end."""
    sent = {i.invoice_id for i in store.get_invoices() if i.status == "sent"}
    return {
        (s.ticket_number, seg.start): seg.end
        for s in store.get_sessions().values()
        for seg in s.segments
        if seg.invoice_id in sent
    }


def _check(store, clock, locked_before, sent_before) -> None:
    now = clock.now()
    sessions = list(store.get_sessions().values())
    assert overlap_pairs(sessions, now) == []
    days = {(BEGIN + timedelta(days=n)).date() for n in range(6)}
    for day in sorted(days):
        lo, hi = day_bounds(day, UTC)
        pieces = [
            (max(seg.start, lo), min(seg.end or now, hi))
            for s in sessions
            for seg in s.segments
            if seg.start < hi and (seg.end or now) > lo
        ]
        pieces = [(a, b) for a, b in pieces if b > a]
        if pieces:
            total = sum((b - a for a, b in pieces), timedelta(0))
            assert total <= max(b for _, b in pieces) - min(a for a, _ in pieces)
    still_sent = {i.invoice_id for i in store.get_invoices() if i.status == "sent"}
    if sent_before and sent_before <= still_sent:
        assert {k: v for k, v in _locked(store).items() if k in locked_before} == locked_before


def _apply(action, services, store, clock) -> None:
    kind, *args = action
    timer, billing, ledger = services
    now = clock.now()

    def when(minutes_back):
        return None if minutes_back is None else now - timedelta(minutes=minutes_back)

    if kind == "advance":
        clock.advance(minutes=args[0])
    elif kind == "start":
        timer.start(args[0], at=when(args[1]))
    elif kind == "pause":
        timer.pause(at=when(args[0]))
    elif kind == "stop":
        timer.stop(args[0], at=when(args[1]))
    elif kind == "add":
        start = now - timedelta(minutes=args[1] + args[2])
        timer.add(args[0], start, start + timedelta(minutes=args[2]))
    elif kind == "edit":
        session = store.get_session(args[0])
        if session is None or args[1] >= len(session.segments):
            return
        segment = session.segments[args[1]]
        end = None if segment.end is None else segment.end + timedelta(minutes=args[3])
        timer.edit_segment(
            args[0], args[1], start=segment.start + timedelta(minutes=args[2]), end=end
        )
    elif kind == "delete_segment":
        timer.delete_segment(args[0], args[1])
    elif kind == "delete":
        timer.delete(args[0])
    elif kind == "invoice":
        invoice = billing.create(first=date(2025, 3, 1), last=date(2025, 3, 31), client="Acme")
        if args[0]:
            billing.set_status(invoice.invoice_id, "sent")
    elif kind == "undo":
        ledger.undo()
    elif kind == "redo":
        ledger.redo()
    elif kind == "undo_redo":
        before = _data(store)
        ledger.undo()
        ledger.redo()  # right after: nothing can be in its way
        assert _data(store) == before


@pytest.mark.parametrize("backend", ["sqlite", "wire"])
def test_the_invariants_hold_whatever_people_do(backend, tmp_path, request):
    examples = 150 if backend == "sqlite" else 30

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(actions, min_size=5, max_size=25))
    def run(steps):
        clock = FixedClock(BEGIN)
        store = _store(backend, tmp_path, clock, request)
        try:
            ledger = Ledger(store, tz=UTC)
            timer = TimerService(store, clock=clock, tz=UTC, ledger=ledger)
            billing = BillingService(store, tz=UTC, ledger=ledger)
            for step in steps:
                locked, sent = (
                    _locked(store),
                    {i.invoice_id for i in store.get_invoices() if i.status == "sent"},
                )
                try:
                    _apply(step, (timer, billing, ledger), store, clock)
                except (DomainError, ConflictError) as refused:
                    # refused: said why, and changed nothing that breaks a rule
                    assert str(refused)
                _check(store, clock, locked, sent)
        finally:
            store.disconnect()

    run()
