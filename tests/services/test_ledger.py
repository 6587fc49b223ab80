"""The ledger on every backend: one timeline, billed time locked, undo and
redo — with the reproductions of issue #14 first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from jtt_tui.domain import BillingSettings, DomainError, InvoiceStatus, Project, SessionStatus
from jtt_tui.services.billing import BillingService
from jtt_tui.services.ledger import (
    BilledTimeLocked,
    Ledger,
    LedgerRefused,
    LedgerRules,
    NothingToUndo,
    OverlapRefused,
)
from jtt_tui.services.timer import TimerService
from jtt_tui.storage.base import content_of

S = SessionStatus
MORNING = datetime(2025, 3, 10, 6, 40, tzinfo=UTC)  # a Monday


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def timer(store, clock) -> TimerService:
    clock.set(MORNING)
    return TimerService(store, clock=clock, tz=UTC)


def _tracked(store, now) -> timedelta:
    return sum((s.elapsed(now) for s in store.get_sessions().values()), timedelta(0))


def _snapshot(store) -> dict:
    bundle = store.export_all()
    return {
        "sessions": [content_of(s) for s in bundle.sessions],
        "tasks": [content_of(t) for t in bundle.manual_tasks],
        "invoices": [content_of(i) for i in bundle.invoices],
    }


# -- 1. one timeline -----------------------------------------------------------------


def test_start_at_pauses_the_running_timer_then_not_now(timer, store, clock):
    """#14: WEB-1 running since 06:40; at 08:10 `start WEB-2 --at 07:40`."""
    timer.start("WEB-1")
    clock.set(at(8, 10))
    change = timer.start("WEB-2", at=at(7, 40))
    assert [p.segments[-1].end for p in change.paused] == [at(7, 40)]
    assert store.get_session("WEB-1").segments[-1].end == at(7, 40)
    assert store.get_session("WEB-2").segments[-1].start == at(7, 40)
    # 1h30 of wall-clock time is 1h30 tracked, not 2h02
    assert _tracked(store, clock.now()) == timedelta(hours=1, minutes=30)


def test_a_backdated_start_over_other_tickets_is_refused(timer, store, clock):
    """#14: `start X --at 06:00` on top of three tickets' segments."""
    clock.set(at(9))
    for ticket, (a, b) in {"WEB-1": (6, 7), "WEB-2": (7, 8), "WEB-3": (8, 9)}.items():
        timer.add(ticket, at(a, 10), at(b))
    before = _snapshot(store)
    with pytest.raises(OverlapRefused, match=r"WEB-9 06:00–now \(running\) would overlap WEB-1"):
        timer.start("WEB-9", at=at(6))
    assert _snapshot(store) == before
    assert store.get_session("WEB-9") is None


def test_a_start_before_the_running_segment_is_refused(timer, store, clock):
    clock.set(at(8))
    timer.start("WEB-1", at=at(7))
    with pytest.raises(DomainError, match="WEB-1 has been running since 07:00"):
        timer.start("WEB-2", at=at(6, 30))
    assert store.get_session("WEB-1").status == S.RUNNING


def test_pause_and_stop_at_a_time(timer, store, clock):
    timer.start("WEB-1")
    clock.set(at(9))
    timer.pause(at=at(8))
    assert store.get_session("WEB-1").segments[-1].end == at(8)
    timer.resume("WEB-1")
    clock.set(at(10))
    with pytest.raises(DomainError, match="only started at 09:00"):
        timer.stop("WEB-1", at=at(8, 30))
    assert timer.stop("WEB-1", at=at(9, 45)).segments[-1].end == at(9, 45)
    with pytest.raises(DomainError, match="in the future"):
        timer.start("WEB-2", at=at(11))


def test_added_time_obeys_the_same_rules_and_trim_makes_room(timer, store, clock):
    clock.set(at(12))
    timer.add("WEB-1", at(8), at(10))
    with pytest.raises(OverlapRefused, match=r"--trim shortens WEB-1"):
        timer.add("WEB-2", at(9, 30), at(11))
    added = timer.add("WEB-2", at(9, 30), at(11), trim=True)
    assert store.get_session("WEB-1").segments[0].end == at(9, 30)
    assert added.notes == ["shortened WEB-1 08:00–10:00 to 08:00–09:30"]
    # a segment inside another one cannot be made room for by shortening
    with pytest.raises(OverlapRefused, match="shortening it cannot make room"):
        timer.add("WEB-3", at(8, 15), at(8, 45), trim=True)
    # touching is not overlapping
    timer.add("WEB-3", at(11), at(11, 30))


