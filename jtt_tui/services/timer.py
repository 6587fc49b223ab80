"""Timer use cases on top of a store: start, pause, resume, stop, complete,
status. Shared by the CLI and the TUI.

Each action reads what it needs, applies the pure state machine, and saves
with optimistic concurrency; when another process changed a record in
between, the action is re-read and re-applied (never overwritten).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TypeVar

from jtt_tui.domain.calendar import day_bounds, local_date
from jtt_tui.domain.clock import Clock, SystemClock
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import ManualTask, Session, SessionStatus
from jtt_tui.domain.timer import TimerChange, TimerMachine
from jtt_tui.storage.base import Storage
from jtt_tui.storage.errors import ConflictError

T = TypeVar("T")
ATTEMPTS = 5


class NothingToDo(DomainError):
    """The action has no timer to act on (e.g. ``pause`` with none running)."""


@dataclass(frozen=True)
class TimerStatus:
    now: datetime
    active: list[Session]
    today_total: timedelta

    @property
    def running(self) -> list[Session]:
        return [s for s in self.active if s.status == SessionStatus.RUNNING]

    @property
    def paused(self) -> list[Session]:
        return [s for s in self.active if s.status == SessionStatus.PAUSED]


class TimerService:
    def __init__(
        self,
        store: Storage,
        *,
        clock: Clock | None = None,
        allow_concurrent: bool = False,
        tz: tzinfo | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or store.clock or SystemClock()
        self.machine = TimerMachine(self.clock, allow_concurrent=allow_concurrent)
        self.tz = tz  # None: the system's local time zone

    # -- actions ---------------------------------------------------------------------

    def start(
        self,
        ticket_number: str,
        *,
        name: str | None = None,
        project_key: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
        at: datetime | None = None,
    ) -> TimerChange:
        """Start (or restart) ``ticket_number``; a running timer is paused
        first unless concurrent timers are allowed."""
        project_id = self._project_id(project_key) if project_key else None
        tags = list(tags)

        def attempt() -> TimerChange:
            existing = self.store.get_session(ticket_number)
            fields: dict[str, object] = {}
            if name is not None:
                fields["ticket_name"] = name
            elif existing is None:
                known = self.store.get_ticket(ticket_number)
                if known is not None and known.ticket_name:
                    fields["ticket_name"] = known.ticket_name
            if project_id is not None:
                fields["project_id"] = project_id
            if tags:
                fields["tags"] = [*(existing.tags if existing else []), *tags]
            if note:
                fields["notes"] = _append_note(existing.notes if existing else "", note)
            change = self.machine.start(
                ticket_number,
                existing=existing,
                active=self.store.active_sessions(),
                at=at,
                **fields,
            )
            return self._save_change(change)

        return _retry(attempt)

    def resume(self, ticket_number: str | None = None) -> TimerChange:
        """Resume ``ticket_number``, or the most recently paused timer."""

        def attempt() -> TimerChange:
            active = self.store.active_sessions()
            if ticket_number is None:
                paused = [s for s in active if s.status == SessionStatus.PAUSED]
                if not paused:
                    raise NothingToDo("no paused timer to resume (start one with a ticket)")
                session = paused[0]
            else:
                session = self._get(ticket_number)
            return self._save_change(self.machine.resume(session, active=active))

        return _retry(attempt)

    def pause(self, ticket_number: str | None = None) -> list[Session]:
        """Pause ``ticket_number``, or every running timer."""

        def attempt() -> list[Session]:
            if ticket_number is not None:
                targets = [self._get(ticket_number)]
            else:
                targets = [s for s in self.store.active_sessions() if s.status == "running"]
                if not targets:
                    raise NothingToDo("no timer is running")
            return [self.store.save_session(self.machine.pause(s)) for s in targets]

        return _retry(attempt)

    def stop(self, ticket_number: str | None = None) -> Session:
        """Stop ``ticket_number``, or the running (else last paused) timer."""
        return self._finish(ticket_number, self.machine.stop, "stop")

    def complete(self, ticket_number: str | None = None) -> Session:
        """Mark ``ticket_number`` (or the current timer) done."""
        return self._finish(ticket_number, self.machine.complete, "complete")

    # -- editing ---------------------------------------------------------------------

    def edit(
        self,
        ticket_number: str,
        *,
        name: str | None = None,
        project_key: str | None = None,
        tags: Iterable[str] | None = None,
        notes: str | None = None,
        running_start: datetime | None = None,
    ) -> Session:
        """Change a ticket's details; ``project_key`` "" clears the project;
        ``running_start`` moves the start of the running segment."""
        project_id: str | object | None = _UNCHANGED
        if project_key is not None:
            project_id = self._project_id(project_key) if project_key.strip() else None
        tag_list = list(tags) if tags is not None else None

        def attempt() -> Session:
            session = self._get(ticket_number)
            if running_start is not None:
                session = self.machine.set_running_start(session, running_start)
            changes: dict[str, object] = {}
            if name is not None:
                changes["ticket_name"] = name
            if project_id is not _UNCHANGED:
                changes["project_id"] = project_id
            if tag_list is not None:
                changes["tags"] = tag_list
            if notes is not None:
                changes["notes"] = notes
            if changes:
                data = session.model_dump()
                data.update(changes)
                updated = Session.model_validate(data)
            else:
                updated = session
            return self.store.save_session(updated)

        return _retry(attempt)

    def edit_segment(
        self, ticket_number: str, index: int, *, start: datetime, end: datetime | None
    ) -> Session:
        def attempt() -> Session:
            session = self._get(ticket_number)
            return self.store.save_session(
                self.machine.edit_segment(session, index, start=start, end=end)
            )

        return _retry(attempt)

    def delete_segment(self, ticket_number: str, index: int) -> Session:
        def attempt() -> Session:
            session = self._get(ticket_number)
            return self.store.save_session(self.machine.delete_segment(session, index))

        return _retry(attempt)

    def delete(self, ticket_number: str) -> bool:
        """Delete a ticket's timer and all its segments."""
        return self.store.delete_session(ticket_number)

    def add_manual_entry(
        self,
        *,
        title: str,
        duration: timedelta,
        day: date,
        ticket_number: str | None = None,
        project_key: str | None = None,
        billable: bool = True,
        category: str = "",
        description: str = "",
    ) -> ManualTask:
        """Record time by hand; the title defaults to the ticket's name."""
        project_id = self._project_id(project_key) if project_key and project_key.strip() else None
        if not title.strip() and ticket_number:
            known = self.store.get_session(ticket_number) or self.store.get_ticket(ticket_number)
            title = (known.ticket_name if known else "") or ticket_number
        task = ManualTask(
            title=title,
            duration=duration,
            date=day,
            ticket_number=ticket_number or None,
            project_id=project_id,
            billable=billable,
            category=category,
            description=description,
        )
        return self.store.save_manual_task(task)

    def delete_manual_entry(self, task_id: str) -> bool:
        return self.store.delete_manual_task(task_id)

    # -- queries ---------------------------------------------------------------------

    def status(self) -> TimerStatus:
        now = self.clock.now()
        return TimerStatus(
            now=now, active=self.store.active_sessions(), today_total=self.total_on(now)
        )

    def total_on(self, moment: datetime) -> timedelta:
        """Time on the local day holding ``moment``: timed segments (the part
        inside the day) plus manual entries dated that day."""
        day = local_date(moment, self.tz)
        start, end = day_bounds(day, self.tz)
        now = self.clock.now()
        timed = sum(
            (s.elapsed_between(start, end, now) for s in self.store.sessions_between(start, end)),
            timedelta(0),
        )
        manual = sum((t.duration for t in self.store.manual_tasks_between(day, day)), timedelta(0))
        return timed + manual

    # -- helpers ---------------------------------------------------------------------

    def _finish(
        self, ticket_number: str | None, action: Callable[[Session], Session], verb: str
    ) -> Session:
        def attempt() -> Session:
            if ticket_number is not None:
                session = self._get(ticket_number)
            else:
                session = self._current(verb)
            return self.store.save_session(action(session))

        return _retry(attempt)

    def _current(self, verb: str) -> Session:
        active = self.store.active_sessions()
        running = [s for s in active if s.status == SessionStatus.RUNNING]
        if len(running) > 1:
            names = ", ".join(s.ticket_number for s in running)
            raise NothingToDo(f"several timers are running ({names}): say which to {verb}")
        if running:
            return running[0]
        if active:
            return active[0]
        raise NothingToDo(f"no running or paused timer to {verb}")

    def _get(self, ticket_number: str) -> Session:
        session = self.store.get_session(ticket_number)
        if session is None:
            raise NothingToDo(f"no timer for {ticket_number.strip().upper()} yet (start it first)")
        return session

    def _project_id(self, key: str) -> str:
        wanted = key.strip().upper()
        for project in self.store.get_projects():
            if project.key == wanted:
                return project.project_id
        raise DomainError(f"no project with the key {wanted} (see `jtt project list`)")

    def _save_change(self, change: TimerChange) -> TimerChange:
        # Pause the others first: if the second save fails, nothing is left
        # running twice, and the paused timer lost no time.
        paused = [self.store.save_session(s) for s in change.paused]
        session = self.store.save_session(change.session)
        return TimerChange(session=session, paused=paused)


_UNCHANGED = object()


def _append_note(notes: str, note: str) -> str:
    note = note.strip()
    return f"{notes.rstrip()}\n{note}" if notes.strip() else note


def _retry(attempt: Callable[[], T]) -> T:
    for _ in range(ATTEMPTS - 1):
        try:
            return attempt()
        except ConflictError:
            continue  # someone else wrote first: read again and re-apply
    return attempt()
