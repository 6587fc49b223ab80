"""The worklog links on our records: a unit's :class:`WorklogLink` on its
segments (or its manual entry) as it is read, claimed and saved in the
store, and the link a unit gets at each step of a push — pending (on its
way, or queued), pushed, or gone from Jira. No Jira call here: sending is
``jira_push``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from jtt_tui.domain.models import ManualTask, Session, WorklogLink, WorklogState
from jtt_tui.services.jira_plan import PushUnit
from jtt_tui.storage.errors import ConflictError, NotFoundError, redact

if TYPE_CHECKING:
    from jtt_tui.storage.base import Storage

R = TypeVar("R", Session, ManualTask)


def with_link(session: Session, starts: Iterable[datetime], link: WorklogLink | None) -> Session:
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
    return with_link(record, unit.starts, link)


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


def claim(store: Storage, unit: PushUnit, link: WorklogLink) -> None:
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


def pending_link(unit: PushUnit, now: datetime, error: str = "") -> WorklogLink:
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


def mark_queued(store: Storage, unit: PushUnit, now: datetime, why: str) -> None:
    link = unit.link
    if link is not None and link.state == WorklogState.PENDING:
        if link.error != why[:500]:
            save_link(store, unit, link.model_copy(update={"error": why[:500]}))
        return
    save_link(store, unit, pending_link(unit, now, redact(why)[:500]))


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


def pushed_worklogs(session: Session, starts: Iterable[datetime] | None) -> dict[str, str]:
    """worklog id -> issue of the segments' worklogs in Jira (all when no starts)."""
    wanted = set(starts) if starts is not None else None
    return {
        seg.worklog.worklog_id: seg.worklog.issue
        for seg in session.segments
        if seg.worklog is not None
        and seg.worklog.worklog_id is not None
        and (wanted is None or seg.start in wanted)
    }


def pushed_links(session: Session, starts: Iterable[datetime] | None = None) -> int:
    return len(pushed_worklogs(session, starts))
