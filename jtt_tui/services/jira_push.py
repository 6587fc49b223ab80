"""Pushing tracked time to Jira as worklogs — idempotently.

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

import logging
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jtt_tui.domain.models import Session, Ticket, WorklogLink, WorklogState
from jtt_tui.jira.client import Estimate, Issue, JiraClient, JiraError, Worklog
from jtt_tui.services.jira_links import (
    Claimed,
    claim,
    gone_link,
    mark_queued,
    pending_link,
    pushed_link,
    pushed_worklogs,
    save_link,
)
from jtt_tui.services.jira_plan import Action, PushOutcome, PushReport, PushUnit
from jtt_tui.services.jira_search import cache_issues, jql_string
from jtt_tui.storage.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from jtt_tui.storage.base import Storage

log = logging.getLogger(__name__)

LOOKUP_WINDOW = timedelta(minutes=1)  # around a unit's start, for the marker lookup


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
    push id), anything else gets :func:`pending_link` — whether the unit is fresh,
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
        pending = pending_link(unit, now)
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
        claim(store, unit, link)  # on disk before anything is sent
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
    delete_worklog(client, issue, worklog_id, adjust)
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


def delete_worklog(client: JiraClient, issue: str, worklog_id: str, adjust: Estimate | str) -> None:
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
            jql = "key in (" + ", ".join(jql_string(k) for k in chunk) + ")"
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
                    mark_queued(store, rest, now(), str(exc))
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


def delete_worklogs(
    client: JiraClient, session: Session, starts: Iterable[datetime], adjust: Estimate | str
) -> int:
    """Delete in Jira the worklogs of these segments (before they are
    deleted here); returns how many. A worklog already gone counts as done."""
    pushed = pushed_worklogs(session, starts)
    for worklog_id, issue in pushed.items():
        delete_worklog(client, issue, worklog_id, adjust)
    return len(pushed)
