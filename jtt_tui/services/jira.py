"""Jira: the connection as configured, ticket search (cached for offline
use), and pushing tracked time as worklogs — idempotently.

Push, per unit (a finished segment, or with ``push_mode = "day"`` a ticket's
finished segments of one local day; and each manual entry that names a
ticket):

1. The unit's link (:class:`WorklogLink`) is saved on its segments as
   *pending*, with our push id, before anything is sent: a crash or a timeout
   after this point leaves a record that the push may have happened.
2. A pending link without a worklog id is first looked up in Jira (the
   issue's worklogs near the unit's start, our push id in the worklog's
   ``jtt`` property on Cloud or the ``jtt:<push id>`` comment line on
   Server / DC); only if none is found is a worklog POSTed. A POST that fails in a way that hides
   Jira's answer (timeout, 5xx, dropped connection) is followed by the same
   lookup before anything is sent again.
3. The worklog id and what was sent are saved with the link (*pushed*). A
   pushed unit whose start, length or ticket changed since is PUT again.

Jira down or rate-limiting beyond the retries: the run stops, every unit it
was asked to push stays *pending* (queued) and is sent by the next push (the
app retries on its own). Jira refusing one unit (no permission, no such
issue) marks it *failed* with the reason and the run goes on; a rejected
token stops the run with that message.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

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
from jtt_tui.jira.client import Estimate, Issue, JiraClient, JiraError, Worklog
from jtt_tui.storage.errors import ConflictError, NotFoundError, redact
from jtt_tui.words import count

if TYPE_CHECKING:
    from jtt_tui.config import JiraConfig, Settings
    from jtt_tui.storage.base import Storage

log = logging.getLogger(__name__)
R = TypeVar("R", Session, ManualTask)
PushMode = Literal["segment", "day"]  # JiraConfig.push_mode

TOKEN_SECRET = "jira-token"
JIRA_FLOOR_S = 60  # Jira refuses worklogs under a minute
MANUAL_HOUR = 9  # a manual entry has a day, not a time: Jira gets 09:00 local
LOOKUP_WINDOW = timedelta(minutes=1)  # around a unit's start, for the marker lookup
ATTEMPTS = 8
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]+")
_LUCENE = re.compile(r'[+\-&|!(){}\[\]^"~*?:\\/]')


class JiraNotConfigured(JiraError):
    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


# -- the connection ----------------------------------------------------------------------


def jira_token(config: JiraConfig) -> str | None:
    """JTT_JIRA_TOKEN, else the keyring's."""
    if config.token is not None:
        return config.token.get_secret_value()
    from jtt_tui.secrets import get_secret

    return get_secret(TOKEN_SECRET)


def client_for(settings: Settings, **options: object) -> JiraClient:
    config = settings.jira
    if not config.configured:
        raise JiraNotConfigured(
            "Jira is not set up: run `jtt jira configure --url https://yoursite.atlassian.net "
            "--email you@example.com --token-stdin` (or set JTT_JIRA_URL, JTT_JIRA_EMAIL "
            "and JTT_JIRA_TOKEN)"
        )
    token = jira_token(config)
    if not token:
        raise JiraNotConfigured(
            "no Jira token: run `jtt jira configure --token-stdin` (saved in keyring) or set "
            "JTT_JIRA_TOKEN"
        )
    return JiraClient(
        config.url,
        token,
        email=config.email,
        notify=config.notify_watchers,
        timeout_s=config.timeout_s,
        **options,  # type: ignore[arg-type]
    )


BOUNDED_EXAMPLE = "assignee = currentUser() AND statusCategory != Done ORDER BY updated DESC"


def unbounded_jql(jql: str, *, cloud: bool) -> str | None:
    """Why Jira Cloud would refuse ``jql`` as the default search (its
    /search/jql takes only a query that narrows the issues), or None."""
    if not cloud:
        return None
    condition, _ = split_order(jql)
    if condition.strip():
        return None
    said = "is empty" if not jql.strip() else "only orders the issues"
    return (
        f"the default search {said}: Jira Cloud refuses a search that does not narrow "
        f"the issues; give a condition, e.g. {BOUNDED_EXAMPLE!r}"
    )


