"""Jira push benchmark against the fake Jira over local HTTP
(tests/support/fake_jira.py): how many requests and how long a push takes,
and what idempotency costs.

    python -m bench.jira [--segments 300]

A first push of N finished segments, the same push again (nothing to send),
a push after every answer was lost (each worklog looked up by its marker
instead of being posted twice), and edits (PUT). Prints figures and ratios;
it is not a test (these machines are shared and noisy). On a real Jira the
round trip dominates: multiply the request counts by its latency.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jtt_tui.config import JiraConfig
from jtt_tui.domain.models import Segment, Session
from jtt_tui.jira.client import JiraClient
from jtt_tui.services.jira import plan, push
from jtt_tui.storage import SQLiteStore
from tests.support.fake_jira import serving

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _run(store, fake, config):
    with JiraClient(fake.url, fake.token, email=fake.email, backoff_s=0.01) as client:
        started = time.perf_counter()
        units = [u for u in plan(store, config, tz=UTC) if not u.up_to_date]
        report = push(store, client, units, now=lambda: T0)
        elapsed = time.perf_counter() - started
    return report, client.requests, elapsed


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=300)
    args = parser.parse_args()
    n = args.segments
    tickets = max(1, n // 10)
    with serving() as fake, tempfile.TemporaryDirectory() as folder:
        fake.worklog_page = 1000  # a server that serves fewer than Cloud
        config = JiraConfig(url=fake.url)
        store = SQLiteStore(Path(folder) / "bench.db", user_id="bench")
        store.connect()
        for t in range(tickets):
            key = f"WEB-{t + 1}"
            fake.add_issue(key, f"Ticket {t + 1}")
            segments = [
                Segment(
                    start=T0 + timedelta(days=s, hours=t % 8),
                    end=T0 + timedelta(days=s, hours=t % 8, minutes=25),
                )
                for s in range(n // tickets)
            ]
            store.save_session(Session(ticket_number=key, notes="bench", segments=segments))
        total = tickets * (n // tickets)

        _, requests, elapsed = _run(store, fake, config)
        print(f"{total} finished segments on {tickets} tickets (fake Jira over HTTP)")
        print(
            f"  first push:      {requests:5d} requests ({requests / total:.2f} per worklog), "
            f"{elapsed:6.2f} s ({elapsed * 1000 / total:.1f} ms per worklog)"
        )
        again, requests, elapsed = _run(store, fake, config)
        print(
            f"  same push again: {requests:5d} requests, {elapsed:6.2f} s "
            f"({len(again.outcomes)} to send: planning only)"
        )

        # every answer lost: Jira stores the worklog, the reply is a 502
        for session in store.get_sessions().values():
            session.segments = [s.model_copy(update={"worklog": None}) for s in session.segments]
            store.save_session(session)
        fake.worklogs.clear()
        fake.fail("POST", "/worklog", 502, apply=True, times=total)
        lost, requests, elapsed = _run(store, fake, config)
        logs = sum(len(v) for v in fake.worklogs.values())
        print(
            f"  answers lost:    {requests:5d} requests ({requests / total:.2f} per worklog), "
            f"{elapsed:6.2f} s; worklogs in Jira {logs} for {total} segments "
            f"({lost.count('created')} recovered by marker)"
        )

        for session in store.get_sessions().values():
            session.segments = [
                s.model_copy(update={"end": s.end + timedelta(minutes=5)}) for s in session.segments
            ]
            store.save_session(session)
        edits, requests, elapsed = _run(store, fake, config)
        print(
            f"  every segment edited: {requests} requests ({edits.count('updated')} PUT), "
            f"{elapsed:.2f} s"
        )
        store.disconnect()


if __name__ == "__main__":
    main()
