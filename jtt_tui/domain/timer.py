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
from datetime import datetime, tzinfo

from jtt_tui.domain.calendar import to_local
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
    notes: list[str] = field(default_factory=list)  # what else the change did (a trim …)

    @property
    def changed(self) -> list[Session]:
        return [*self.paused, self.session]


class TimerMachine:
    def __init__(
        self, clock: Clock, *, allow_concurrent: bool = False, tz: tzinfo | None = None
    ) -> None:
        self.clock = clock
        self.tz = tz  # for the times in messages (None: the system's zone)
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
        so a running one is paused first — at ``at``: the work switched then."""
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
        last_end = session.last_end
        if at is not None and last_end is not None and start_at < last_end:
            raise DomainError(
                f"{session.ticket_number}'s last segment ends at {self._when(last_end)}: a "
                f"start at {self._when(start_at)} would overlap it"
            )
        session = _open_segment(session, start_at)
        return TimerChange(session, self._pause_others(session.ticket_number, active, start_at))

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

    def pause(self, session: Session, *, at: datetime | None = None) -> Session:
        if session.status != RUNNING:
            raise IllegalTransition(
                session.ticket_number, session.status, "pause", "only a running timer can be paused"
            )
        return _close(session, self._end_time(session, at, "pause"), PAUSED)

    def stop(self, session: Session, *, at: datetime | None = None) -> Session:
        if session.status not in (RUNNING, PAUSED):
            raise IllegalTransition(
                session.ticket_number,
                session.status,
                "stop",
                "only a running or paused timer can be stopped",
            )
        return _close(session, self._end_time(session, at, "stop"), STOPPED)

    def complete(self, session: Session, *, at: datetime | None = None) -> Session:
        if session.status == COMPLETED:
            raise IllegalTransition(
                session.ticket_number, session.status, "complete", "it is already completed"
            )
        return _close(session, self._end_time(session, at, "complete"), COMPLETED)

    def confirm(self, session: Session) -> Session:
        """The user says the running timer is real work, however long it has
        run (the forgotten-timer question): not asked again, and it may close
        longer than a day."""
        open_segment = session.open_segment
        if open_segment is None:
            raise IllegalTransition(
                session.ticket_number, session.status, "keep", "only a running timer can be kept"
            )
        segments = [
            *session.segments[:-1],
            open_segment.model_copy(update={"confirmed": self.clock.now()}),
        ]
        return _validated(session, segments=segments)

    def add_segment(
        self, session: Session | None, ticket_number: str, start: datetime, end: datetime
    ) -> Session:
        """A finished stretch of past work on ``ticket_number`` (a new, stopped
        session when it has none), in time order among its segments."""
        now = self.clock.now()
        start, end = _aware(start), _aware(end)
        if end <= start:
            raise DomainError("the end must come after the start")
        if end > now:
            raise DomainError("added time cannot end in the future")
        if session is None:
            session = Session.model_validate({"ticket_number": ticket_number, "status": STOPPED})
        for segment in session.segments:
            seg_end = segment.end if segment.end is not None else now
            if segment.start < end and start < seg_end:
                end_text = self._when(segment.end) if segment.end else "now (running)"
                raise DomainError(
                    f"{session.ticket_number} already has time then "
                    f"({self._when(segment.start)}–{end_text})"
                )
        segments = sorted([*session.segments, Segment(start=start, end=end)], key=lambda s: s.start)
        if segments[-1].end is not None and session.status == RUNNING:
            raise DomainError(
                f"{session.ticket_number} is running: added time must end before its timer started"
            )
        return _validated(session, segments=segments)

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
        self._check_neighbours(session, index, start, end)
        segments: list[Segment | dict[str, object]] = list(session.segments)
        # the invoice and Jira links stay: a changed pushed segment is re-sent
        segments[index] = {**old.model_dump(), "start": start, "end": end}
        return _validated(session, segments=segments)

    def _check_neighbours(
        self, session: Session, index: int, start: datetime, end: datetime | None
    ) -> None:
        """Segments of one ticket stay apart and in order: say which one is
        in the way (numbered as ``jtt edit`` lists them)."""
        number = index + 1
        if index > 0:
            before = session.segments[index - 1]
            if before.end is not None and start < before.end:
                raise DomainError(
                    f"segment {number} of {session.ticket_number} would start at "
                    f"{self._when(start)}, before segment {number - 1} ends "
                    f"({self._when(before.end)}): end that one earlier first, or start later"
                )
        if index + 1 < len(session.segments) and end is not None:
            after = session.segments[index + 1]
            if end > after.start:
                raise DomainError(
                    f"segment {number} of {session.ticket_number} would end at "
                    f"{self._when(end)}, after segment {number + 1} starts "
                    f"({self._when(after.start)}): start that one later first, or end earlier"
                )

    def delete_segment(self, session: Session, index: int) -> Session:
        """Remove a finished segment (the running one must be stopped first)."""
        _check_index(session, index)
        if session.segments[index].end is None:
            raise DomainError("stop or pause the timer before deleting its running segment")
        segments = [seg for i, seg in enumerate(session.segments) if i != index]
        return _validated(session, segments=segments)

    # -- helpers --------------------------------------------------------------------

    def _when(self, moment: datetime) -> str:
        """A time for a message, in local time: ``09:15`` today, else with the day."""
        local = to_local(moment, self.tz)
        if local.date() == to_local(self.clock.now(), self.tz).date():
            return f"{local:%H:%M}"
        return f"{local:%Y-%m-%d %H:%M}"

    def _check_start_time(self, at: datetime | None, now: datetime) -> datetime:
        if at is None:
            return now
        at = _aware(at)
        if at > now:
            raise DomainError(f"a timer cannot start in the future ({self._when(at)})")
        return at

    def _end_time(self, session: Session, at: datetime | None, verb: str) -> datetime:
        """When the running segment ends: now, or ``at`` (not in the future,
        not before the segment began)."""
        now = self.clock.now()
        if at is None:
            return now
        at = _aware(at)
        if at > now:
            raise DomainError(f"cannot {verb} {session.ticket_number} in the future")
        open_segment = session.open_segment
        if open_segment is None:
            last = session.last_end
            since = f" since {self._when(last)}" if last else ""
            raise DomainError(
                f"{session.ticket_number} is not running (it is {session.status}{since}): a time "
                f"only ends a running timer; to change when it ended, `jtt edit "
                f"{session.ticket_number}`"
            )
        if at < open_segment.start:
            raise DomainError(
                f"cannot {verb} {session.ticket_number} at {self._when(at)}: its timer "
                f"only started at {self._when(open_segment.start)}"
            )
        return at

    def _pause_others(
        self, ticket_number: str, active: Iterable[Session], at: datetime
    ) -> list[Session]:
        running = [s for s in active if s.status == RUNNING and s.ticket_number != ticket_number]
        if self.allow_concurrent:
            return []
        for session in running:
            open_segment = session.open_segment
            if open_segment is not None and at < open_segment.start:
                raise DomainError(
                    f"{session.ticket_number} has been running since "
                    f"{self._when(open_segment.start)}, after the start you gave "
                    f"({self._when(at)}): a new timer would run over it. Add the earlier "
                    f"time on its own (`jtt add {ticket_number} --from … --to …`)"
                )
        return [_close(s, at, PAUSED) for s in running]


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
        if now <= open_seg.start:
            segments.pop()  # ended as it began: no empty segment is kept
        else:
            segments[-1] = open_seg.model_copy(update={"end": now})
    return _validated(session, segments=segments, status=status)