def insecure_warning(config: JiraConfig) -> str | None:
    if config.url.startswith("http://"):
        return (
            f"{config.url} is plain http: the token and your worklogs travel unencrypted "
            "(fine for a local test server, not for a real site)"
        )
    return None


# -- pull: search and the offline cache ------------------------------------------------------


def _jql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_order(jql: str) -> tuple[str, str]:
    match = re.search(r"\border\s+by\b", jql, flags=re.IGNORECASE)
    if not match:
        return jql.strip(), ""
    return jql[: match.start()].strip(), jql[match.start() :].strip()


def search_jql(text: str, base: str) -> str:
    """The JQL for what was typed: an issue key finds that issue wherever it
    is; words narrow the default filter with a text search."""
    text = text.strip()
    condition, order = split_order(base)
    if not text:
        return base
    if _KEY.fullmatch(text):
        return f"key = {_jql_string(text.upper())}"
    # Lucene's operators mean something inside text ~ "…" (and a stray one is
    # a 400): searching for words, they are only separators
    words = " ".join(_LUCENE.sub(" ", text).split())
    if not words:
        return base
    clause = f"text ~ {_jql_string(words)}"
    joined = f"({condition}) AND {clause}" if condition else clause
    return f"{joined} {order}".strip()


def search(client: JiraClient, text: str, base: str, *, limit: int = 20) -> list[Issue]:
    jql = search_jql(text, base)
    try:
        return client.search(jql, limit=limit)
    except JiraError as exc:
        if exc.kind == "invalid" and _KEY.fullmatch(text.strip()):
            return []  # Jira answers 400 for a key that does not exist
        raise


def cache_issues(store: Storage, issues: Iterable[Issue]) -> int:
    """Keep the issues as tickets for offline use (one read of the cache,
    a write per new or changed ticket); returns how many changed."""
    known = store.get_tickets()
    changed = 0
    for issue in issues:
        name, status = issue.summary[:200], issue.status[:200]
        current = known.get(issue.key)
        try:
            if current is None:
                store.save_ticket(
                    Ticket(
                        ticket_number=issue.key,
                        ticket_name=name,
                        jira_status=status,
                        jira_done=issue.done,
                        source="jira",
                    )
                )
            elif (current.ticket_name, current.jira_status, current.jira_done) != (
                name,
                status,
                issue.done,
            ):
                store.update_ticket(
                    issue.key, ticket_name=name, jira_status=status, jira_done=issue.done
                )
            else:
                continue
        except ConflictError:
            continue  # another jtt cached it at the same moment: as good as ours
        changed += 1
    return changed


def cached_search(store: Storage, text: str, *, limit: int = 20) -> list[Issue]:
    """The offline answer: cached tickets whose key or summary contain the text."""
    needle = text.strip().lower()
    found = [
        Issue(t.ticket_number, t.ticket_name, t.jira_status)
        for t in store.get_tickets().values()
        if not needle or needle in t.ticket_number.lower() or needle in t.ticket_name.lower()
    ]
    found.sort(key=lambda i: (not i.key.lower().startswith(needle), i.key))
    return found[:limit]


def pull(store: Storage, client: JiraClient, jql: str, *, limit: int = 500) -> tuple[int, int]:
    """Refresh the cache from a JQL search: (issues found, tickets changed)."""
    issues = client.search(jql, limit=limit)
    return len(issues), cache_issues(store, issues)


# -- push ----------------------------------------------------------------------------------


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


def _with_link(session: Session, starts: Iterable[datetime], link: WorklogLink | None) -> Session:
    wanted = set(starts)
    session.segments = [
        seg.model_copy(update={"worklog": link}) if seg.start in wanted else seg
        for seg in session.segments
    ]
    return session


def _set_link(record: R, unit: PushUnit, link: WorklogLink | None) -> R:
    if isinstance(record, ManualTask):
        return record.model_copy(update={"worklog": link})
    assert isinstance(record, Session)
    return _with_link(record, unit.starts, link)


def _links_of(record: Session | ManualTask, unit: PushUnit) -> tuple[WorklogLink | None, ...]:
    if isinstance(record, ManualTask):
        return (record.worklog,)
    current = {seg.start: seg.worklog for seg in record.segments}
    return tuple(current.get(start) for start in unit.starts)


