"""Two processes creating invoices at once on the same store: every number
unique and the sequence gap-free — on SQLite and on MongoDB (the real driver
over the wire server)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from jtt_tui.domain import BillingSettings, Project, Segment, Session, SessionStatus
from jtt_tui.storage import MongoStore, SQLiteStore
from tests.conftest import WIRE_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
DAYS = 15
FIRST = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

CHILD = """
    import sys
    from datetime import date, timedelta
    from jtt_tui.services.billing import BillingService
    from jtt_tui.storage import MongoStore, SQLiteStore
    where, key, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if where.startswith("mongodb://"):
        store = MongoStore(where, "jtt_numbers", user_id="alice", tz_aware=True,
                           serverSelectionTimeoutMS=5000)
    else:
        store = SQLiteStore(where, user_id="alice")
    store.connect()
    billing = BillingService(store)
    project = next(p for p in store.get_projects() if p.key == key)
    for n in range(days):
        day = date(2025, 3, 1) + timedelta(days=n)
        invoice = billing.create(first=day, last=day, project_id=project.project_id)
        print(invoice.invoice_number, flush=True)
    store.disconnect()
"""


def _seed(store) -> None:
    store.save_billing_settings(BillingSettings(global_hourly_rate=Decimal(50)))
    for key in ("WEB", "API"):
        store.save_project(Project(key=key, name=key, client={"name": "Acme"}))
        for n in range(DAYS):
            start = FIRST + timedelta(days=n)
            store.save_session(
                Session(
                    ticket_number=f"{key}-{n + 1}",
                    status=SessionStatus.STOPPED,
                    segments=[Segment(start=start, end=start + timedelta(minutes=30))],
                )
            )


@pytest.mark.parametrize("backend", ["sqlite", "wire"])
def test_two_processes_number_invoices_without_gaps(backend, tmp_path, request):
    if backend == "wire":
        server = request.getfixturevalue("wire")
        where = server.uri
        store = MongoStore(where, "jtt_numbers", user_id="alice", **WIRE_OPTIONS)
    else:
        where = str(tmp_path / "jtt.db")
        store = SQLiteStore(where, user_id="alice")
    store.connect()
    _seed(store)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(CHILD), where, key, str(DAYS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for key in ("WEB", "API")
    ]
    numbers: list[int] = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        numbers += [int(line.rsplit("-", 1)[1]) for line in out.split()]
    assert sorted(numbers) == list(range(1001, 1001 + 2 * DAYS))
    stored = sorted(i.invoice_number for i in store.get_invoices())
    assert len(stored) == len(set(stored)) == 2 * DAYS
    store.disconnect()