def test_editing_a_segment_into_another_tickets_time_is_refused(timer, store, clock):
    clock.set(at(12))
    timer.add("WEB-1", at(8), at(9))
    timer.add("WEB-2", at(9), at(10))
    with pytest.raises(OverlapRefused):
        timer.edit_segment("WEB-2", 0, start=at(8, 30), end=at(10))
    timer.edit_segment("WEB-2", 0, start=at(8, 30), end=at(10), trim=True)
    assert store.get_session("WEB-1").segments[0].end == at(8, 30)


def test_clock_sanity(timer, store, clock):
    clock.set(at(12, day=11))
    with pytest.raises(DomainError, match="cannot end in the future"):
        timer.add("WEB-1", at(11, day=11), at(13, day=11))
    with pytest.raises(DomainError, match="over 24 h is refused"):
        timer.add("WEB-1", at(8, day=10), at(10, day=11))
    timer.add("WEB-1", at(8, day=10), at(10, day=11), force=True)
    # a timer left running over a weekend cannot be closed silently
    timer.start("WEB-2", at=at(11, day=11))
    clock.set(at(12, day=12))
    with pytest.raises(DomainError, match="over 24 h"):
        timer.stop("WEB-2")
    assert timer.stop("WEB-2", at=at(17, day=11)).status == S.STOPPED


def test_overlaps_allowed_by_the_setting(store, clock):
    clock.set(at(12))
    timer = TimerService(
        store, clock=clock, tz=UTC, ledger=Ledger(store, rules=LedgerRules(allow_overlap=True))
    )
    timer.add("WEB-1", at(8), at(10))
    timer.add("WEB-2", at(9), at(11))
    assert len(store.get_sessions()) == 2


# -- 2. billed time is locked -----------------------------------------------------------


@pytest.fixture
def billed(store, clock, timer):
    """WEB-1 07:00–08:00 on an invoice; returns (billing, invoice)."""
    clock.set(at(12))
    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(60)))
    store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
    timer.add("WEB-1", at(7), at(8))
    timer.add("WEB-1", at(9), at(9, 30))
    billing = BillingService(store, tz=UTC, ledger=timer.ledger)
    invoice = billing.create(first=date(2025, 3, 10), last=date(2025, 3, 10), client="Acme")
    return billing, invoice


def test_time_on_a_paid_invoice_cannot_be_edited_or_deleted(billed, timer, store):
    billing, invoice = billed
    billing.set_status(invoice.invoice_id, "sent")
    billing.set_status(invoice.invoice_id, "paid")
    before = _snapshot(store)
    for attempt in (
        lambda: timer.edit_segment("WEB-1", 0, start=at(6, 30), end=at(8)),
        lambda: timer.delete_segment("WEB-1", 0),
        lambda: timer.delete("WEB-1"),
    ):
        with pytest.raises(
            BilledTimeLocked, match=f"billed on {invoice.invoice_number} \\(paid\\)"
        ):
            attempt()
    assert _snapshot(store) == before
    # what is not billed time may change: its name, tags, notes
    timer.edit("WEB-1", name="Login page", notes="ok")
    # nothing is billable again
    draft = billing.preview(first=date(2025, 3, 10), last=date(2025, 3, 10), client="Acme")
    assert draft.empty


def test_moving_billed_time_to_another_project_is_refused(billed, timer, store):
    billing, invoice = billed
    billing.set_status(invoice.invoice_id, "sent")
    store.save_project(Project(key="OPS", name="Ops"))
    with pytest.raises(BilledTimeLocked, match="moving it to another project"):
        timer.edit("WEB-1", project_key="OPS")


