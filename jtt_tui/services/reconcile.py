"""Reconcile: what is in Jira for a period, against what jtt pushed.

Reading Jira costs, for a period: one ``myself``, the issues with the user's
worklogs in it (one JQL search, ``worklogAuthor = currentUser() AND
worklogDate >= … AND worklogDate <= …``, 100 issues a page) together with
the issues jtt pushed to in it, then each issue's worklogs (one page for most
issues: on Cloud the period narrows them on the server). A worklog jtt
pushed whose start moved out of the period is fetched by id (one request
each). ``bench/jira.py`` measures this against the alternative, Cloud's
site-wide ``/worklog/updated`` + ``/worklog/list``.

Each worklog jtt pushed is then

- ``same``: in Jira as jtt sent it — nothing to do;
- ``changed``: its time or start differs in Jira — take Jira's (the local
  time follows, through the ledger: billed time stays locked, overlaps are
  refused) or push mine again;
- ``deleted``: gone from Jira — push it again, or forget it (kept in jtt
  only, never pushed again);

and each of the user's worklogs that jtt did not push is ``jira_only`` —
import it as a manual entry that carries the worklog's id (so it is never
pushed back as a duplicate). Per day, Jira's total is put against jtt's
(what a push would send for that day).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from jtt_tui.domain.calendar import day_start, local_date
from jtt_tui.domain.durations import format_span
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import ManualTask, Session, WorklogLink, WorklogState
from jtt_tui.jira.client import JiraClient, JiraError, Worklog
from jtt_tui.services.jira_links import save_link
from jtt_tui.services.jira_plan import PushReport, PushUnit, plan, push_id_for
from jtt_tui.services.jira_push import push
from jtt_tui.services.ledger import Change, Plan
from jtt_tui.storage.kinds import MANUAL_TASKS, SESSIONS

if TYPE_CHECKING:
    from jtt_tui.config import JiraConfig
    from jtt_tui.services.timer import TimerService

Kind = Literal["same", "changed", "deleted", "jira_only"]
KINDS: tuple[Kind, ...] = ("changed", "deleted", "jira_only", "same")
DEFAULT_DAYS = 14
SEARCH_LIMIT = 1000  # issues with the user's worklogs in one period
SAME_START_S = 1  # Jira keeps milliseconds; jtt whole seconds


class ReconcileRefused(DomainError):
    """The action cannot be done for this worklog; nothing was changed."""


@dataclass(frozen=True)
class Pushed:
    """jtt's side of a worklog: the unit's link and where it lives here."""

    issue: str
    link: WorklogLink
    starts: tuple[datetime, ...] = ()  # the segments it covers ((): a manual entry)
    task_id: str | None = None
    billed: bool = False  # on a sent or paid invoice: its time is locked

    @property
    def label(self) -> str:
        return f"{self.issue} (manual entry)" if self.task_id else self.issue

    @property
    def imported(self) -> bool:
        """Imported from Jira (reconcile's import), not sent by jtt."""
        return (self.task_id or "").startswith(IMPORT_PREFIX)


@dataclass
class Entry:
    kind: Kind
    issue: str
    worklog_id: str
    jtt: Pushed | None = None
    jira: Worklog | None = None

    @property
    def started(self) -> datetime:
        if self.jira is not None and self.jira.started_at is not None:
            return self.jira.started_at
        if self.jtt is not None:
            return self.jtt.link.started
        return datetime.min.replace(tzinfo=UTC)

    def describe(self, tz: tzinfo | None = None) -> str:
        def side(started: datetime | None, seconds: int) -> str:
            when = f"{started.astimezone(tz):%Y-%m-%d %H:%M}" if started else "?"
            return f"{when} {format_span(timedelta(seconds=seconds))}"

        jtt = side(self.jtt.link.started, self.jtt.link.seconds) if self.jtt else ""
        jira = side(self.jira.started_at, self.jira.seconds) if self.jira else ""
        sent = "jtt has" if self.jtt is not None and self.jtt.imported else "jtt sent"
        if self.kind == "changed":
            return f"{sent} {jtt}, Jira has {jira}"
        if self.kind == "deleted":
            return f"{sent} {jtt}, not in Jira any more"
        if self.kind == "jira_only":
            text = self.jira.text if self.jira else ""
            return f"in Jira only: {jira}" + (f" ({text[:60]})" if text else "")
        return f"in Jira as sent: {jtt}"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "issue": self.issue, "worklog": self.worklog_id}
        if self.jtt is not None:
            out["jtt"] = {
                "started": self.jtt.link.started.isoformat(),
                "seconds": self.jtt.link.seconds,
                "manual_entry": self.jtt.task_id,
                "billed": self.jtt.billed,
            }
        if self.jira is not None:
            started = self.jira.started_at
            out["jira"] = {
                "started": started.isoformat() if started else self.jira.started,
                "seconds": self.jira.seconds,
                "comment": self.jira.text,
            }
        return out


