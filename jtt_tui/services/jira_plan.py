"""What a Jira push would send, decided from the store alone (no Jira call).

A unit (:class:`PushUnit`) is one worklog's worth of time: a finished
segment, or with ``push_mode = "day"`` a ticket's finished segments of one
local day; and each manual entry that names a ticket. :func:`plan` reads the
records in scope, groups the segments, and makes each group or entry a unit
with its rounded time and a push id that never changes for it. What a push
did with each unit comes back as :class:`PushOutcome` in a
:class:`PushReport`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from jtt_tui.domain.billing import rounded_seconds
from jtt_tui.domain.calendar import local_date, local_datetime
from jtt_tui.domain.models import (
    ManualTask,
    Rounding,
    Segment,
    Session,
    Ticket,
    WorklogLink,
    WorklogState,
)
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.jira.client import JiraError

if TYPE_CHECKING:
    from jtt_tui.config import JiraConfig
    from jtt_tui.storage.base import Storage

PushMode = Literal["segment", "day"]  # JiraConfig.push_mode

JIRA_FLOOR_S = 60  # Jira refuses worklogs under a minute
MANUAL_HOUR = 9  # a manual entry has a day, not a time: Jira gets 09:00 local


@dataclass
class PushUnit:
    """One worklog's worth of time."""

    issue: str
    push_id: str
    started: datetime
    seconds: int
    tracked_seconds: int
    comment: str
    starts: list[datetime]  # the segments it covers, by start
    link: WorklogLink | None
    all_linked: bool = True  # every segment carries the link (day mode: none added since)
    # the segments' links as planned: a push first claims the unit by
    # checking they are still so (another jtt pushing it changes them)
    planned: tuple[WorklogLink | None, ...] = ()
    task_id: str | None = None  # a manual entry's time (then ``starts`` is empty)
    closed: bool = False  # the ticket cache says the issue is done in Jira

    @property
    def label(self) -> str:
        return f"{self.issue} (manual entry)" if self.task_id else self.issue

    @property
    def up_to_date(self) -> bool:
        link = self.link
        return (
            self.all_linked
            and link is not None
            and link.state == WorklogState.PUSHED
            and link.worklog_id is not None
            and (link.issue, link.started, link.seconds) == (self.issue, self.started, self.seconds)
        )


Action = Literal[
    "created", "updated", "found", "unchanged", "failed", "queued", "skipped", "closed"
]


@dataclass
class PushOutcome:
    unit: PushUnit
    action: Action
    detail: str = ""


@dataclass
class PushReport:
    outcomes: list[PushOutcome] = field(default_factory=list)
    stopped: JiraError | None = None  # why the run ended early (the rest is queued)

    def count(self, action: Action) -> int:
        return sum(1 for o in self.outcomes if o.action == action)

    @property
    def sent(self) -> int:
        """Worklogs now in Jira as tracked: created, updated or found there."""
        return self.count("created") + self.count("updated") + self.count("found")


def push_id_for(user_id: str, issue: str, anchor: str) -> str:
    return hashlib.sha256(f"{user_id}|{issue}|{anchor}".encode()).hexdigest()[:20]


def comment_for(session: Session) -> str:
    """The worklog's comment (the push id goes with it: see ``JiraClient``)."""
    return session.notes.strip() or session.ticket_name.strip() or "Work logged with jtt"


def task_comment(task: ManualTask) -> str:
    return (task.description.strip() or task.title.strip() or "Work logged with jtt")[:2000]


def manual_started(task: ManualTask, tz: object = None) -> datetime:
    """When a manual entry's worklog starts in Jira: its day at 09:00 local,
    or where its worklog already starts on that day (one imported from Jira,
    or moved there) — a manual entry has a day, not a time."""
    link = task.worklog
    if link is not None and local_date(link.started, tz) == task.date:  # type: ignore[arg-type]
        return link.started
    return local_datetime(task.date, MANUAL_HOUR, 0, tz)  # type: ignore[arg-type]


def plan(
    store: Storage,
    config: JiraConfig,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    ticket: str | None = None,
    tz: object = None,
    only_pending: bool = False,
) -> list[PushUnit]:
    """The units to push: finished segments starting in ``[start, end)`` (all
    when no range), of one ticket if given, grouped as configured; and the
    manual entries with a ticket whose day falls in the range. Time kept
    local on purpose (reconcile's "forget") is left out.

    The steps: read the records in scope (:func:`_sessions_to_push`,
    :func:`_tasks_to_push`), group the segments into units
    (:func:`group_segments`), make each group or entry a unit with its
    rounded time (:func:`segment_unit`, :func:`task_unit`), keep the
    pushable ones (:func:`pushable`)."""
    sessions = _sessions_to_push(store, start=start, end=end, ticket=ticket)
    rules = _Rules(store, config)
    closed = closed_tickets(store.get_tickets().values())
    units = [
        segment_unit(
            session,
            anchor,
            segments,
            user_id=store.user_id,
            rule=rules.for_ticket(session.ticket_number, session.project_id),
            closed=session.ticket_number in closed,
        )
        for session in sorted(sessions, key=lambda s: s.ticket_number)
        for anchor, segments in group_segments(
            session.segments, start=start, end=end, mode=config.push_mode, tz=tz
        ).items()
    ]
    units += [
        task_unit(
            task,
            user_id=store.user_id,
            rule=rules.for_ticket(task.ticket_number or "", task.project_id),
            closed=task.ticket_number in closed,
            tz=tz,
        )
        for task in _tasks_to_push(store, start=start, end=end, ticket=ticket, tz=tz)
    ]
    return [unit for unit in units if pushable(unit.link, only_pending=only_pending)]