def test_billed_manual_entries_are_locked_too(store, clock, timer):
    clock.set(at(12))
    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(60)))
    store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
    task = timer.add_manual_entry(
        title="Call", duration=timedelta(hours=1), day=date(2025, 3, 10), project_key="WEB"
    )
    billing = BillingService(store, tz=UTC, ledger=timer.ledger)
    invoice = billing.create(first=date(2025, 3, 10), last=date(2025, 3, 10), client="Acme")
    billing.set_status(invoice.invoice_id, "sent")
    with pytest.raises(BilledTimeLocked, match="the manual entry 'Call'"):
        timer.delete_manual_entry(task.task_id)
    billing.set_status(invoice.invoice_id, "cancelled")  # frees its time
    assert timer.delete_manual_entry(task.task_id)


def test_a_changed_draft_says_so_and_refreshes(billed, timer, store):
    billing, invoice = billed
    assert billing.out_of_date(invoice) == []
    said: list[str] = []
    timer.edit_segment("WEB-1", 0, start=at(6, 30), end=at(8), said=said)
    assert said and "no longer matches" in said[0]
    stale = store.get_invoice(invoice.invoice_id)
    assert billing.out_of_date(stale) == [
        "the time on WEB-1 from 2025-03-10 07:00 was edited or deleted",
        "the time on WEB-1 from 2025-03-10 06:30 is not on its lines yet",
    ]
    # the edited time is still this draft's: never offered to another invoice
    assert billing.preview(first=date(2025, 3, 10), last=date(2025, 3, 10), client="Acme").empty
    fresh = billing.refresh(invoice.invoice_id)
    assert billing.out_of_date(fresh) == []
    assert fresh.items[0].hours == Decimal("2.00") and fresh.total == Decimal("120.00")
    assert fresh.invoice_number == invoice.invoice_number


# -- 3. undo and redo ------------------------------------------------------------------


def test_undo_a_delete_and_redo_it(timer, store, clock):
    clock.set(at(12))
    timer.add("WEB-1", at(7), at(8))
    timer.add("WEB-1", at(9), at(10))
    kept = content_of(store.get_session("WEB-1"))
    timer.delete("WEB-1")
    undone = timer.ledger.undo()
    assert undone.description == "undo: delete WEB-1 and its 2 segments"
    assert content_of(store.get_session("WEB-1")) == kept
    redone = timer.ledger.redo()
    assert redone.description == "redo: delete WEB-1 and its 2 segments"
    assert store.get_session("WEB-1") is None
    timer.ledger.undo()
    assert content_of(store.get_session("WEB-1")) == kept


def test_several_levels_survive_a_restart(make_store, clock):
    clock.set(at(12))
    store = make_store()
    timer = TimerService(store, clock=clock, tz=UTC)
    timer.start("WEB-1", at=at(8))
    timer.start("WEB-2", at=at(9))
    timer.stop("WEB-2", at=at(10))
    store.disconnect()
    again = TimerService(make_store(), clock=clock, tz=UTC)  # a new process
    assert again.ledger.undo().description == "undo: stop WEB-2 at 10:00"
    assert again.ledger.undo().description == "undo: start WEB-2 at 09:00 (paused WEB-1)"
    reopened = again.store.get_session("WEB-1")
    assert reopened.status == S.RUNNING and reopened.segments[-1].start == at(8)
    assert again.store.get_session("WEB-2") is None
    again.ledger.undo()
    assert again.store.get_sessions() == {}
    with pytest.raises(NothingToUndo):
        again.ledger.undo()
    # redo walks forward again, newest undo first
    assert again.ledger.redo().description == "redo: start WEB-1 at 08:00"
    assert again.ledger.redo().description == "redo: start WEB-2 at 09:00 (paused WEB-1)"


def test_a_new_change_ends_what_can_be_redone(timer, clock):
    clock.set(at(12))
    timer.add("WEB-1", at(7), at(8))
    timer.ledger.undo()
    timer.add("WEB-2", at(7), at(8))
    with pytest.raises(NothingToUndo, match="nothing to redo"):
        timer.ledger.redo()


def test_undo_refuses_when_the_record_changed_since(make_store, clock):
    clock.set(at(12))
    mine = TimerService(make_store(), clock=clock, tz=UTC)
    mine.add("WEB-1", at(7), at(8))
    theirs = make_store()  # another process (or machine) on the same store
    theirs.update_session("WEB-1", notes="written elsewhere")
    with pytest.raises(LedgerRefused, match="WEB-1 was changed after it"):
        mine.ledger.undo()
    assert theirs.get_session("WEB-1").notes == "written elsewhere"