@dataclass(frozen=True)
class DayTotal:
    day: date
    jira_seconds: int
    jtt_seconds: int

    @property
    def differs(self) -> bool:
        return self.jira_seconds != self.jtt_seconds


@dataclass
class Reconciliation:
    first: date
    last: date
    entries: list[Entry] = field(default_factory=list)
    days: list[DayTotal] = field(default_factory=list)
    unpushed: int = 0  # units in the period never pushed
    refused: int = 0  # units Jira refused (failed; the push queue says why)
    # units on issues done in Jira: Jira takes no worklogs there, so they
    # are left out of jtt's day totals (reopen the issue to push them)
    on_done: list[str] = field(default_factory=list)
    requests: int = 0
    unreadable: list[str] = field(default_factory=list)  # issues Jira would not show

    def of(self, kind: Kind) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]

    @property
    def differences(self) -> list[Entry]:
        return [e for e in self.entries if e.kind != "same"]

    @property
    def in_sync(self) -> bool:
        return not self.differences and not any(d.differs for d in self.days)

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "in_sync": self.in_sync,
            "counts": {kind: len(self.of(kind)) for kind in KINDS},
            "not_pushed_yet": self.unpushed,
            "refused_by_jira": self.refused,
            "on_done_issues": self.on_done,
            "entries": [e.as_json() for e in self.entries],
            "days": [
                {
                    "day": d.day.isoformat(),
                    "jira_seconds": d.jira_seconds,
                    "jtt_seconds": d.jtt_seconds,
                }
                for d in self.days
            ],
            "unreadable_issues": self.unreadable,
            "requests": self.requests,
        }


