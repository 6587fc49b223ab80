"""A migration killed with SIGKILL at a random moment, then run again:
it verifies and nothing is duplicated — into SQLite and, over the real
driver, into MongoDB."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench.datasets import make_sessions
from jtt_tui.domain import Ticket
from jtt_tui.storage import MongoStore, SQLiteStore
from jtt_tui.storage.migrate import canonical_bundle, migrate
from tests.conftest import WIRE_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
RECORDS = 2_000
BATCH = 50

CHILD = """
    import sys
    from pathlib import Path
    from jtt_tui.storage import MongoStore, SQLiteStore
    from jtt_tui.storage.migrate import migrate
    source_path, target, backup = sys.argv[1:4]
    source = SQLiteStore(source_path, user_id="tester")
    source.connect()
    if target.startswith("mongodb://"):
        store = MongoStore(target, "jtt_kill", user_id="tester",
                           serverSelectionTimeoutMS=5000, tz_aware=True)
    else:
        store = SQLiteStore(target, user_id="tester")
    # one line per event: the parent kills after a random number of them
    migrate(source, store, batch_size=int(sys.argv[4]), backup_path=Path(backup),
            progress=lambda event: print(type(event).__name__, flush=True))
    print("FINISHED", flush=True)
"""


def _source(tmp_path: Path) -> SQLiteStore:
    source = SQLiteStore(tmp_path / "source.db", user_id="tester")
    source.connect()
    source.import_all(
        source.export_all().model_copy(update={"sessions": make_sessions(RECORDS - 1)})
    )
    source.save_ticket(Ticket(ticket_number="WEB-1", ticket_name="one of each kind"))
    return source


def _kill_at_random(tmp_path: Path, target: str, rng: random.Random) -> int:
    """Run the migration in a child and SIGKILL it after a random number of
    progress events; returns how many it had reported."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CHILD),
            str(tmp_path / "source.db"),
            target,
            str(tmp_path / "backup.json"),
            str(BATCH),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    # backup, connect, 41 session events, the other kinds, verify (~53 in
    # all): land anywhere in it, a few times after it finished
    stop_after = rng.randint(1, 56)
    seen = 0
    assert child.stdout is not None
    for _ in child.stdout:
        seen += 1
        if seen >= stop_after:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    return seen


@pytest.mark.parametrize("trial", range(10))
def test_killed_into_sqlite_then_run_again(tmp_path, trial):
    source = _source(tmp_path)
    target_path = tmp_path / "target.db"
    _kill_at_random(tmp_path, str(target_path), random.Random(trial))
    target = SQLiteStore(target_path, user_id="tester")
    target.connect()
    try:
        assert target.integrity_check() == "ok"
        report = migrate(source, target, batch_size=BATCH)
        assert report.verified
        assert canonical_bundle(target.export_all()) == canonical_bundle(source.export_all())
    finally:
        target.disconnect()
        source.disconnect()
    with sqlite3.connect(target_path) as raw:
        rows, keys = raw.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM sessions").fetchone()
    assert rows == keys == RECORDS - 1


@pytest.mark.parametrize("trial", range(3))
def test_killed_into_mongodb_then_run_again(tmp_path, wire, trial):
    source = _source(tmp_path)
    _kill_at_random(tmp_path, wire.uri, random.Random(100 + trial))
    target = MongoStore(wire.uri, "jtt_kill", user_id="tester", **WIRE_OPTIONS)
    target.connect()
    try:
        assert migrate(source, target, batch_size=BATCH).verified
        raw = wire.data["jtt_kill"]["sessions"]
        keys = [doc["ticketNumber"] for doc in raw.find({}, {"ticketNumber": 1})]
        assert len(keys) == len(set(keys)) == RECORDS - 1
    finally:
        target.disconnect()
        source.disconnect()
