"""Forms of the Timer section: new timer, edit a ticket, add time by hand,
edit a segment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from textual.widget import Widget

from jtt_tui.domain.calendar import to_local
from jtt_tui.domain.durations import parse_duration
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import Session
from jtt_tui.domain.parsing import parse_day, parse_local_datetime
from jtt_tui.domain.types import normalize_project_key, normalize_ticket
from jtt_tui.ui.modals.forms import Errors, FormModal, area_field, check_field, text_field


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def _check_project(errors: Errors, key: str, known: set[str]) -> str | None:
    if not key:
        return None
    normalised = errors.check("project", normalize_project_key, key)
    if normalised and known and normalised not in known:
        errors.add("project", f"no project with the key {normalised} (Projects: 2, then n)")
    return normalised


class NewTimerModal(FormModal[dict[str, Any]]):
    TITLE = "Start a timer"
    SUBMIT = "Start"

    def __init__(self, project_keys: set[str] | None = None) -> None:
        super().__init__()
        self.project_keys = project_keys or set()

    def fields(self) -> Iterable[Widget]:
        yield from text_field("ticket", "Ticket", placeholder="e.g. WEB-123")
        yield from text_field("name", "Name (optional)")
        yield from text_field("project", "Project key (optional; default: the prefix)")
        yield from text_field("tags", "Tags (optional, comma separated)")

    def build(self) -> dict[str, Any]:
        errors = Errors()
        ticket = errors.check("ticket", normalize_ticket, self.value("ticket"))
        if not self.value("ticket"):
            errors.errors["ticket"] = "enter a Jira ticket number, e.g. WEB-123"
        name = self.value("name")
        if len(name) > 200:
            errors.add("name", "at most 200 characters")
        project = _check_project(errors, self.value("project"), self.project_keys)
        errors.raise_if_any()
        return {
            "ticket_number": ticket,
            "name": name or None,
            "project_key": project,
            "tags": split_tags(self.value("tags")),
        }


class EditSessionModal(FormModal[dict[str, Any]]):
    TITLE = "Edit ticket"

    def __init__(
        self,
        session: Session,
        project_key: str,
        *,
        tz: tzinfo | None = None,
        project_keys: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.project_key = project_key
        self.tz = tz
        self.project_keys = project_keys or set()

    def fields(self) -> Iterable[Widget]:
        session = self.session
        yield from text_field("name", f"Name of {session.ticket_number}", session.ticket_name)
        yield from text_field("project", "Project key (empty: by ticket prefix)", self.project_key)
        yield from text_field("tags", "Tags (comma separated)", ", ".join(session.tags))
        yield from area_field("notes", "Notes", session.notes)
        open_segment = session.open_segment
        if open_segment is not None:
            started = to_local(open_segment.start, self.tz)
            yield from text_field(
                "start",
                "Running since (local time)",
                f"{started:%Y-%m-%d %H:%M}",
                hint="Forgot to start the timer? Move its start back: YYYY-MM-DD HH:MM or HH:MM",
            )

    def build(self) -> dict[str, Any]:
        errors = Errors()
        name = self.value("name")
        if len(name) > 200:
            errors.add("name", "at most 200 characters")
        project = self.value("project")
        if project:
            project = _check_project(errors, project, self.project_keys) or ""
        notes = self.value("notes")
        if len(notes) > 10_000:
            errors.add("notes", "at most 10,000 characters")
        changes: dict[str, Any] = {
            "name": name,
            "project_key": project,
            "tags": split_tags(self.value("tags")),
            "notes": notes,
        }
        open_segment = self.session.open_segment
        if open_segment is not None:
            text = self.value("start")
            original = f"{to_local(open_segment.start, self.tz):%Y-%m-%d %H:%M}"
            if text != original:
                now = self.app.clock.now()  # type: ignore[attr-defined]
                start = errors.check(
                    "start", parse_local_datetime, text, now=now, tz=self.tz, what="the start"
                )
                if start is not None and start > now:
                    errors.add("start", "the start cannot be in the future")
                changes["running_start"] = start
        errors.raise_if_any()
        return changes


class ManualEntryModal(FormModal[dict[str, Any]]):
    TITLE = "Add time by hand"
    SUBMIT = "Add"

    def __init__(self, today: date, ticket: str = "", project_keys: set[str] | None = None) -> None:
        super().__init__()
        self.today = today
        self.ticket = ticket
        self.project_keys = project_keys or set()

    def fields(self) -> Iterable[Widget]:
        yield from text_field(
            "ticket", "Ticket (optional)", self.ticket, placeholder="e.g. WEB-123"
        )
        yield from text_field(
            "title", "Title (optional with a ticket)", placeholder="e.g. Client call"
        )
        yield from text_field("project", "Project key (optional)")
        yield from text_field("duration", "Duration", placeholder="1h30m, 90m, 1.5h or 1:30")
        yield from text_field(
            "day", "Date", str(self.today), hint="YYYY-MM-DD, today, yesterday or -N days"
        )
        yield from text_field("category", "Category (optional)", placeholder="meeting")
        yield from check_field("billable", "Billable", True)

    def build(self) -> dict[str, Any]:
        errors = Errors()
        ticket_text, title = self.value("ticket"), self.value("title")
        ticket = errors.check("ticket", normalize_ticket, ticket_text) if ticket_text else None
        if not ticket_text and not title:
            errors.add("title", "give a ticket or a title")
        if len(title) > 200:
            errors.add("title", "at most 200 characters")
        project = _check_project(errors, self.value("project"), self.project_keys)
        duration = errors.check("duration", parse_duration, self.value("duration"))
        if duration is not None and duration <= timedelta(0):
            errors.add("duration", "the duration must be more than zero")
        day = errors.check("day", parse_day, self.value("day") or "today", today=self.today)
        if day is not None and day > self.today:
            errors.add("day", "time cannot be added to a future day")
        errors.raise_if_any()
        return {
            "title": title,
            "ticket_number": ticket,
            "project_key": project,
            "duration": duration,
            "day": day,
            "category": self.value("category"),
            "billable": self.value("billable"),
        }


class SegmentModal(FormModal[tuple[datetime, datetime | None]]):
    TITLE = "Edit segment"

    def __init__(self, start: datetime, end: datetime | None, *, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.start, self.end, self.tz = start, end, tz

    def fields(self) -> Iterable[Widget]:
        yield from text_field(
            "start",
            "Start (local time)",
            f"{to_local(self.start, self.tz):%Y-%m-%d %H:%M}",
            hint="YYYY-MM-DD HH:MM, or HH:MM for today",
        )
        if self.end is not None:
            yield from text_field(
                "end", "End (local time)", f"{to_local(self.end, self.tz):%Y-%m-%d %H:%M}"
            )

    def build(self) -> tuple[datetime, datetime | None]:
        errors = Errors()
        now = self.app.clock.now()  # type: ignore[attr-defined]
        start = errors.check("start", self._parse, "start", now)
        end = None
        if self.end is not None:
            end = errors.check("end", self._parse, "end", now)
            if start is not None and end is not None and end < start:
                errors.add("end", "the end is before the start")
        errors.raise_if_any()
        assert start is not None
        return start, end

    def _parse(self, name: str, now: datetime) -> datetime:
        moment = parse_local_datetime(self.value(name), now=now, tz=self.tz, what=f"the {name}")
        # keep the seconds of the original when the minute did not change
        original = self.start if name == "start" else self.end
        if original is not None and moment == original.replace(second=0, microsecond=0):
            moment = original
        if moment > now:
            raise DomainError(f"the {name} cannot be in the future")
        return moment