def period(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    last = last or today
    first = first or (last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise ReconcileRefused(f"the period starts ({first}) after it ends ({last})")
    return first, last


def worklog_jql(first: date, last: date) -> str:
    return (
        f'worklogAuthor = currentUser() AND worklogDate >= "{first.isoformat()}" '
        f'AND worklogDate <= "{last.isoformat()}"'
    )


class Reconciler:
    """Reconcile one period, and act on what it found (each action blocking:
    run it off the UI thread)."""

    def __init__(
        self,
        timer: TimerService,
        config: JiraConfig,
        client: Callable[[], JiraClient],
        *,
        tz: tzinfo | None = None,
    ) -> None:
        self.timer = timer
        self.store = timer.store
        self.config = config
        self.client = client
        self.tz = tz

    # -- reading -------------------------------------------------------------------------

    def run(self, first: date, last: date) -> Reconciliation:
        start, end = day_start(first, self.tz), day_start(last + timedelta(days=1), self.tz)
        result = Reconciliation(first, last)
        units = plan(self.store, self.config, start=start, end=end, tz=self.tz)
        ours = _pushed_in(self.store, start, end, self.tz)
        by_id = {p.link.worklog_id: p for p in ours if p.link.worklog_id is not None}
        # pushes on their way: a worklog with their marker is theirs (the
        # next push finds it), not one made outside jtt
        waiting = {
            u.push_id
            for u in units
            if u.link is not None
            and (u.link.state == WorklogState.PENDING or u.link.worklog_id is None)
        }
        with self.client() as client:
            me = client.myself().account
            issues = {i.key for i in client.search(worklog_jql(first, last), limit=SEARCH_LIMIT)}
            issues |= {p.issue for p in ours}
            seen: dict[str, Worklog] = {}
            issue_of: dict[str, str] = {}
            for issue in sorted(issues):
                try:
                    logs = client.worklogs(issue, started_after=start, started_before=end)
                except JiraError as exc:
                    if exc.kind not in ("not_found", "forbidden"):
                        raise
                    result.unreadable.append(issue)
                    continue
                for worklog in logs:
                    if worklog.author == me:
                        seen[worklog.id], issue_of[worklog.id] = worklog, issue
            readable = issues - set(result.unreadable)
            moved = [
                p
                for wid, p in by_id.items()
                if wid not in seen and p.issue in readable and p.link.state == WorklogState.PUSHED
            ]
            for pushed in moved:  # its start may have moved out of the period in Jira
                found = client.worklog(pushed.issue, pushed.link.worklog_id or "")
                if found is not None:
                    seen[found.id], issue_of[found.id] = found, pushed.issue
            result.requests = client.requests
        for wid, pushed in by_id.items():
            if pushed.link.state != WorklogState.PUSHED:
                continue  # queued or failed: the push queue's business
            found = seen.get(wid)
            if found is None:
                if pushed.issue in readable or pushed.issue in result.unreadable:
                    result.entries.append(Entry("deleted", pushed.issue, wid, jtt=pushed))
                continue
            kind: Kind = "same" if _same(pushed.link, found) else "changed"
            result.entries.append(Entry(kind, pushed.issue, wid, jtt=pushed, jira=found))
        for wid, worklog in seen.items():
            if wid in by_id or worklog.marker in waiting:
                continue  # ours (a push whose answer was lost is found by the next push)
            result.entries.append(Entry("jira_only", issue_of[wid], wid, jira=worklog))
        result.entries.sort(key=lambda e: (KINDS.index(e.kind), e.started, e.issue))
        done = {u.issue for u in units if u.closed and not u.up_to_date}
        result.on_done = sorted(done)
        units = [u for u in units if u.issue not in done]
        result.unpushed = sum(1 for u in units if u.link is None)
        result.refused = sum(
            1 for u in units if u.link is not None and u.link.state == WorklogState.FAILED
        )
        result.days = _day_totals(
            first, last, units=units, worklogs=seen.values(), start=start, end=end, tz=self.tz
        )
        return result

    # -- acting --------------------------------------------------------------------------

    def take_jiras(self, entry: Entry) -> str:
        """The local time becomes Jira's (through the ledger: undoable, billed
        time locked, overlaps refused)."""
        pushed = entry.jtt
        if entry.kind != "changed" or pushed is None or entry.jira is None:
            raise ReconcileRefused("only a worklog changed in Jira can be taken from Jira")
        worklog = self._still_in_jira(entry)  # as it is now, not as it was read
        started = worklog.started_at
        if started is None:
            raise ReconcileRefused(f"Jira's start of worklog {worklog.id} cannot be read")
        if pushed.billed:
            raise ReconcileRefused(
                f"{pushed.label}: this time is on a sent or paid invoice, and billed time is "
                "locked; push mine again to put jtt's time back in Jira"
            )
        link = pushed.link.model_copy(
            update={"started": started, "seconds": worklog.seconds, "error": ""}
        )
        seconds = timedelta(seconds=worklog.seconds)
        if pushed.task_id is not None:
            task = self.store.get_manual_task(pushed.task_id)
            if task is None:
                raise ReconcileRefused("that manual entry no longer exists")
            changed = task.model_copy(
                update={
                    "duration": seconds,
                    "date": local_date(started, self.tz),
                    "worklog": link,
                }
            )
            what = (
                f"take Jira's time for the manual entry {task.title!r}: {entry.describe(self.tz)}"
            )
            self.timer.ledger.apply(
                lambda: Plan("jira-take", what, [Change(MANUAL_TASKS, task.task_id, task, changed)])
            )
            return f"{pushed.label}: now {format_span(seconds)} on {changed.date}, as in Jira"
        if len(pushed.starts) != 1:
            raise ReconcileRefused(
                f"{pushed.label}: this worklog covers {len(pushed.starts)} segments (one worklog "
                "per day): change them in jtt, or push mine again"
            )

        def change() -> Plan:
            session = self.store.get_session(pushed.issue)
            if session is None:
                raise ReconcileRefused(f"{pushed.issue} no longer exists in jtt")
            index = _segment_at(session, pushed.starts[0])
            edited = self.timer.machine.edit_segment(
                session, index, start=started, end=started + seconds
            )
            edited.segments[index] = edited.segments[index].model_copy(update={"worklog": link})
            return Plan(
                "jira-take",
                f"take Jira's time for {pushed.issue}: {entry.describe(self.tz)}",
                [Change(SESSIONS, session.ticket_number, session, edited)],
            )

        self.timer.ledger.apply(change)
        local = started.astimezone(self.tz)
        return f"{pushed.issue}: now {local:%Y-%m-%d %H:%M} for {format_span(seconds)}, as in Jira"

    def push_mine(self, entry: Entry) -> PushReport:
        """Send jtt's time again: over Jira's change, or as a new worklog
        where it was deleted there."""
        if entry.jtt is None or entry.kind not in ("changed", "deleted"):
            raise ReconcileRefused("only a changed or deleted worklog can be pushed again")
        unit = self._unit(entry.jtt)
        if entry.kind == "deleted":
            save_link(self.store, unit, None)  # a new worklog: nothing to update
            unit = self._unit(entry.jtt, linked=False)
        with self.client() as client:
            return push(
                self.store,
                client,
                [unit],
                adjust=self.config.estimate,
                now=self.store.clock.now,
                include_closed=True,  # asked for this one worklog
                force=True,
            )

    def forget(self, entry: Entry) -> str:
        """Deleted in Jira on purpose: keep the time in jtt only, never push it again."""
        if entry.jtt is None or entry.kind != "deleted":
            raise ReconcileRefused("only a worklog deleted in Jira can be forgotten")
        unit = self._unit(entry.jtt)
        kept = entry.jtt.link.model_copy(
            update={
                "state": WorklogState.LOCAL,
                "worklog_id": None,
                "error": f"worklog {entry.worklog_id} was deleted in Jira; kept in jtt only",
                "at": self.store.clock.now(),
            }
        )
        save_link(self.store, unit, kept)
        return f"{entry.jtt.label}: kept in jtt only; it will not be pushed again"

    def import_entry(self, entry: Entry) -> ManualTask:
        """A worklog made outside jtt, as a manual entry carrying its id."""
        if entry.kind != "jira_only" or entry.jira is None:
            raise ReconcileRefused("only a worklog logged outside jtt can be imported")
        worklog = self._still_in_jira(entry)  # as it is now, not as it was read
        started = worklog.started_at
        if started is None:
            raise ReconcileRefused(f"Jira's start of worklog {worklog.id} cannot be read")
        if self.store.get_manual_task(_import_id(worklog.id)) is not None:
            raise ReconcileRefused(f"worklog {worklog.id} was imported already")
        known = self.store.get_session(entry.issue) or self.store.get_ticket(entry.issue)
        title = worklog.text.splitlines()[0][:200] if worklog.text else ""
        title = title or (known.ticket_name if known else "") or f"Jira worklog on {entry.issue}"
        now = self.store.clock.now()
        task = ManualTask(
            task_id=_import_id(worklog.id),
            title=title,
            description=worklog.text[:2000],
            ticket_number=entry.issue,
            project_id=known.project_id if known else None,
            duration=timedelta(seconds=worklog.seconds),
            date=local_date(started, self.tz),
            worklog=WorklogLink(
                push_id=push_id_for(self.store.user_id, entry.issue, f"jira:{worklog.id}"),
                state=WorklogState.PUSHED,
                worklog_id=worklog.id,
                issue=entry.issue,
                started=started,
                seconds=worklog.seconds,
                at=now,
            ),
        )
        what = (
            f"import Jira worklog {worklog.id} on {entry.issue} "
            f"({format_span(task.duration)}, {task.date})"
        )
        done = self.timer.ledger.apply(
            lambda: Plan("jira-import", what, [Change(MANUAL_TASKS, task.task_id, None, task)])
        )
        stored = done.get(MANUAL_TASKS, task.task_id)
        assert isinstance(stored, ManualTask)
        return stored

    def _still_in_jira(self, entry: Entry) -> Worklog:
        """The worklog as Jira has it now (one request): the list may be a
        while old, and an action never trusts a stale row."""
        with self.client() as client:
            worklog = client.worklog(entry.issue, entry.worklog_id)
        if worklog is None:
            raise ReconcileRefused(
                f"worklog {entry.worklog_id} on {entry.issue} is no longer in Jira "
                "(deleted there meanwhile); nothing was changed"
            )
        return worklog

    def _unit(self, pushed: Pushed, *, linked: bool = True) -> PushUnit:
        """The push unit that holds this worklog now."""
        for unit in plan(self.store, self.config, ticket=pushed.issue, tz=self.tz):
            if pushed.task_id is not None:
                if unit.task_id == pushed.task_id:
                    return unit
            elif unit.task_id is None and set(pushed.starts) & set(unit.starts):
                return unit
        if pushed.task_id is not None:  # its ticket may differ from the issue now
            for unit in plan(self.store, self.config, tz=self.tz):
                if unit.task_id == pushed.task_id:
                    return unit
        raise ReconcileRefused(f"{pushed.label}: that time is no longer in jtt")


# -- helpers ---------------------------------------------------------------------------------


IMPORT_PREFIX = "jira-worklog-"


def _import_id(worklog_id: str) -> str:
    return f"{IMPORT_PREFIX}{worklog_id}"


def _same(link: WorklogLink, worklog: Worklog) -> bool:
    started = worklog.started_at
    return (
        started is not None
        and worklog.seconds == link.seconds
        and abs((started - link.started).total_seconds()) < SAME_START_S
    )


def _segment_at(session: Session, start: datetime) -> int:
    for index, segment in enumerate(session.segments):
        if segment.start == start:
            return index
    raise ReconcileRefused(f"{session.ticket_number}: that segment was changed in jtt meanwhile")


def _pushed_in(store: Any, start: datetime, end: datetime, tz: tzinfo | None) -> list[Pushed]:
    """Every link of jtt's time whose worklog started in ``[start, end)``."""
    from jtt_tui.services.ledger import LOCKING

    locked_ids: dict[str, bool] = {}

    def locked(invoice_id: str | None) -> bool:
        """On a sent or paid invoice (a draft's time may still change)."""
        if invoice_id is None:
            return False
        if invoice_id not in locked_ids:
            invoice = store.get_invoice(invoice_id)
            locked_ids[invoice_id] = invoice is not None and invoice.status in LOCKING
        return locked_ids[invoice_id]

    found: list[Pushed] = []
    for session in store.sessions_between(start - timedelta(days=1), end + timedelta(days=1)):
        groups: dict[str, list] = defaultdict(list)
        for seg in session.segments:
            link = seg.worklog
            if link is None or link.state == WorklogState.LOCAL:
                continue
            groups[link.push_id].append(seg)
        for segments in groups.values():
            link = segments[0].worklog
            if not start <= link.started < end:
                continue
            found.append(
                Pushed(
                    issue=link.issue,
                    link=link,
                    starts=tuple(s.start for s in segments),
                    billed=any(locked(s.invoice_id) for s in segments),
                )
            )
    first, last = local_date(start, tz), local_date(end - timedelta(microseconds=1), tz)
    for task in store.manual_tasks_between(first - timedelta(days=1), last + timedelta(days=1)):
        link = task.worklog
        if link is None or link.state == WorklogState.LOCAL or not start <= link.started < end:
            continue
        found.append(
            Pushed(
                issue=link.issue,
                link=link,
                task_id=task.task_id,
                billed=locked(task.invoice_id),
            )
        )
    return found


def _day_totals(
    first: date,
    last: date,
    *,
    units: list[PushUnit],
    worklogs: Any,
    start: datetime,
    end: datetime,
    tz: tzinfo | None,
) -> list[DayTotal]:
    """Per day with time on either side: Jira's total (the user's worklogs)
    and jtt's (what a push sends for that day)."""
    jira: dict[date, int] = defaultdict(int)
    jtt: dict[date, int] = defaultdict(int)
    for worklog in worklogs:
        started = worklog.started_at
        if started is not None and start <= started < end:
            jira[local_date(started, tz)] += worklog.seconds
    for unit in units:
        jtt[local_date(unit.started, tz)] += unit.seconds
    days = sorted(d for d in jira.keys() | jtt.keys() if first <= d <= last)
    return [DayTotal(d, jira.get(d, 0), jtt.get(d, 0)) for d in days]


__all__ = [
    "DEFAULT_DAYS",
    "DayTotal",
    "Entry",
    "Pushed",
    "ReconcileRefused",
    "Reconciler",
    "Reconciliation",
    "period",
    "worklog_jql",
]
