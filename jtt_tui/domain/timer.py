"""The timer state machine.

A timer is a :class:`Session` whose last segment is open; its duration is
always derived from segment timestamps, so time keeps counting while the app
is closed or the SSH link is down.

Transitions (anything else raises :class:`IllegalTransition`)::

    start     (new) | paused | stopped | completed -> running   (a new segment)
    resume    paused | stopped                    -> running
    pause     running                             -> paused
    stop      running | paused                    -> stopped
    complete  running | paused | stopped          -> completed

Starting or resuming one ticket while another runs pauses the other
("switch"), unless concurrent timers are allowed.

Every method returns new :class:`Session` objects and never mutates its
arguments; the caller persists them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from jtt_tui.domain.clock import Clock, truncate_ms
from jtt_tui.domain.errors import DomainError, IllegalTransition
from jtt_tui.domain.models import Segment, Session, SessionStatus

RUNNING = SessionStatus.RUNNING
PAUSED = SessionStatus.PAUSED
STOPPED = SessionStatus.STOPPED
COMPLETED = SessionStatus.COMPLETED


@dataclass(frozen=True)
class TimerChange:
    """The outcome of starting/resuming: the session now running plus the
    sessions that were paused to make room for it."""

    session: Session
    paused: list[Session] = field(default_factory=list)

    @property
    def changed(self) -> list[Session]:
        return [*self.paused, self.session]


class TimerMachine:
    def __init__(self, clock: Clock, *, allow_concurrent: bool = False) -> None:
        self.clock = clock
        self.allow_concurrent = allow_concurrent

    # -- starting -----------------------------------------------------------------

    def start(
        self,
        ticket_number: str,
        *,
        existing: Session | None = None,
        active: Iterable[Session] = (),
        at: datetime | None = None,
        **fields: object,
    ) -> TimerChange:
        """Start timing ``ticket_number`` now (or at ``at``, which may be in the
        past but not the future). ``fields`` (name, project, tags, notes …) are
        applied to the session; ``active`` are the other running/paused sessions,
        so a running one can be paused first."""
        now = self.clock.now()
        start_at = self._check_start_time(at, now)
        if existing is None:
            session = Session.model_validate(
                {"ticket_number": ticket_number, "status": STOPPED, **fields}
            )
        else:
            if existing.status == RUNNING:
                raise IllegalTransition(
                    existing.ticket_number, existing.status, "start", "it is already running"
                )
            session = _with(existing, **fields) if fields else existing
        session = _open_segment(session, start_at)
        return TimerChange(session, self._pause_others(session.ticket_number, active, now))

    def resume(self, session: Session, *, active: Iterable[Session] = ()) -> TimerChange:
        if session.status not in (PAUSED, STOPPED):
            hint = (
                "use start to reopen it" if session.status == COMPLETED else "it is already running"
            )
            raise IllegalTransition(session.ticket_number, session.status, "resume", hint)
        now = self.clock.now()
        resumed = _open_segment(session, now)
        return TimerChange(resumed, self._pause_others(session.ticket_number, active, now))

    # -- ending ---------------------------------------------------------------------

    def pause(self, session: Session) -> Session:
        if session.status != RUNNING:
            raise IllegalTransition(
                session.ticket_number, session.status, "pause", "only a running timer can be paused"
            )
        return _close(session, self.clock.now(), PAUSED)

    def stop(self, session: Session) -> Session:
        if session.status not in (RUNNING, PAUSED):
            raise IllegalTransition(
                session.ticket_number,
                session.status,
                "stop",
                "only a running or paused timer can be stopped",
            )
        return _close(session, self.clock.now(), STOPPED)

    def complete(self, session: Session) -> Session:
        if session.status == COMPLETED:
            raise IllegalTransition(
                session.ticket_number, session.status, "complete", "it is already completed"
            )
        return _close(session, self.clock.now(), COMPLETED)

    def apply(self, session: Session, status: SessionStatus | str) -> Session:
        """Move ``session`` to ``status`` by the matching transition (no
        switching of other timers: use :meth:`start`/:meth:`resume` for that)."""
        target = SessionStatus(status)
        if target == RUNNING:
            if session.status == COMPLETED:
                return self.start(session.ticket_number, existing=session).session
            return self.resume(session).session
        return {PAUSED: self.pause, STOPPED: self.stop, COMPLETED: self.complete}[target](session)

    # -- editing --------------------------------------------------------------------

    def set_running_start(self, session: Session, new_start: datetime) -> Session:
        """Move the start of the running segment (people forget to start the
        timer). It may not go into the future or before the previous segment."""
        if session.status != RUNNING:
            raise IllegalTransition(
                session.ticket_number,
                session.status,
                "change the start of",
                "only a running timer has one",
            )
        index = len(session.segments) - 1
        return self.edit_segment(session, index, start=new_start, end=None)

    def edit_segment(
        self, session: Session, index: int, *, start: datetime, end: datetime | None
    ) -> Session:
        """Replace segment ``index``'s times; the result must still be a valid,
        non-overlapping history. Only the open (last) segment may stay open."""
        _check_index(session, index)
        now = self.clock.now()
        start = self._check_start_time(start, now)
        old = session.segments[index]
        if old.end is not None and end is None:
            raise DomainError("a finished segment needs an end time")
        if old.end is None and end is not None:
            raise DomainError("stop or pause the timer to end its running segment")
        if end is not None:
            end = _aware(end)
            if end > now:
                raise DomainError("a segment cannot end in the future")
        segments: list[Segment | dict[str, object]] = list(session.segments)
        # the invoice and Jira links stay: a changed pushed segment is re-sent
        segments[index] = {**old.model_dump(), "start": start, "end": end}
        return _validated(session, segments=segments)

    def delete_segment(self, session: Session, index: int) -> Session:
        """Remove a finished segment (the running one must be stopped first)."""
        _check_index(session, index)
        if session.segments[index].end is None:
            raise DomainError("stop or pause the timer before deleting its running segment")
        segments = [seg for i, seg in enumerate(session.segments) if i != index]
        return _validated(session, segments=segments)

    # -- helpers --------------------------------------------------------------------

    def _check_start_time(self, at: datetime | None, now: datetime) -> datetime:
        if at is None:
            return now
        at = _aware(at)
        if at > now:
            raise DomainError(f"a timer cannot start in the future ({at:%Y-%m-%d %H:%M} UTC)")
        return at

    def _pause_others(
        self, ticket_number: str, active: Iterable[Session], now: datetime
    ) -> list[Session]:
        running = [s for s in active if s.status == RUNNING and s.ticket_number != ticket_number]
        if self.allow_concurrent:
            return []
        return [_close(s, now, PAUSED) for s in running]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise DomainError("times must carry a timezone")
    return truncate_ms(moment)


def _check_index(session: Session, index: int) -> None:
    if not 0 <= index < len(session.segments):
        raise DomainError(
            f"{session.ticket_number} has no segment number {index + 1} "
            f"(it has {len(session.segments)})"
        )


def _with(session: Session, **changes: object) -> Session:
    data = session.model_dump()
    data.update(changes)
    return Session.model_validate(data)


def _validated(session: Session, **changes: object) -> Session:
    try:
        return _with(session, **changes)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise DomainError(_first_message(exc)) from None


def _first_message(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", exc)).removeprefix("Value error, ")
    return str(exc)


def _open_segment(session: Session, start: datetime) -> Session:
    last_end = session.last_end
    if last_end is not None and start < last_end:
        # A clock behind the last recorded end (another machine, clock skew):
        # never create overlapping history.
        start = last_end
    segments = [*session.segments, Segment(start=start)]
    return _validated(session, segments=segments, status=RUNNING)


def _close(session: Session, now: datetime, status: SessionStatus) -> Session:
    segments = list(session.segments)
    if segments and segments[-1].end is None:
        open_seg = segments[-1]
        segments[-1] = open_seg.model_copy(update={"end": max(now, open_seg.start)})
    return _validated(session, segments=segments, status=status)