def _modify(store: Storage, unit: PushUnit, change: Callable[[Any], Any]) -> None:
    """Read-modify-write the unit's record (a session, or a manual entry)."""
    if unit.task_id is not None:
        store.modify_manual_task(unit.task_id, change)
    else:
        store.modify_session(unit.issue, change)


def save_link(store: Storage, unit: PushUnit, link: WorklogLink | None) -> None:
    """Put ``link`` on the unit's segments or entry (re-read on a concurrent change)."""
    with suppress(NotFoundError):  # deleted meanwhile: nothing to mark
        _modify(store, unit, lambda record: _set_link(record, unit, link))


class Claimed(Exception):
    """Another jtt changed the unit's links since it was planned: it is
    pushing (or has pushed) this time; leave it to that one."""


def _claim(store: Storage, unit: PushUnit, link: WorklogLink) -> None:
    """Save ``link`` (pending) on the unit's segments only if they still hold
    the links the unit was planned with: a version-checked read-modify-write,
    so of two jtt pushing the same time at once exactly one goes on."""

    def take(record: R) -> R:
        if _links_of(record, unit) != unit.planned:
            raise Claimed("changed meanwhile: another jtt is pushing it")
        if isinstance(record, ManualTask) and record.ticket_number != unit.issue:
            raise Claimed("its ticket changed meanwhile; push again")
        return _set_link(record, unit, link)

    try:
        _modify(store, unit, take)
    except NotFoundError:
        raise Claimed(f"{unit.label} was deleted meanwhile") from None
    except ConflictError:
        raise Claimed("it keeps changing; push again") from None


def _find_marked(client: JiraClient, unit: PushUnit) -> Worklog | None:
    """The worklog this unit's push may have created: on Cloud only the
    worklogs started around the unit's start are read (one small page even on
    an issue with thousands); Server / DC sends them all, page by page."""
    around = unit.link.started if unit.link is not None else unit.started
    for worklog in client.worklogs(
        unit.issue,
        started_after=min(around, unit.started) - LOOKUP_WINDOW,
        started_before=max(around, unit.started) + LOOKUP_WINDOW,
    ):
        if worklog.has_marker(unit.push_id):
            return worklog
    return None


@dataclass(frozen=True)
class PushStart:
    """How a push of a unit begins, decided from its link before anything is sent."""

    link: WorklogLink  # claimed (pending) on the unit's records before sending
    fresh: bool  # never reached Jira: there is no earlier worklog to look for
    moved: tuple[str, str] | None  # (issue, worklog id) on another issue, deleted first


def push_start(unit: PushUnit, now: datetime) -> PushStart:
    """The pending link a push claims — a retry keeps the one it had (and its
    push id), anything else gets :func:`_pending` — whether the unit is fresh,
    and the worklog to delete first when a manual entry moved to another
    ticket (its worklog moves too)."""
    link = unit.link
    fresh = link is None or (link.state == WorklogState.FAILED and link.worklog_id is None)
    moved = (
        (link.issue, link.worklog_id)
        if link is not None and link.worklog_id and link.issue != unit.issue
        else None
    )
    if link is not None and link.state == WorklogState.PENDING:
        pending = link.model_copy(update={"at": now})
    else:
        pending = _pending(unit, now)
    return PushStart(pending, fresh, moved)


def push_unit(
    store: Storage,
    client: JiraClient,
    unit: PushUnit,
    *,
    adjust: Estimate | str,
    now: datetime,
    force: bool = False,
) -> PushOutcome:
    """Send one unit (see the module docstring); ``force`` sends it even when
    it looks up to date (reconcile's "push mine again"). Raises JiraError
    when the run should stop: a rejected token, Jira down or rate-limiting."""
    if unit.up_to_date and not force:
        return PushOutcome(unit, "unchanged")
    begin = push_start(unit, now)
    link, fresh = begin.link, begin.fresh
    try:
        _claim(store, unit, link)  # on disk before anything is sent
    except Claimed as exc:
        return PushOutcome(unit, "skipped", str(exc))
    try:
        if begin.moved is not None:
            link = _move_worklog(store, client, unit, link, begin.moved, adjust=adjust)
            fresh = True
        sent = send_unit(client, unit, link, fresh=fresh, adjust=adjust)
    except JiraError as exc:
        if exc.transient or exc.kind == "auth":
            raise  # stays pending: queued for the next push
        return _refused(store, unit, link, exc, now)
    if sent is None:
        failed = gone_link(link, now)
        save_link(store, unit, failed)
        return PushOutcome(unit, "failed", failed.error)
    worklog, action = sent
    save_link(store, unit, pushed_link(link, unit, worklog.id, now))
    return PushOutcome(unit, action, f"worklog {worklog.id}")


