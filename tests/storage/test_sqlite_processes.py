"""SQLite under real concurrency: several processes on one file, and
processes killed with SIGKILL in the middle of writing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jtt_tui.storage import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


INVOICE_NUMBERS = """
    import sys
    from jtt_tui.storage import SQLiteStore
    store = SQLiteStore(sys.argv[1], user_id="alice")
    store.connect()
    for _ in range(int(sys.argv[2])):
        print(store.next_invoice_number(), flush=True)
    store.disconnect()
"""


def test_two_processes_get_distinct_consecutive_invoice_numbers(tmp_path):
    path = str(tmp_path / "jtt.db")
    SQLiteStore(path, user_id="alice").connect()  # create the schema once
    children = [_spawn(INVOICE_NUMBERS, path, "60") for _ in range(2)]
    numbers: list[int] = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        numbers += [int(line.split("-")[1]) for line in out.split() if line.startswith("INV-")]
    assert sorted(numbers) == list(range(1001, 1121))


READ_MODIFY_WRITE = """
    import sys
    from jtt_tui.storage import SQLiteStore, ConflictError
    store = SQLiteStore(sys.argv[1], user_id="alice")
    store.connect()
    marker, rounds = sys.argv[2], int(sys.argv[3])
    conflicts = 0
    for _ in range(rounds):
        while True:
            session = store.get_session("WEB-1")
            session.notes += marker
            try:
                store.save_session(session)
                break
            except ConflictError:
                conflicts += 1
    print(conflicts, flush=True)
"""


def test_two_processes_never_lose_an_update(tmp_path):
    path = str(tmp_path / "jtt.db")
    store = SQLiteStore(path, user_id="alice")
    store.connect()
    from jtt_tui.domain import Session

    store.save_session(Session(ticket_number="WEB-1"))
    children = [_spawn(READ_MODIFY_WRITE, path, marker, "100") for marker in "ab"]
    for child in children:
        _, err = child.communicate(timeout=90)
        assert child.returncode == 0, err
    notes = store.get_session("WEB-1").notes
    assert (notes.count("a"), notes.count("b")) == (100, 100)
    assert store.get_session("WEB-1").version == 201


WRITER = """
    import sys
    from datetime import UTC, datetime, timedelta
    from jtt_tui.domain import Session, Segment
    from jtt_tui.storage import SQLiteStore
    store = SQLiteStore(sys.argv[1], user_id="alice")
    store.connect()
    prefix = sys.argv[2]
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    counter = store.get_session("COUNT-1")
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        start = t0 + timedelta(hours=i)
        segment = Segment(start=start, end=start + timedelta(minutes=5))
        store.save_session(Session(ticket_number=f"{prefix}-{i}", notes="x" * 500,
                                   segments=[segment]))
        counter.notes = str(i)
        store.save_session(counter)
        print(f"{prefix}-{i} {counter.version}", flush=True)
"""


@pytest.mark.slow
def test_kill_9_during_writes_never_loses_or_corrupts_committed_data(tmp_path):
    path = str(tmp_path / "jtt.db")
    setup = SQLiteStore(path, user_id="alice")
    setup.connect()
    from jtt_tui.domain import Session

    setup.save_session(Session(ticket_number="COUNT-1"))
    setup.disconnect()
    rng = random.Random(1234)
    acknowledged: list[str] = []
    last_version = 1
    for round_no in range(20):
        child = _spawn(WRITER, path, f"K{round_no}")
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.01, 0.25))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        complete_lines = out.split("\n")[:-1]  # the last piece may be cut mid-line
        for line in complete_lines:
            ticket, version = line.split()
            acknowledged.append(ticket)
            last_version = int(version)

        store = SQLiteStore(path, user_id="alice")
        store.connect()  # always opens
        assert store.integrity_check() == "ok"
        stored = store.get_sessions()
        missing = [t for t in acknowledged if t not in stored]
        assert missing == [], f"round {round_no}: saves that had returned are gone"
        assert store.get_session("COUNT-1").version >= last_version
        store.disconnect()
    assert len(acknowledged) > 20  # the children really did write between kills