def test_undoing_an_invoice_status_follows_the_invoice_rules(billed, timer, store):
    billing, invoice = billed
    billing.set_status(invoice.invoice_id, "sent")
    # a sent invoice is with the client: undo never makes it a draft again
    with pytest.raises(DomainError, match="cannot be marked draft"):
        timer.ledger.undo()
    assert store.get_invoice(invoice.invoice_id).status == "sent"
    billing.set_status(invoice.invoice_id, "paid")
    with pytest.raises(DomainError, match="paid, which is final"):
        timer.ledger.undo()


def test_undo_never_unlocks_billed_time(billed, timer, store):
    _billing, invoice = billed
    timer.edit_segment("WEB-1", 0, start=at(6, 30), end=at(8))  # on a draft: allowed
    # the invoice is sent by something that keeps no journal (an older jtt)
    store.update_invoice(invoice.invoice_id, status="sent")
    before = _snapshot(store)
    with pytest.raises(BilledTimeLocked, match=f"billed on {invoice.invoice_number} \\(sent\\)"):
        timer.ledger.undo()
    assert _snapshot(store) == before


def test_journals_are_per_user(make_store, clock):
    clock.set(at(12))
    alice = TimerService(make_store("alice"), clock=clock, tz=UTC)
    bob = TimerService(make_store("bob"), clock=clock, tz=UTC)
    alice.add("WEB-1", at(7), at(8))
    with pytest.raises(NothingToUndo):
        bob.ledger.undo()


def test_the_journal_stays_bounded(store, clock):
    clock.set(at(12))
    ledger = Ledger(store, rules=LedgerRules(journal_keep=10))
    timer = TimerService(store, clock=clock, tz=UTC, ledger=ledger)
    for n in range(60):
        timer.add(
            f"WEB-{n + 1}", at(0) + timedelta(minutes=10 * n), at(0) + timedelta(minutes=10 * n + 5)
        )
    # pruned at the first change and every 25th: never more than keep + 25
    assert len(store.journal_entries(100)) <= 10 + 25
    clock.advance(days=31)
    timer.add("API-1", at(1, day=12), at(2, day=12), force=True)
    ledger._commits = 0  # the next change prunes
    timer.add("API-2", at(3, day=12), at(4, day=12))
    assert [e.description.split()[1] for e in store.journal_entries(100)] == ["API-2", "API-1"]


def test_a_concurrent_change_is_planned_again(store, clock, timer, monkeypatch):
    """Two writers take the same journal number: the second re-plans on the
    first one's result (here: its overlap check sees the new time)."""
    clock.set(at(12))
    original = store.commit
    raced = {"done": False}

    def racing(writes):
        if not raced["done"]:
            raced["done"] = True
            TimerService(store, clock=clock, tz=UTC).add("API-1", at(9), at(10))
        return original(writes)

    monkeypatch.setattr(store, "commit", racing)
    with pytest.raises(OverlapRefused, match="API-1"):
        timer.add("WEB-1", at(9, 30), at(11))
    assert store.get_session("WEB-1") is None


def test_a_forgotten_timer_is_found_and_settled(timer, store, clock):
    clock.set(at(8, day=9))  # Sunday morning
    timer.start("WEB-1")
    clock.set(at(9, day=10))
    found = timer.suspicious()
    assert [f.ticket for f in found] == ["WEB-1"]
    assert found[0].reason == "running since yesterday 08:00 (25h 00m)"
    assert found[0].suggested_end == at(18, day=9)  # nothing seen later: the day's end
    # discard the extra time: ends at 18:00, runs on from now
    timer.discard_since("WEB-1", found[0].suggested_end)
    session = store.get_session("WEB-1")
    assert [(s.start, s.end) for s in session.segments] == [
        (at(8, day=9), at(18, day=9)),
        (at(9), None),
    ]
    assert timer.suspicious() == []
    # keep: the user says a long one was real, and is not asked again
    clock.set(at(20))
    assert timer.suspicious() != []
    timer.keep("WEB-1")
    clock.set(at(23, 30))
    assert timer.suspicious() == []
    assert timer.stop("WEB-1").status == S.STOPPED


