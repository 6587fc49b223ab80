"""Jira push benchmark against the fake Jira over local HTTP
(tests/support/fake_jira.py): how many requests and how long a push takes,
what idempotency costs, what reconcile costs and what the alternatives would.

    python -m bench.jira [--segments 300] [--days 14] [--tickets 20] [--big 5000]

Push: a first push of N finished segments, the same push again (nothing to
send), a push after every answer was lost (each worklog looked up by its
marker instead of being posted twice), and edits (PUT).

Reconcile cost (Cloud, ``worklog_page`` 5000 as Cloud's): DAYS days ×
TICKETS tickets × 3 segments a day pushed, a team of five others logging as
much on the same issues, then ``Reconciler.run`` over those days — one
``myself``, one search and one page of worklogs per issue, however busy the
issues are.

The alternative, Cloud's site-wide ``/worklog/updated?since=`` (ids, 1000 a
page) + ``POST /worklog/list`` (1000 ids each), filtered by author, measured
with raw requests on the same fake after adding site-wide noise (other
projects' worklogs by other people): it grows with the whole site's worklogs
updated since the period start, the per-issue approach with the user's issues.
(The fake's ``updated`` times are the wall time the worklogs were stored,
all "recent", as on a freshly-populated site. Its ``nextPage`` repeats a
page's last millisecond, as Jira's does, and the ids seen are dropped; the
site's worklogs are added one wall-clock millisecond apart, about 10 s of
the run, so that no page is all one millisecond. Real Cloud leaves out the
last minute's changes, which the fake does not: a best case for it.)

Marker lookup: one issue with BIG worklogs by the team, and one of ours
pushed with a lost answer (Jira stores it, answers 502): the GETs the push
needs to find it — on Cloud narrowed to around its start, on Server / DC
(``cloud=False``: every worklog, page by page).

Prints figures and ratios; it is not a test (these machines are shared and
noisy). On a real Jira the round trip dominates: multiply the request counts
by its latency.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jtt_tui.config import JiraConfig
from jtt_tui.domain.clock import FixedClock
from jtt_tui.domain.models import Segment, Session
from jtt_tui.jira.client import JiraClient, parse_jira_time
from jtt_tui.services.jira_plan import plan
from jtt_tui.services.jira_push import push
from jtt_tui.services.reconcile import Reconciler
from jtt_tui.services.timer import TimerService
from jtt_tui.storage import SQLiteStore
from tests.support.fake_jira import FakeJira, serving

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DAY0 = date(2025, 3, 3)  # the reconciled period's first day
DAY_START_H = 2  # a day's segments run back to back from 02:00 UTC …
DAY_HOURS = 20  # … within 20 hours (ending by 22:00)
SEGMENTS_A_DAY = 3  # per ticket
TEAM = 5  # others logging on the same issues
NOISE_ISSUES, NOISE_WORKLOGS = 30, 200  # other projects on the site
LIST_IDS = 1000  # /worklog/list takes at most this many ids; /worklog/updated pages so many


def _run(store, fake, config):
    with JiraClient(fake.url, fake.token, email=fake.email, backoff_s=0.01) as client:
        started = time.perf_counter()
        units = [u for u in plan(store, config, tz=UTC) if not u.up_to_date]
        report = push(store, client, units, now=lambda: T0)
        elapsed = time.perf_counter() - started
    return report, client.requests, elapsed


def _push_bench(n: int) -> None:
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


# -- reconcile, and the site-wide alternative ------------------------------------------------


def _slots(days: int, tickets: int) -> tuple[list[list[datetime]], timedelta]:
    """Per ticket, its segments' starts (3 a day, interleaved with the other
    tickets', back to back: none overlap), and the segments' length (20
    minutes, shorter when that many do not fit in a day)."""
    per_day = tickets * SEGMENTS_A_DAY
    length = min(timedelta(minutes=20), timedelta(hours=DAY_HOURS) / per_day)
    length = timedelta(seconds=max(60, int(length.total_seconds())))
    starts: list[list[datetime]] = [[] for _ in range(tickets)]
    for d in range(days):
        first = datetime.combine(DAY0 + timedelta(days=d), datetime.min.time(), tzinfo=UTC)
        first += timedelta(hours=DAY_START_H)
        for r in range(SEGMENTS_A_DAY):
            for t in range(tickets):
                starts[t].append(first + length * (r * tickets + t))
    return starts, length


class _Site:
    """Adds worklogs made outside jtt one wall-clock millisecond apart: the
    fake stamps each with the wall time it was stored (its ``updated``), and
    a real site does not store hundreds in one millisecond — the fake's
    ``/worklog/updated`` pages on from a page's last millisecond + 1, so a
    crowded millisecond on a page boundary would lose ids (about 1 s per
    1000 worklogs)."""

    def __init__(self, fake: FakeJira) -> None:
        self.fake = fake
        self.last = 0

    def add(self, key: str, started: datetime, seconds: int, comment: str, author: str) -> None:
        while int(time.time() * 1000) <= self.last:
            time.sleep(0.0002)
        self.fake.add_web_worklog(key, started, seconds, comment, author=author)
        self.last = int(time.time() * 1000)


def _client(fake: FakeJira, *, cloud: bool = True) -> JiraClient:
    return JiraClient(fake.url, fake.token, email=fake.email if cloud else "", backoff_s=0.01)


def _updated_and_list(
    fake: FakeJira, start: datetime, end: datetime
) -> tuple[set[str], dict[str, Any]]:
    """Read the period as Cloud's site-wide API allows: the ids of every
    worklog updated since its start, page by page (following ``nextPage``),
    then those worklogs 1000 ids a request, then mine by author and start."""
    with _client(fake) as client:
        started = time.perf_counter()
        me = client.myself().account
        path = f"{client.api}/worklog/updated"
        since = int(start.timestamp() * 1000)
        ids: list[int] = []
        known: set[int] = set()
        pages = 0
        while True:
            data = client.request("GET", path, params={"since": since})
            pages += 1
            for value in data.get("values") or []:
                if value["worklogId"] not in known:
                    known.add(value["worklogId"])
                    ids.append(value["worklogId"])
            if data.get("lastPage") or not data.get("nextPage"):
                break
            following = int(parse_qs(urlsplit(data["nextPage"]).query)["since"][0])
            if following <= since:  # not moving on: stop rather than loop
                break
            since = following
        lists = 0
        worklogs: list[dict[str, Any]] = []
        for at in range(0, len(ids), LIST_IDS):
            worklogs += client.request(
                "POST", f"{client.api}/worklog/list", body={"ids": ids[at : at + LIST_IDS]}
            )
            lists += 1
        mine = set()
        for raw in worklogs:
            moment = parse_jira_time(str(raw.get("started", "")))
            author = (raw.get("author") or {}).get("accountId")
            if author == me and moment is not None and start <= moment < end:
                mine.add(str(raw["id"]))
        elapsed = time.perf_counter() - started
        return mine, {
            "requests": client.requests,
            "pages": pages,
            "lists": lists,
            "ids": len(ids),
            "read": len(worklogs),
            "elapsed": elapsed,
        }


def _reconcile_bench(days: int, tickets: int) -> None:
    starts, length = _slots(days, tickets)
    seconds = int(length.total_seconds())
    first, last = DAY0, DAY0 + timedelta(days=days - 1)
    period_start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    period_end = period_start + timedelta(days=days)
    with serving() as fake, tempfile.TemporaryDirectory() as folder:
        fake.worklog_page = 5000  # Cloud's cap
        config = JiraConfig(url=fake.url, email=fake.email)
        clock = FixedClock(period_end + timedelta(days=3, hours=9))
        store = SQLiteStore(Path(folder) / "reconcile.db", user_id="bench", clock=clock)
        store.connect()
        keys = [f"WEB-{t + 1}" for t in range(tickets)]
        for key, mine in zip(keys, starts, strict=True):
            fake.add_issue(key, f"Ticket {key}")
            segments = [Segment(start=s, end=s + length) for s in mine]
            store.save_session(Session(ticket_number=key, notes="bench", segments=segments))
        total = sum(len(s) for s in starts)

        with _client(fake) as client:
            began = time.perf_counter()
            report = push(store, client, plan(store, config, tz=UTC), now=clock.now)
            elapsed = time.perf_counter() - began
        print()
        print(
            f"Reconcile: {days} days × {tickets} tickets × {SEGMENTS_A_DAY} segments "
            f"= {total} segments of {seconds // 60} min (Cloud, pages of {fake.worklog_page})"
        )
        print(
            f"  pushed:          {client.requests:5d} requests, {elapsed:6.2f} s "
            f"({report.sent} worklogs sent)"
        )
        # a team logging as much on the same issues (a few minutes later each)
        site = _Site(fake)
        for member in range(1, TEAM + 1):
            for key, mine in zip(keys, starts, strict=True):
                for s in mine:
                    site.add(
                        key,
                        s + timedelta(minutes=member),
                        seconds,
                        f"pairing with {member}",
                        f"someone-{member}",
                    )
        on_mine = sum(len(fake.all_worklogs(k)) for k in keys)

        reconciler = Reconciler(TimerService(store, tz=UTC), config, lambda: _client(fake), tz=UTC)
        began = time.perf_counter()
        result = reconciler.run(first, last)
        elapsed = time.perf_counter() - began
        per_issue = result.requests
        counts = {k: len(result.of(k)) for k in ("same", "changed", "deleted", "jira_only")}
        agree = sum(1 for d in result.days if not d.differs)
        print(
            f"  team of {TEAM} others logging as much: {on_mine} worklogs on these "
            f"{tickets} issues ({total} mine)"
        )
        print(
            f"  reconcile {first}..{last}: {per_issue:3d} requests (expected 1 myself + 1 search "
            f"+ {tickets} issues = {tickets + 2}), {elapsed:6.2f} s; {on_mine} worklogs read"
        )
        print(
            "    "
            + ", ".join(f"{n} {kind}" for kind, n in counts.items())
            + f"; {agree} of {len(result.days)} days agree"
        )

        # the site around them: other projects, other people (the site-wide API reads them too)
        for i in range(1, NOISE_ISSUES + 1):
            key = f"OPS-{i}"
            fake.add_issue(key, f"Other project {i}")
            for j in range(NOISE_WORKLOGS):
                site.add(
                    key,
                    period_start + (period_end - period_start) * j / NOISE_WORKLOGS,
                    1800,
                    "other work",
                    f"colleague-{(i + j) % 40}",
                )
        everything = sum(len(v) for v in fake.worklogs.values())
        again = reconciler.run(first, last)  # the noise is on issues that are not mine
        ours = {e.worklog_id for e in again.entries if e.jira is not None}
        found, alt = _updated_and_list(fake, period_start, period_end)
        alternative = alt["requests"]
        print(
            f"  site-wide noise: {NOISE_ISSUES} other issues × {NOISE_WORKLOGS} worklogs by "
            f"others; {everything} worklogs on the site"
        )
        print(f"  per issue (reconcile again):   {again.requests:3d} requests")
        print(
            f"  /worklog/updated + /list:      {alternative:3d} requests (1 myself + "
            f"{alt['pages']} pages of ids + {alt['lists']} lists), {alt['elapsed']:6.2f} s; "
            f"{alt['ids']} ids and {alt['read']} worklogs read to find {len(found)} of mine"
        )
        if alt["ids"] < everything:
            print(
                f"    note: the fake's /worklog/updated listed {alt['ids']} of the {everything} "
                "ids: a page all of one millisecond ends the paging; every "
                f"id would take {1 + 2 * math.ceil(everything / LIST_IDS)} requests"
            )
        if found != ours:
            print(
                f"    note: the two disagree on my worklogs ({len(found)} vs {len(ours)}; "
                f"{len(ours - found)} missed by the site-wide read)"
            )
        cheaper = "per issue" if again.requests < alternative else "updated + list"
        print(
            f"  {cheaper} costs fewer requests: updated + list {alternative} vs per issue "
            f"{again.requests} ({alternative / max(1, again.requests):.2f}×), worklogs read "
            f"{alt['read']} vs {on_mine} ({alt['read'] / max(1, on_mine):.2f}×)"
        )
        even = LIST_IDS * max(0, (again.requests - 2) // 2)
        print(
            f"    per issue grows with my issues (2 + 1 each), updated + list with the whole "
            f"site (1 + 2 per {LIST_IDS} worklogs updated since {first}): with my {tickets} "
            f"issues, updated + list costs fewer only on a site with at most {even} worklogs "
            "updated in the period"
        )
        store.disconnect()


# -- marker lookup on an issue with thousands of worklogs -------------------------------------


def _marker_bench(big: int) -> None:
    when = T0 + timedelta(days=30)
    print()
    print(f"Marker lookup after a lost answer, on an issue with {big} worklogs by the team")
    for cloud in (True, False):
        options: dict[str, Any] = {} if cloud else {"cloud": False, "token": "server-pat"}
        with serving(**options) as fake, tempfile.TemporaryDirectory() as folder:
            fake.worklog_page = 5000
            fake.add_issue("BIG-1", "An issue with a long history")
            for i in range(big):  # every two hours back from ours, oldest last added
                fake.add_web_worklog(
                    "BIG-1",
                    when - timedelta(hours=2 * (i + 1)),
                    1800,
                    f"work {i}",
                    author=f"someone-{i % TEAM + 1}",
                )
            store = SQLiteStore(Path(folder) / "marker.db", user_id="bench")
            store.connect()
            segment = Segment(start=when, end=when + timedelta(minutes=25))
            store.save_session(Session(ticket_number="BIG-1", notes="bench", segments=[segment]))
            config = JiraConfig(url=fake.url, email=fake.email if cloud else "")
            fake.fail("POST", "/worklog", 502, apply=True)  # stored, then a 502
            calls = len(fake.requests)
            with _client(fake, cloud=cloud) as client:
                began = time.perf_counter()
                report = push(store, client, plan(store, config, tz=UTC), now=lambda: when)
                elapsed = time.perf_counter() - began
            sent = fake.requests[calls:]
            gets = [q for m, p, q in sent if m == "GET" and p.endswith("/BIG-1/worklog")]
            posts = sum(1 for m, _, _ in sent if m == "POST")
            ours = sum(
                1
                for w in fake.all_worklogs("BIG-1")
                if w["author"].get("accountId", w["author"].get("name")) == fake.me
            )
            flavour = "Cloud (startedAfter/Before)" if cloud else "Server / DC (all worklogs)"
            pages = ", ".join(f"startAt={q.get('startAt')}" for q in gets)
            print(
                f"  {flavour:28s}: {len(gets)} GET + {posts} POST = {client.requests} requests, "
                f"{elapsed:5.2f} s; {report.count('created')} created (found by marker), "
                f"{ours} of ours in Jira; pages read: {pages}"
            )
            store.disconnect()


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--segments", type=int, default=300, help="the push section's segments")
    parser.add_argument("--days", type=int, default=14, help="the reconciled period")
    parser.add_argument("--tickets", type=int, default=20, help="my issues in that period")
    parser.add_argument("--big", type=int, default=5000, help="worklogs on the marker issue")
    args = parser.parse_args()
    _push_bench(args.segments)
    _reconcile_bench(max(1, args.days), max(1, args.tickets))
    _marker_bench(max(0, args.big))


if __name__ == "__main__":
    main()