def _move_worklog(
    store: Storage,
    client: JiraClient,
    unit: PushUnit,
    link: WorklogLink,
    moved: tuple[str, str],
    *,
    adjust: Estimate | str,
) -> WorklogLink:
    """Delete the worklog a manual entry had on its former ticket (``moved``:
    that issue and the worklog id); its link, saved, then names the new
    ticket and no worklog (one is created there)."""
    issue, worklog_id = moved
    _delete_worklog(client, issue, worklog_id, adjust)
    link = link.model_copy(update={"worklog_id": None, "issue": unit.issue})
    save_link(store, unit, link)
    return link


def send_unit(
    client: JiraClient, unit: PushUnit, link: WorklogLink, *, fresh: bool, adjust: Estimate | str
) -> tuple[Worklog, Action] | None:
    """Put the unit in Jira: update the worklog the link names; else the one
    an earlier, unanswered try created (looked up by its marker, unless the
    unit is fresh), if it differs; else create one. None when the linked
    worklog no longer exists in Jira."""
    if link.worklog_id is not None:
        try:
            return _update_worklog(client, unit, link.worklog_id, adjust), "updated"
        except JiraError as exc:
            if exc.kind != "not_found":
                raise
            return None
    found = None if fresh else _find_marked(client, unit)
    if found is None:
        return _post_once(client, unit, adjust), "created"
    if (found.seconds, _same_start(found, unit)) != (unit.seconds, True):
        return _update_worklog(client, unit, found.id, adjust), "found"
    return found, "found"


def _update_worklog(
    client: JiraClient, unit: PushUnit, worklog_id: str, adjust: Estimate | str
) -> Worklog:
    """PUT the unit's start, length and comment on that worklog."""
    return client.update_worklog(
        unit.issue,
        worklog_id,
        unit.started,
        unit.seconds,
        unit.comment,
        adjust=adjust,
        push_id=unit.push_id,
    )


def _refused(
    store: Storage, unit: PushUnit, link: WorklogLink, exc: JiraError, now: datetime
) -> PushOutcome:
    """Jira refused this unit (the run goes on): on an issue done in Jira the
    ticket cache learns it and the unit is left as before the claim (not
    sent); any other refusal marks it failed with the reason."""
    if _not_editable(exc):
        _mark_done(store, unit.issue)
        save_link(store, unit, unit.link)  # as before the claim: not sent
        return PushOutcome(unit, "closed", f"{unit.issue} is done in Jira: {exc}")
    failed = link.model_copy(
        update={"state": WorklogState.FAILED, "error": str(exc)[:500], "at": now}
    )
    save_link(store, unit, failed)
    return PushOutcome(unit, "failed", str(exc))


def gone_link(link: WorklogLink, now: datetime) -> WorklogLink:
    """The link of a unit whose worklog was deleted in Jira: failed, with no
    worklog id, so the next push creates a new one."""
    return link.model_copy(
        update={
            "state": WorklogState.FAILED,
            "worklog_id": None,
            "error": f"worklog {link.worklog_id} no longer exists in Jira (deleted "
            "there?); push again to create a new one",
            "at": now,
        }
    )


def pushed_link(link: WorklogLink, unit: PushUnit, worklog_id: str, now: datetime) -> WorklogLink:
    """The link once Jira has the unit: the worklog id and what was sent
    (a later change of the unit's start, length or ticket sends it again)."""
    return link.model_copy(
        update={
            "state": WorklogState.PUSHED,
            "worklog_id": worklog_id,
            "issue": unit.issue,
            "started": unit.started,
            "seconds": unit.seconds,
            "error": "",
            "at": now,
        }
    )


