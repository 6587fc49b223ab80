"""fanout.in_order (#17): an export's checking and dumping shared with a
forked helper process. Results in the original order, the same as doing
it all in one process, whatever the helper does: an error is raised here
with its own words, a crash loses nothing, and no process is left behind."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jtt_tui.services.data import export_to
from jtt_tui.storage import fanout

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")


def children() -> list[int]:
    me = os.getpid()
    path = Path(f"/proc/{me}/task/{me}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def doubled(batch: list[int]) -> tuple[int, list[int]]:
    return os.getpid(), [n * 2 for n in batch]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 10])
def test_results_come_in_order_and_every_other_batch_is_the_helpers(count):
    batches = [[i, i + 100] for i in range(count)]
    results = list(fanout.in_order(doubled, batches, helper=True))
    assert [values for _, values in results] == [[i * 2, (i + 100) * 2] for i in range(count)]
    pids = [pid for pid, _ in results]
    if count >= 2:
        assert set(pids[0::2]) == {os.getpid()}
        assert os.getpid() not in pids[1::2] and len(set(pids[1::2])) == 1
    else:
        assert set(pids) <= {os.getpid()}
    assert children() == []  # the helper has ended and was waited for


def test_without_the_helper_everything_is_done_here():
    results = list(fanout.in_order(doubled, [[1], [2], [3]], helper=False))
    assert {pid for pid, _ in results} == {os.getpid()}


def test_the_helper_is_used_only_where_a_fork_is_safe(monkeypatch):
    monkeypatch.setattr(fanout.threading, "active_count", lambda: 2)
    assert not fanout.can_fork()  # another thread: a fork would copy only this one
    results = list(fanout.in_order(doubled, [[1], [2]]))
    assert {pid for pid, _ in results} == {os.getpid()}


@pytest.mark.parametrize("failing", [2, 3])  # ours, the helper's
def test_an_error_is_raised_here_with_its_own_words(failing):
    def work(batch: list[int]) -> int:
        if batch == [failing]:
            raise ValueError(f"record {failing} is not valid")
        return batch[0]

    stream = fanout.in_order(work, [[n] for n in range(6)], helper=True)
    assert [next(stream) for _ in range(failing)] == list(range(failing))
    with pytest.raises(ValueError, match=f"^record {failing} is not valid$"):
        next(stream)
    stream.close()
    assert children() == []


def test_a_helper_that_dies_loses_nothing():
    parent = os.getpid()

    def work(batch: list[int]) -> int:
        if os.getpid() != parent and batch == [5]:
            os._exit(9)  # (killed: out of memory, say)
        return batch[0]

    assert list(fanout.in_order(work, [[n] for n in range(10)], helper=True)) == list(range(10))
    assert children() == []


def test_stopping_early_leaves_no_process_behind():
    stream = fanout.in_order(doubled, [[n] for n in range(20)], helper=True)
    next(stream)
    next(stream)
    stream.close()
    assert children() == []


def test_an_export_with_the_helper_writes_the_same_bytes(tmp_path, monkeypatch):
    """A local store of more sessions than one batch: JSON and CSV, with and
    without the helper, byte for byte (the "exported_at" is the store's
    clock's: the same)."""
    from bench.datasets import make_bundle
    from jtt_tui.domain.clock import FixedClock
    from jtt_tui.storage import SQLiteStore

    clock = FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    store = SQLiteStore(tmp_path / "jtt.db", user_id="me", clock=clock)
    store.connect()
    store.import_all(make_bundle(2500))
    forks = []
    real_fork = os.fork

    def counted() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    outputs = {}
    for helper in (False, True):
        monkeypatch.setattr(fanout, "can_fork", lambda helper=helper: helper)
        monkeypatch.setattr(fanout.os, "fork", counted)
        for fmt in ("json", "csv"):
            out = io.BytesIO()
            export_to(store, out, fmt)
            outputs[helper, fmt] = out.getvalue()
        monkeypatch.setattr(fanout.os, "fork", real_fork)
    store.disconnect()
    assert outputs[True, "json"] == outputs[False, "json"]
    assert outputs[True, "csv"] == outputs[False, "csv"]
    assert outputs[True, "json"].count(b'"ticket_number"') == 2500
    # the helper ran for the sessions (3 batches) of each export, never without it
    assert len(forks) == 2