def _sessions_to_push(
    store: Storage, *, start: datetime | None, end: datetime | None, ticket: str | None
) -> list[Session]:
    """The sessions whose segments may be pushed: one ticket's, else those
    with time in the range, else all (their segments are filtered later)."""
    if ticket is not None:
        one = store.get_session(ticket)
        return [one] if one is not None else []
    if start is not None and end is not None:
        return store.sessions_between(start, end)
    return list(store.get_sessions().values())


def closed_tickets(tickets: Iterable[Ticket]) -> set[str]:
    """The numbers of the cached tickets Jira reported as done."""
    return {t.ticket_number for t in tickets if t.jira_done}


def in_range(when: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether ``when`` falls in ``[start, end)``; a missing bound does not limit."""
    return (start is None or when >= start) and (end is None or when < end)


def unit_anchor(started: datetime, mode: PushMode, tz: object = None) -> str:
    """What a segment's unit is keyed by: its own start (``segment`` mode),
    or its local day (``day`` mode: a ticket's segments of a day are one
    worklog). Part of the push id, so it must never change for a unit."""
    if mode == "day":
        return started.astimezone(tz).date().isoformat()  # type: ignore[arg-type]
    return started.isoformat()


def group_segments(
    segments: Iterable[Segment],
    *,
    start: datetime | None,
    end: datetime | None,
    mode: PushMode,
    tz: object = None,
) -> dict[str, list[Segment]]:
    """The finished segments starting in ``[start, end)``, grouped by
    :func:`unit_anchor` in the order they come; a running one is never pushed."""
    groups: dict[str, list[Segment]] = defaultdict(list)
    for seg in segments:
        if seg.end is not None and in_range(seg.start, start, end):
            groups[unit_anchor(seg.start, mode, tz)].append(seg)
    return dict(groups)


def pushed_seconds(tracked: int, rule: Rounding | None) -> int:
    """The seconds a worklog gets for ``tracked`` seconds: billing-rounded
    when a rule applies, and never under Jira's one-minute floor."""
    seconds = rounded_seconds(tracked, rule) if rule is not None else tracked
    return max(JIRA_FLOOR_S, seconds)


def pushable(link: WorklogLink | None, *, only_pending: bool = False) -> bool:
    """Whether a unit with this link is planned: never when its time is kept
    local on purpose; with ``only_pending``, only when it is on its way."""
    if link is not None and link.state == WorklogState.LOCAL:
        return False
    return not only_pending or (link is not None and link.state == WorklogState.PENDING)


def segment_unit(
    session: Session,
    anchor: str,
    segments: list[Segment],
    *,
    user_id: str,
    rule: Rounding | None,
    closed: bool,
) -> PushUnit:
    """One group of a session's finished segments as a unit: their summed
    time, rounded; the link of the first linked segment (so a push id once
    sent is kept); a new push id from ``anchor`` when none is linked yet."""
    linked = [s.worklog for s in segments if s.worklog is not None]
    link = linked[0] if linked else None
    tracked = sum(int((s.end - s.start).total_seconds()) for s in segments if s.end is not None)
    return PushUnit(
        issue=session.ticket_number,
        push_id=link.push_id if link else push_id_for(user_id, session.ticket_number, anchor),
        started=min(s.start for s in segments),
        seconds=pushed_seconds(tracked, rule),
        tracked_seconds=tracked,
        comment=comment_for(session),
        starts=[s.start for s in segments],
        link=link,
        all_linked=len(linked) == len(segments),
        planned=tuple(s.worklog for s in segments),
        closed=closed,
    )


def task_unit(
    task: ManualTask,
    *,
    user_id: str,
    rule: Rounding | None,
    closed: bool,
    tz: object = None,
) -> PushUnit:
    """A manual entry with a ticket as a unit: its duration, rounded, started
    as :func:`manual_started` says; its own link and push id."""
    issue = task.ticket_number or ""
    link = task.worklog
    tracked = int(task.duration.total_seconds())
    return PushUnit(
        issue=issue,
        push_id=link.push_id if link else push_id_for(user_id, issue, f"manual:{task.task_id}"),
        started=manual_started(task, tz),
        seconds=pushed_seconds(tracked, rule),
        tracked_seconds=tracked,
        comment=task_comment(task),
        starts=[],
        link=link,
        planned=(link,),
        task_id=task.task_id,
        closed=closed,
    )


class _Rules:
    """The billing rounding of each ticket's time, when pushed time is rounded."""

    def __init__(self, store: Storage, config: JiraConfig) -> None:
        self.index = ProjectIndex(store.get_projects()) if config.round_pushed else None
        self.default = store.get_billing_settings().rounding if config.round_pushed else None

    def for_ticket(self, ticket: str, project_id: str | None) -> Rounding | None:
        if self.index is None:
            return None
        project = self.index.for_ticket(ticket, project_id)
        return (project.rounding if project else None) or self.default


def _tasks_to_push(
    store: Storage,
    *,
    start: datetime | None,
    end: datetime | None,
    ticket: str | None,
    tz: object,
) -> list[ManualTask]:
    """Manual entries with a ticket (never those without), in the range."""
    if start is not None and end is not None:
        first = local_date(start, tz)  # type: ignore[arg-type]
        last = local_date(end - timedelta(microseconds=1), tz)  # type: ignore[arg-type]
        tasks = store.manual_tasks_between(first, last)
    else:
        tasks = store.get_manual_tasks()
    found = []
    for task in tasks:
        if not task.ticket_number or task.duration.total_seconds() <= 0:
            continue
        if ticket is not None and task.ticket_number != ticket:
            continue
        if not in_range(manual_started(task, tz), start, end):
            continue
        found.append(task)
    return sorted(found, key=lambda t: (t.date, t.ticket_number or "", t.task_id))
