"""Timer use cases on top of a store: start, pause, resume, stop, complete,
add and edit time, status. Shared by the CLI and the TUI.

Each action reads what it needs, applies the pure state machine, and hands
the change to the :class:`Ledger`, which checks the timeline and the billing
lock, journals it (for undo) and writes it as one unit; when another process
changed a record in between, the action is planned again on the fresh state
(never overwritten).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import day_bounds, local_date, local_datetime, to_local
from jtt_tui.domain.clock import Clock, SystemClock
from jtt_tui.domain.durations import format_span
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import Invoice, ManualTask, Session, SessionStatus
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.domain.timeline import Piece, shared_segments
from jtt_tui.domain.timer import TimerChange, TimerMachine
from jtt_tui.domain.timer_lists import (
    PAGE,
    RecentPage,
    TimerLists,
    bill_marks,
    recent_page,
    session_row,
    top_rows,
)
from jtt_tui.domain.workday import TimerRules
from jtt_tui.services.ledger import Change, Committed, Ledger, LedgerRules, Plan
from jtt_tui.storage.base import Storage
from jtt_tui.storage.kinds import MANUAL_TASKS, SESSIONS


class NothingToDo(DomainError):
    """The action has no timer to act on (e.g. ``pause`` with none running)."""


@dataclass(frozen=True)
class Suspicious:
    """A timer that has run suspiciously long, or across midnight."""

    session: Session
    since: datetime  # the running segment's start
    length: timedelta
    reason: str  # "running for 14h 05m" / "running since yesterday 17:30"
    suggested_end: datetime  # the last activity seen, or the end of that working day

    @property
    def ticket(self) -> str:
        return self.session.ticket_number


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
        ledger: Ledger | None = None,
        rules: TimerRules | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or store.clock or SystemClock()
        self.tz = tz  # None: the system's local time zone
        self.machine = TimerMachine(self.clock, allow_concurrent=allow_concurrent, tz=tz)
        # several timers at once are overlapping time by definition
        self.ledger = ledger or Ledger(
            store, rules=LedgerRules(allow_overlap=allow_concurrent), clock=self.clock, tz=tz
        )
        self.rules = rules or TimerRules()

    # -- starting and switching ---------------------------------------------------------

    def start(
        self,
        ticket_number: str,
        *,
        name: str | None = None,
        project_key: str | None = None,
        tags: Iterable[str] = (),
        note: str | None = None,
        at: datetime | None = None,
        trim: bool = False,
        force: bool = False,
    ) -> TimerChange:
        """Start (or restart) ``ticket_number`` now or ``at`` an earlier time;
        a running timer is paused first — at that same time — unless
        concurrent timers are allowed."""
        ticket = _ticket(ticket_number)
        project_id = self._project_id(project_key) if project_key else None
        tags = list(tags)
        planned: list[TimerChange] = []

        def plan() -> Plan:
            existing = self.store.get_session(ticket)
            fields: dict[str, object] = {}
            if name is not None:
                fields["ticket_name"] = name
            elif existing is None:
                known = self.store.get_ticket(ticket)
                if known is not None and known.ticket_name:
                    fields["ticket_name"] = known.ticket_name
            if project_id is not None:
                fields["project_id"] = project_id
            if tags:
                fields["tags"] = [*(existing.tags if existing else []), *tags]
            if note:
                fields["notes"] = _append_note(existing.notes if existing else "", note)
            active = self.store.active_sessions()
            change = self.machine.start(ticket, existing=existing, active=active, at=at, **fields)
            planned[:] = [change]
            was = {s.ticket_number: s for s in active}
            changes = [
                Change(SESSIONS, s.ticket_number, was[s.ticket_number], s) for s in change.paused
            ]
            changes.append(Change(SESSIONS, ticket, existing, change.session))
            return Plan("start", self._describe_start(change, at), changes)

        done = self.ledger.apply(plan, force=force, trim=trim)
        return self._timer_change(done, planned[0])

    def resume(self, ticket_number: str | None = None) -> TimerChange:
        """Resume ``ticket_number``, or the most recently paused timer."""
        planned: list[TimerChange] = []

        def plan() -> Plan:
            active = self.store.active_sessions()
            if ticket_number is None:
                paused = [s for s in active if s.status == SessionStatus.PAUSED]
                if not paused:
                    raise NothingToDo("no paused timer to resume (start one with a ticket)")
                session = paused[0]
            else:
                session = self._get(ticket_number)
            change = self.machine.resume(session, active=active)
            planned[:] = [change]
            was = {s.ticket_number: s for s in active}
            changes = [
                Change(SESSIONS, s.ticket_number, was[s.ticket_number], s) for s in change.paused
            ]
            changes.append(Change(SESSIONS, session.ticket_number, session, change.session))
            paused_text = _paused_text(change)
            return Plan("resume", f"resume {session.ticket_number}{paused_text}", changes)

        done = self.ledger.apply(plan)
        return self._timer_change(done, planned[0])

    # -- ending ----------------------------------------------------------------------

    def pause(
        self, ticket_number: str | None = None, *, at: datetime | None = None, force: bool = False
    ) -> list[Session]:
        """Pause ``ticket_number``, or every running timer (now or ``at``)."""

        def plan() -> Plan:
            if ticket_number is not None:
                targets = [self._get(ticket_number)]
            else:
                targets = [s for s in self.store.active_sessions() if s.status == "running"]
                if not targets:
                    raise NothingToDo("no timer is running")
            changes = [
                Change(SESSIONS, s.ticket_number, s, self.machine.pause(s, at=at)) for s in targets
            ]
            names = ", ".join(s.ticket_number for s in targets)
            return Plan("pause", f"pause {names}{self._at(at)}", changes)

        done = self.ledger.apply(plan, force=force)
        return [s for s in _sessions(done) if s.status == SessionStatus.PAUSED]

    def stop(
        self, ticket_number: str | None = None, *, at: datetime | None = None, force: bool = False
    ) -> Session:
        """Stop ``ticket_number``, or the running (else last paused) timer."""
        return self._finish(ticket_number, "stop", at, force)

    def complete(
        self, ticket_number: str | None = None, *, at: datetime | None = None, force: bool = False
    ) -> Session:
        """Mark ``ticket_number`` (or the current timer) done."""
        return self._finish(ticket_number, "complete", at, force)

    def _finish(
        self, ticket_number: str | None, verb: str, at: datetime | None, force: bool
    ) -> Session:
        def plan() -> Plan:
            session = self._get(ticket_number) if ticket_number is not None else self._current(verb)
            action = self.machine.stop if verb == "stop" else self.machine.complete
            after = action(session, at=at)
            return Plan(
                verb,
                f"{verb} {session.ticket_number}{self._at(at)}",
                [Change(SESSIONS, session.ticket_number, session, after)],
            )

        return _sessions(self.ledger.apply(plan, force=force))[0]

    # -- adding and editing time -------------------------------------------------------

    def add(
        self,
        ticket_number: str,
        start: datetime,
        end: datetime,
        *,
        name: str | None = None,
        trim: bool = False,
        force: bool = False,
    ) -> TimerChange:
        """A past stretch of work on a ticket (e.g. a forgotten timer)."""
        ticket = _ticket(ticket_number)

        def plan() -> Plan:
            existing = self.store.get_session(ticket)
            name_of: str | None = name
            if existing is None and name is None:
                known = self.store.get_ticket(ticket)
                name_of = known.ticket_name if known else ""
            session = self.machine.add_segment(existing, ticket, start, end)
            if name_of is not None and name_of != session.ticket_name:
                session = session.model_copy(update={"ticket_name": name_of})
            piece = Piece(ticket, start, end)
            text = (
                f"add {piece.describe(self.tz, now=self.clock.now())} ({format_span(end - start)})"
            )
            return Plan("add", text, [Change(SESSIONS, ticket, existing, session)])

        done = self.ledger.apply(plan, force=force, trim=trim)
        return TimerChange(done.get(SESSIONS, ticket), [], list(done.notes))

    def edit(
        self,
        ticket_number: str,
        *,
        name: str | None = None,
        project_key: str | None = None,
        tags: Iterable[str] | None = None,
        notes: str | None = None,
        running_start: datetime | None = None,
        said: list[str] | None = None,
    ) -> Session:
        """Change a ticket's details; ``project_key`` "" clears the project;
        ``running_start`` moves the start of the running segment."""
        project_id: str | object | None = _UNCHANGED
        if project_key is not None:
            project_id = self._project_id(project_key) if project_key.strip() else None
        tag_list = list(tags) if tags is not None else None

        def plan() -> Plan:
            session = self._get(ticket_number)
            updated = session
            what = []
            if running_start is not None:
                updated = self.machine.set_running_start(updated, running_start)
                if updated != session:
                    what.append("running start")
            changes: dict[str, object] = {}
            for field_name, value in (
                ("ticket_name", name),
                ("tags", tag_list),
                ("notes", notes),
            ):
                if value is not None and value != getattr(session, field_name):
                    changes[field_name] = value
            if project_id is not _UNCHANGED and project_id != session.project_id:
                changes["project_id"] = project_id
            if changes:
                data = updated.model_dump()
                data.update(changes)
                updated = Session.model_validate(data)
                what += [c.replace("ticket_name", "name").replace("_id", "") for c in changes]
            text = f"edit {session.ticket_number}" + (f" ({', '.join(what)})" if what else "")
            return Plan("edit", text, [Change(SESSIONS, session.ticket_number, session, updated)])

        done = self.ledger.apply(plan)
        _say(said, done)
        return _sessions(done)[0]

    def edit_segment(
        self,
        ticket_number: str,
        index: int,
        *,
        start: datetime,
        end: datetime | None,
        trim: bool = False,
        force: bool = False,
        said: list[str] | None = None,
    ) -> Session:
        """New times for segment ``index`` (0 = the oldest) of a ticket."""

        def plan() -> Plan:
            session = self._get(ticket_number)
            updated = self.machine.edit_segment(session, index, start=start, end=end)
            old = session.segments[index]
            now = self.clock.now()
            was = Piece(session.ticket_number, old.start, old.end).describe(self.tz, now=now)
            new = Piece("", start, end).describe(self.tz, now=now).strip()
            return Plan(
                "edit-segment",
                f"edit {was} → {new}",
                [Change(SESSIONS, session.ticket_number, session, updated)],
            )

        done = self.ledger.apply(plan, force=force, trim=trim)
        _say(said, done)
        return _sessions(done)[0]

    def delete_segment(
        self, ticket_number: str, index: int, *, said: list[str] | None = None
    ) -> Session:
        def plan() -> Plan:
            session = self._get(ticket_number)
            updated = self.machine.delete_segment(session, index)
            old = session.segments[index]
            piece = Piece(session.ticket_number, old.start, old.end)
            return Plan(
                "delete-segment",
                f"delete {piece.describe(self.tz, now=self.clock.now())}",
                [Change(SESSIONS, session.ticket_number, session, updated)],
            )

        done = self.ledger.apply(plan)
        _say(said, done)
        return _sessions(done)[0]

    def delete(self, ticket_number: str, *, said: list[str] | None = None) -> bool:
        """Delete a ticket's timer and all its segments."""

        def plan() -> Plan:
            session = self._get(ticket_number)
            count = len(session.segments)
            return Plan(
                "delete",
                f"delete {session.ticket_number} and its {count} segment{'s' * (count != 1)}",
                [Change(SESSIONS, session.ticket_number, session, None)],
            )

        try:
            done = self.ledger.apply(plan)
        except NothingToDo:
            return False
        _say(said, done)
        return True

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
        on = f" on {task.ticket_number}" if task.ticket_number else ""
        text = f"add {format_span(duration)} by hand{on}: {task.title} ({task.date})"
        done = self.ledger.apply(
            lambda: Plan("add-manual", text, [Change(MANUAL_TASKS, task.task_id, None, task)])
        )
        stored = done.get(MANUAL_TASKS, task.task_id)
        assert isinstance(stored, ManualTask)
        return stored

    def delete_manual_entry(self, task_id: str, *, said: list[str] | None = None) -> bool:
        def plan() -> Plan:
            task = self.store.get_manual_task(task_id)
            if task is None:
                raise NothingToDo("that manual entry no longer exists")
            what = f"{task.title!r} ({format_span(task.duration)}, {task.date})"
            return Plan(
                "delete-manual",
                f"delete the manual entry {what}",
                [Change(MANUAL_TASKS, task_id, task, None)],
            )

        try:
            done = self.ledger.apply(plan)
        except NothingToDo:
            return False
        _say(said, done)
        return True

    # -- forgotten timers ----------------------------------------------------------------

    def suspicious(
        self, last_activity: datetime | None = None, *, as_of: datetime | None = None
    ) -> list[Suspicious]:
        """Running timers that have run longer than ``forgotten_after`` or
        across local midnight (since the user last said they were real) —
        by now, or by ``as_of`` (a switch backdated to then)."""
        found = []
        for session in self.store.active_sessions():
            reason = self.looks_forgotten(session, as_of=as_of)
            segment = session.open_segment
            if reason is None or segment is None:
                continue
            found.append(
                Suspicious(
                    session,
                    segment.start,
                    (as_of or self.clock.now()) - segment.start,
                    reason,
                    self._suggest_end(session.ticket_number, segment.start, last_activity),
                )
            )
        return found

    def looks_forgotten(self, session: Session, *, as_of: datetime | None = None) -> str | None:
        """Why a running timer looks left running (no I/O: fine on the UI
        thread), or None."""
        segment = session.open_segment
        if segment is None:
            return None
        now = as_of or self.clock.now()
        since = segment.confirmed or segment.start
        length = now - segment.start
        crossed = local_date(since, self.tz) != local_date(now, self.tz)
        if now - since <= self.rules.forgotten_after and not crossed:
            return None
        if not crossed:
            return f"running for {format_span(length)}"
        started = to_local(segment.start, self.tz)
        day = _day_word(started.date(), local_date(now, self.tz))
        return f"running since {day} {started:%H:%M} ({format_span(length)})"

    def _suggest_end(
        self, ticket: str, start: datetime, last_activity: datetime | None
    ) -> datetime:
        """Where a forgotten timer most likely stopped: the last thing the
        user did in jtt on the day it started (after it started, and after
        the command that started it: a start may be backdated), else the end
        of that working day, else (a late start) as long as a timer may run
        unasked. What was done on later days tells nothing: it came after."""
        now = self.clock.now()
        entries = self.store.journal_entries(50)
        since = max([start, *(e.at for e in entries if _opened(e, ticket, start))])
        day = local_date(start, self.tz)
        candidates = [last_activity, *(e.at for e in entries if not _opened(e, ticket, start))]
        seen = [
            t
            for t in candidates
            if t is not None and since < t < now and local_date(t, self.tz) == day
        ]
        if seen:
            return max(seen)
        end = local_datetime(day, self.rules.day_ends.hour, self.rules.day_ends.minute, self.tz)
        if start < end < now:
            return end
        return min(now, start + self.rules.forgotten_after)

    def keep(self, ticket_number: str) -> Session:
        """The long-running timer is real work: keep it, and do not ask again."""

        def plan() -> Plan:
            session = self._get(ticket_number)
            return Plan(
                "keep",
                f"keep {session.ticket_number} running",
                [Change(SESSIONS, session.ticket_number, session, self.machine.confirm(session))],
            )

        return _sessions(self.ledger.apply(plan))[0]

    def discard_since(self, ticket_number: str, at: datetime) -> TimerChange:
        """Drop the time from ``at`` to now and keep the timer running from
        now: the segment ends at ``at`` and a new one starts."""

        def plan() -> Plan:
            session = self._get(ticket_number)
            ended = self.machine.pause(session, at=at)
            restarted = self.machine.resume(ended).session
            now = self.clock.now()
            gap = Piece(session.ticket_number, at, now).describe(self.tz, now=now)
            return Plan(
                "discard",
                f"discard {gap} ({format_span(now - at)}), keep it running",
                [Change(SESSIONS, session.ticket_number, session, restarted)],
                force=True,
            )

        done = self.ledger.apply(plan)
        return TimerChange(_sessions(done)[0], [], done.notes)

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

    def lists(self, text: str = "") -> TimerLists:
        """The Timer section's lists: active and today's tickets, then today's
        manual entries, on top; below, the first page of recent tickets
        (those on top left out). ``text`` narrows both to what matches it."""
        store = self.store
        now = self.clock.now()
        today = local_date(now, self.tz)
        bounds = day_bounds(today, self.tz)
        projects = ProjectIndex(store.get_projects())
        sessions = [*store.active_sessions(), *store.sessions_between(*bounds)]
        top = top_rows(sessions, store.manual_tasks_between(today, today), text)
        # a ticket on top is not repeated below, even when the filter hid it there
        on_top = {session_row(s).key for s in sessions}
        page = recent_page(store.recent_sessions(limit=PAGE, text=text or None), on_top)
        shown_today = [row.session for row in top if row.session is not None]
        return TimerLists(
            now=now,
            top=top,
            recent=page.rows,
            projects=projects,
            more=page.more,
            today=bounds,
            invoices=bill_marks(store.get_invoices()),
            overlapping=shared_segments(shown_today, now),
            fetched=page.fetched,
        )

    def more_recent(self, offset: int, shown: set[str], text: str = "") -> RecentPage:
        """The page of recent tickets after the first ``offset`` the store
        gave, without the rows ``shown`` already (by key)."""
        found = self.store.recent_sessions(limit=PAGE, offset=offset, text=text or None)
        return recent_page(found, shown)

    def invoices_of(self, session: Session) -> list[Invoice]:
        """The live invoices (not cancelled) that bill some of this ticket's time."""
        ids = dict.fromkeys(s.invoice_id for s in session.segments if s.invoice_id)
        found = [self.store.get_invoice(i) for i in ids]
        return [i for i in found if i is not None and i.status != "cancelled"]

    # -- helpers ---------------------------------------------------------------------

    def _timer_change(self, done: Committed, change: TimerChange) -> TimerChange:
        def stored(session: Session) -> Session:
            found = done.get(SESSIONS, session.ticket_number)
            return found if isinstance(found, Session) else session

        return TimerChange(
            stored(change.session), [stored(s) for s in change.paused], list(done.notes)
        )

    def _describe_start(self, change: TimerChange, at: datetime | None) -> str:
        return f"start {change.session.ticket_number}{self._at(at)}{_paused_text(change)}"

    def _at(self, at: datetime | None) -> str:
        if at is None:
            return ""
        local = to_local(at, self.tz)
        today = local_date(self.clock.now(), self.tz)
        return f" at {local:%H:%M}" if local.date() == today else f" at {local:%Y-%m-%d %H:%M}"

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
            raise NothingToDo(f"no timer for {_key(ticket_number)} yet (start it first)")
        return session

    def _project_id(self, key: str) -> str:
        wanted = key.strip().upper()
        for project in self.store.get_projects():
            if project.key == wanted:
                return project.project_id
        raise DomainError(f"no project with the key {wanted} (see `jtt project list`)")