def test_a_forgotten_timer_is_suggested_to_stop_at_the_last_activity(timer, store, clock):
    clock.set(at(9))
    timer.start("WEB-1")
    clock.set(at(16, 30))
    timer.add_manual_entry(title="Call", duration=timedelta(minutes=5), day=date(2025, 3, 10))
    clock.set(at(8, day=11))
    assert timer.suspicious()[0].suggested_end == at(16, 30)
    # a key press in the app counts too
    assert timer.suspicious(last_activity=at(17, 10))[0].suggested_end == at(17, 10)


# -- found in review ------------------------------------------------------------------


def test_a_sent_invoice_is_deleted_only_with_its_time(billed, timer, store, tmp_path):
    from jtt_tui.services.data import reset_data

    billing, invoice = billed
    billing.set_status(invoice.invoice_id, "sent")
    with pytest.raises(BilledTimeLocked, match="would let that time be billed again"):
        reset_data(store, {"invoices"}, tmp_path / "backups", ledger=timer.ledger)
    assert store.get_invoice(invoice.invoice_id) is not None
    reset_data(store, {"invoices", "sessions"}, tmp_path / "backups", ledger=timer.ledger)
    assert store.get_invoices() == [] and store.get_sessions() == {}


def test_an_import_cannot_rewrite_a_paid_invoice_or_free_its_time(billed, timer, store, tmp_path):
    from jtt_tui.domain import DataBundle
    from jtt_tui.services.data import import_data

    billing, invoice = billed
    billing.set_status(invoice.invoice_id, "sent")
    billing.set_status(invoice.invoice_id, "paid")
    later = store.clock.now() + timedelta(days=1)
    cancelled = store.get_invoice(invoice.invoice_id).model_copy(
        update={"status": InvoiceStatus.CANCELLED, "updated_at": later}
    )
    path = tmp_path / "b.json"
    path.write_text(DataBundle(invoices=[cancelled]).model_dump_json())
    with pytest.raises(DomainError, match="paid, which is final"):
        import_data(store, path, ledger=timer.ledger)
    # an older copy of the ticket without the invoice marks (a merge import)
    session = store.get_session("WEB-1")
    unmarked = session.model_copy(
        update={
            "segments": [s.model_copy(update={"invoice_id": None}) for s in session.segments],
            "updated_at": later,
        }
    )
    path.write_text(DataBundle(sessions=[unmarked]).model_dump_json())
    with pytest.raises(BilledTimeLocked):
        import_data(store, path, ledger=timer.ledger)
    assert all(s.invoice_id for s in store.get_session("WEB-1").segments)


def test_the_invoice_counter_never_blocks_or_rewinds_undo(store, clock, timer):
    clock.set(at(12))
    store.save_project(Project(key="WEB", name="Web", client={"name": "Acme"}))
    billing = BillingService(store, tz=UTC, ledger=timer.ledger)
    billing.update_settings(tax_rate=Decimal(19))
    timer.add("WEB-1", at(7), at(8))
    billing.create(first=date(2025, 3, 10), last=date(2025, 3, 10), client="Acme")  # INV-1001
    timer.ledger.undo()  # the invoice
    timer.ledger.undo()  # the added time
    assert timer.ledger.undo().description == "undo: billing settings: tax rate"
    settings = store.get_billing_settings()
    assert settings.tax_rate == Decimal(0)
    assert settings.next_invoice_number == 1002  # never hands out 1001 again


def test_an_undo_refusal_says_what_changed(timer, store, clock):
    clock.set(at(12))
    timer.add("WEB-1", at(7), at(8))
    store.update_session("WEB-1", notes="changed by hand", tags=["x"])
    with pytest.raises(LedgerRefused, match=r"WEB-1 was changed after it \(notes, tags\)"):
        timer.ledger.undo()
    session = store.get_session("WEB-1")
    link = {
        "push_id": "ab" * 8,
        "issue": "WEB-1",
        "started": at(7),
        "seconds": 3600,
        "state": "pushed",
        "worklog_id": "1",
    }
    store.update_session("WEB-1", segments=[{**session.segments[0].model_dump(), "worklog": link}])
    timer.add("WEB-2", at(9), at(10))
    timer.ledger.undo()
    store.update_session("WEB-1", notes="")  # back as it was, but for the Jira link
    store.update_session("WEB-1", tags=[])
    with pytest.raises(LedgerRefused, match="WEB-1 had its time pushed to Jira after it"):
        timer.ledger.undo()