def _same_start(worklog: Worklog, unit: PushUnit) -> bool:
    """Jira answers ``started`` in the user's own offset: compare instants."""
    started = worklog.started_at
    return started is not None and abs((started - unit.started).total_seconds()) < 1


def _not_editable(exc: JiraError) -> bool:
    """Jira's refusal of a worklog on an issue in a done (non-editable) status."""
    return exc.kind == "invalid" and "not editable" in str(exc).lower()


def _mark_done(store: Storage, issue: str) -> None:
    with suppress(NotFoundError, ConflictError):
        if store.get_ticket(issue) is None:
            store.save_ticket(Ticket(ticket_number=issue, jira_done=True, source="jira"))
        else:
            store.update_ticket(issue, jira_done=True)


def _delete_worklog(
    client: JiraClient, issue: str, worklog_id: str, adjust: Estimate | str
) -> None:
    """Delete it in Jira; one already gone there counts as deleted."""
    try:
        client.delete_worklog(issue, worklog_id, adjust=adjust)
    except JiraError as exc:
        if exc.kind != "not_found":
            raise


def _post_once(client: JiraClient, unit: PushUnit, adjust: Estimate | str) -> Worklog:
    """POST the worklog; if the answer is lost (timeout, 5xx, dropped
    connection) look for it before trying again, so it is never created twice."""
    for attempt in range(client.attempts):
        try:
            return client.add_worklog(
                unit.issue,
                unit.started,
                unit.seconds,
                unit.comment,
                adjust=adjust,
                push_id=unit.push_id,
            )
        except JiraError as exc:
            if exc.kind not in ("timeout", "server", "network") or attempt == client.attempts - 1:
                raise
            found = _find_marked(client, unit)
            if found is not None:
                return found
            client.sleep(client.backoff_s * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


STATUS_PAGE = 50  # issue keys per status search


def refresh_done(store: Storage, client: JiraClient, units: list[PushUnit]) -> None:
    """Ask Jira which of the units' issues are done (one search per 50
    issues) and keep the answer in the ticket cache, so that a push skips
    them — the default search leaves done issues out, so the cache alone
    would never learn it. A search Jira refuses (a key it does not know
    makes the whole query a 400) or cannot answer leaves the cache as it
    is: the worklog's own refusal then tells."""
    keys = sorted({u.issue for u in units if not u.up_to_date})
    issues: list[Issue] = []
    try:
        for start in range(0, len(keys), STATUS_PAGE):
            chunk = keys[start : start + STATUS_PAGE]
            jql = "key in (" + ", ".join(_jql_string(k) for k in chunk) + ")"
            issues += client.search(jql, limit=len(chunk))
    except JiraError as exc:
        if exc.kind == "auth":
            raise
        log.info("could not refresh the status of %d issues: %s", len(keys), exc)
    if issues:
        cache_issues(store, issues)
        done = {i.key for i in issues if i.done}
        for unit in units:
            if unit.issue in {i.key for i in issues}:
                unit.closed = unit.issue in done


def push(
    store: Storage,
    client: JiraClient,
    units: list[PushUnit],
    *,
    adjust: Estimate | str = "auto",
    now: Callable[[], datetime],
    on_outcome: Callable[[PushOutcome], None] | None = None,
    include_closed: bool = False,
    force: bool = False,
) -> PushReport:
    """Push the units in order. An issue the ticket cache knows as done is
    skipped (Jira refuses worklogs there) unless ``include_closed``."""
    report = PushReport()
    for position, unit in enumerate(units):
        if unit.closed and not include_closed and not (unit.up_to_date and not force):
            outcome = PushOutcome(
                unit,
                "closed",
                f"{unit.issue} is done in Jira, which takes no worklogs there: skipped "
                "(reopen it, or push with --include-closed to try anyway)",
            )
            report.outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            continue
        try:
            outcome = push_unit(store, client, unit, adjust=adjust, now=now(), force=force)
        except JiraError as exc:
            report.stopped = exc
            for rest in units[position:]:
                if not rest.up_to_date:
                    _queue(store, rest, now(), str(exc))
                    report.outcomes.append(PushOutcome(rest, "queued", str(exc)))
            log.warning(
                "Jira push stopped (%s): %s; %d worklog(s) queued",
                exc.kind,
                exc,
                report.count("queued"),
            )
            return report
        if outcome.action == "failed":
            log.warning("Jira refused the worklog of %s: %s", unit.issue, outcome.detail)
        elif outcome.action != "unchanged":
            log.info("Jira %s: %s %s", unit.issue, outcome.action, outcome.detail)
        report.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return report


def _queue(store: Storage, unit: PushUnit, now: datetime, why: str) -> None:
    link = unit.link
    if link is not None and link.state == WorklogState.PENDING:
        if link.error != why[:500]:
            save_link(store, unit, link.model_copy(update={"error": why[:500]}))
        return
    save_link(store, unit, _pending(unit, now, redact(why)[:500]))


def _pending(unit: PushUnit, now: datetime, error: str = "") -> WorklogLink:
    """The unit's link while on its way: what is being sent, keeping the
    worklog id of an earlier push (so it is updated, not created again)."""
    return WorklogLink(
        push_id=unit.push_id,
        state=WorklogState.PENDING,
        worklog_id=unit.link.worklog_id if unit.link else None,
        issue=unit.issue,
        started=unit.started,
        seconds=unit.seconds,
        error=error,
        at=now,
    )


def _pushed_worklogs(session: Session, starts: Iterable[datetime] | None) -> dict[str, str]:
    """worklog id -> issue of the segments' worklogs in Jira (all when no starts)."""
    wanted = set(starts) if starts is not None else None
    return {
        seg.worklog.worklog_id: seg.worklog.issue
        for seg in session.segments
        if seg.worklog is not None
        and seg.worklog.worklog_id is not None
        and (wanted is None or seg.start in wanted)
    }


def delete_worklogs(
    client: JiraClient, session: Session, starts: Iterable[datetime], adjust: Estimate | str
) -> int:
    """Delete in Jira the worklogs of these segments (before they are
    deleted here); returns how many. A worklog already gone counts as done."""
    pushed = _pushed_worklogs(session, starts)
    for worklog_id, issue in pushed.items():
        _delete_worklog(client, issue, worklog_id, adjust)
    return len(pushed)


def pushed_links(session: Session, starts: Iterable[datetime] | None = None) -> int:
    return len(_pushed_worklogs(session, starts))


# -- for an interface: one object over the settings and the store ------------------------------


@dataclass
class PushSummary:
    pushed: int = 0
    queued: int = 0
    failed: int = 0
    unpushed: int = 0  # finished segments (and manual entries with a ticket) never sent
    kept_local: int = 0  # deleted in Jira and kept here on purpose
    problems: list[tuple[str, datetime, str, str]] = field(default_factory=list)
    # (ticket, segment start, state, reason) of queued and failed segments


class JiraService:
    """What the TUI does with Jira, each call blocking (run it off the UI thread)."""

    def __init__(
        self,
        settings: Settings | None,
        store: Storage,
        *,
        tz: object = None,
        client_options: dict[str, object] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.tz = tz
        self.client_options = client_options or {}

    @property
    def configured(self) -> bool:
        return self.settings is not None and self.settings.jira.configured

    @property
    def config(self) -> JiraConfig:
        from jtt_tui.config import JiraConfig

        return self.settings.jira if self.settings is not None else JiraConfig()

    def client(self, **options: object) -> JiraClient:
        if self.settings is None:
            raise JiraNotConfigured("settings are not available in this session")
        return client_for(self.settings, **{**self.client_options, **options})

    def test(self) -> str:
        with self.client() as client:
            me = client.myself()
        kind = "Jira Cloud" if client.cloud else "Jira Server / Data Center"
        return f"Connected to {kind} as {me.display_name} ({me.account})"

    def search(self, text: str, *, limit: int = 15) -> tuple[list[Issue], str]:
        """Jira's answer (cached for later), or the cache with why when Jira
        cannot be asked: (issues, note)."""
        if not self.configured:
            return cached_search(self.store, text, limit=limit), ""
        try:
            # interactive: one quick retry at most, then the cache
            with self.client(attempts=2, backoff_s=0.3) as client:
                issues = search(client, text, self.config.jql, limit=limit)
        except JiraNotConfigured as exc:
            return cached_search(self.store, text, limit=limit), str(exc)
        except JiraError as exc:
            if exc.kind == "auth":
                raise
            why = f"offline: {exc}" if exc.transient else f"{exc}; showing cached tickets"
            return cached_search(self.store, text, limit=limit), why
        cache_issues(self.store, issues)
        return issues, ""

    def push(
        self,
        *,
        ticket: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        only_pending: bool = False,
        only_linked: bool = False,
        include_closed: bool = False,
    ) -> PushReport:
        """Push as planned; ``only_linked`` re-sends only time already sent
        (or on its way): an edit, never a first push."""
        units = [
            u
            for u in plan(
                self.store,
                self.config,
                ticket=ticket,
                start=start,
                end=end,
                tz=self.tz,
                only_pending=only_pending,
            )
            if not u.up_to_date and (u.link is not None or not only_linked)
        ]
        if not units:
            return PushReport()
        with self.client() as client:
            if not include_closed:
                refresh_done(self.store, client, units)
            return push(
                self.store,
                client,
                units,
                adjust=self.config.estimate,
                now=self.store.clock.now,
                include_closed=include_closed,
            )

    def delete_worklogs(self, session: Session, starts: Iterable[datetime]) -> int:
        """Delete these segments' worklogs in Jira, then forget the links here
        (so an undo of the deletion brings the time back unpushed, and the
        next push sends it again instead of believing Jira still has it)."""
        starts = list(starts)
        with self.client() as client:
            count = delete_worklogs(client, session, starts, self.config.estimate)
        with suppress(NotFoundError):
            self.store.modify_session(
                session.ticket_number, lambda current: _with_link(current, starts, None)
            )
        return count

    def delete_task_worklog(self, task: ManualTask) -> int:
        """Delete a manual entry's worklog in Jira (before the entry is
        deleted here); returns how many (0 or 1)."""
        link = task.worklog
        if link is None or link.worklog_id is None:
            return 0
        with self.client() as client:
            _delete_worklog(client, link.issue, link.worklog_id, self.config.estimate)
        return 1

    def summary(self) -> PushSummary:
        summary = PushSummary()
        links: list[tuple[str, datetime, WorklogLink | None]] = [
            (session.ticket_number, seg.start, seg.worklog)
            for session in self.store.get_sessions().values()
            for seg in session.segments
            if seg.end is not None
        ]
        links += [
            (task.ticket_number, manual_started(task, self.tz), task.worklog)
            for task in self.store.get_manual_tasks()
            if task.ticket_number
        ]
        for ticket, start, link in links:
            if link is None:
                summary.unpushed += 1
            elif link.state == WorklogState.PUSHED:
                summary.pushed += 1
            elif link.state == WorklogState.LOCAL:
                summary.kept_local += 1
            else:
                if link.state == WorklogState.PENDING:
                    summary.queued += 1
                else:
                    summary.failed += 1
                summary.problems.append((ticket, start, link.state.value, link.error))
        summary.problems.sort(key=lambda p: p[1], reverse=True)
        return summary


def describe(report: PushReport) -> str:
    """One line for a toast."""
    parts = [f"{count(report.sent, 'worklog')} sent"]
    if report.count("failed"):
        first = next(o for o in report.outcomes if o.action == "failed")
        parts.append(f"{report.count('failed')} failed ({first.unit.issue}: {first.detail})")
    if report.count("queued"):
        parts.append(f"{report.count('queued')} queued: {report.stopped}")
    if report.count("skipped"):
        parts.append(f"{report.count('skipped')} left to another jtt pushing them")
    if report.count("closed"):
        closed = sorted({o.unit.issue for o in report.outcomes if o.action == "closed"})
        parts.append(
            f"{report.count('closed')} skipped: {', '.join(closed[:3])} done in Jira "
            "(`jtt jira push --include-closed` tries anyway)"
        )
    if not report.outcomes:
        return "Nothing to push: Jira is up to date."
    return redact("; ".join(parts))