_UNCHANGED = object()


def _key(ticket_number: str) -> str:
    return ticket_number.strip().upper()


def _ticket(text: str) -> str:
    """A Jira ticket number as typed, checked: the message is the reason."""
    from jtt_tui.domain.types import normalize_ticket

    try:
        return str(normalize_ticket(text))
    except ValueError as exc:
        raise DomainError(str(exc)) from None


def _sessions(done: Committed) -> list[Session]:
    return [r for r in done.stored.values() if isinstance(r, Session)]


def _say(said: list[str] | None, done: Committed) -> None:
    if said is not None:
        said.extend(done.notes)


def _opened(entry: JournalEntry, ticket: str, start: datetime) -> bool:
    """Whether ``entry`` is the change that began ``ticket``'s running segment."""
    for image in entry.images:
        if image.kind == "sessions" and image.key == ticket and image.after:
            segments = image.after.get("segments") or []
            if segments and not segments[-1].get("end"):
                return datetime.fromisoformat(segments[-1]["start"]) == start
    return False


def _paused_text(change: TimerChange) -> str:
    if not change.paused:
        return ""
    return " (paused " + ", ".join(s.ticket_number for s in change.paused) + ")"


def _append_note(notes: str, note: str) -> str:
    note = note.strip()
    return f"{notes.rstrip()}\n{note}" if notes.strip() else note


def _day_word(day: date, today: date) -> str:
    if day == today - timedelta(days=1):
        return "yesterday"
    if today - day < timedelta(days=7):
        return f"{day:%A}"
    return day.isoformat()
