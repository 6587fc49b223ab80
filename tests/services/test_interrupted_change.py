"""`start` cut off half-way on a store without transactions (a standalone
MongoDB: the records of one change are written one after another) is
completed on the next start-up, from the journal entry written first (#19 §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jtt_tui.domain.models import SessionStatus
from jtt_tui.services.ledger import Ledger
from jtt_tui.services.timer import TimerService


class Killed(BaseException):
    """kill -9 between two writes: nothing after it runs, nothing is taken back."""


def start_web_2_cut_off(store, timer: TimerService) -> None:
    """`start WEB-2`, killed after it paused the running timer and before it
    wrote WEB-2 (the records of one change go one by one on these stores)."""
    real_store = store._store

    def dies_on_web_2(kind, record, expected_version, **options):
        if getattr(record, "ticket_number", None) == "WEB-2":
            raise Killed
        return real_store(kind, record, expected_version, **options)

    store._store = dies_on_web_2
    with pytest.raises(Killed):
        timer.start("WEB-2")
    store._store = real_store


@pytest.mark.parametrize("backend", ["wire", "mongomock"])
def test_a_start_cut_off_between_its_writes_is_completed(make_store, clock, backend):
    store = make_store()
    timer = TimerService(store)
    timer.start("WEB-1")
    clock.advance(timedelta(minutes=30))
    start_web_2_cut_off(store, timer)
    # cut off: WEB-1 paused, WEB-2 never written — no timer running at all
    assert store.get_session("WEB-1").status == SessionStatus.PAUSED
    assert store.get_session("WEB-2") is None

    done = Ledger(store).complete_interrupted()
    assert done is not None and "WEB-2" in done
    assert store.get_session("WEB-2").status == SessionStatus.RUNNING
    assert store.get_session("WEB-1").status == SessionStatus.PAUSED
    assert Ledger(store).complete_interrupted() is None  # nothing left to finish


def test_complete_and_undone_changes_are_left_alone(make_store, clock):
    store = make_store()
    timer = TimerService(store)
    timer.start("WEB-1")
    timer.stop()
    assert Ledger(store).complete_interrupted() is None  # complete already
    Ledger(store).undo()
    assert Ledger(store).complete_interrupted() is None  # the newest entry is an undo
    assert store.get_session("WEB-1").status == SessionStatus.RUNNING


@pytest.mark.parametrize("backend", ["wire", "mongomock"])
def test_a_cut_off_change_touched_since_is_not_finished(make_store, clock, backend):
    store = make_store("alice", where="touched")
    timer = TimerService(store)
    timer.start("WEB-1")
    clock.advance(timedelta(minutes=5))
    start_web_2_cut_off(store, timer)
    store.modify_session("WEB-1", lambda s: s.model_copy(update={"notes": "edited since"}))
    assert Ledger(store).complete_interrupted() is None
    assert store.get_session("WEB-2") is None
