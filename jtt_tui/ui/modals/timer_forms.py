"""Forms of the Timer section: new timer, edit a ticket, add time by hand,
edit a segment."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from rich.text import Text
from textual.events import Key
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from jtt_tui.domain.calendar import to_local
from jtt_tui.domain.durations import parse_duration
from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import Session
from jtt_tui.domain.parsing import parse_day, parse_local_datetime
from jtt_tui.domain.types import normalize_project_key, normalize_ticket
from jtt_tui.ui.modals.forms import Errors, FormModal, area_field, check_field, text_field
from jtt_tui.ui.text import plain


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def _check_project(errors: Errors, key: str, known: set[str]) -> str | None:
    if not key:
        return None
    normalised = errors.check("project", normalize_project_key, key)
    if normalised and known and normalised not in known:
        errors.add("project", f"no project with the key {normalised} (Projects: 2, then n)")
    return normalised


# (typed text) -> (issues, a note such as "offline: …"); blocking, run in a thread
TicketSearch = Callable[[str], tuple[list[Any], str]]
SEARCH_DELAY_S = 0.35


class NewTimerModal(FormModal[dict[str, Any]]):
    """Ticket, name, project, tags. With a ``search``, typing in the ticket
    field looks the text up (Jira, or the offline ticket cache); ↓ moves into
    the results and Enter picks one: its key and summary fill the form."""

    TITLE = "Start a timer"
    SUBMIT = "Start"

    def __init__(
        self, project_keys: set[str] | None = None, *, search: TicketSearch | None = None
    ) -> None:
        super().__init__()
        self.project_keys = project_keys or set()
        self.search = search
        self._issues: list[Any] = []
        self._asked = 0  # the latest search: older answers are dropped
        self._search_timer: Timer | None = None
        self._picked_name = ""
        self._picked_key = ""

    def fields(self) -> Iterable[Widget]:
        yield from text_field(
            "ticket",
            "Ticket",
            placeholder="e.g. WEB-123, or words to search Jira" if self.search else "e.g. WEB-123",
        )
        if self.search is not None:
            yield OptionList(id="ticket-results", classes="-empty", compact=True)
            yield Static("", id="search-note", classes="-empty", markup=False)
        yield from text_field("name", "Name (optional)")
        yield from text_field("project", "Project key (optional; default: the prefix)")
        yield from text_field("tags", "Tags (optional, comma separated)")

    # -- searching -------------------------------------------------------------------------

    def on_mount(self) -> None:
        # (FormModal's on_mount focuses the first field: Textual calls it too)
        if self.search is not None:
            self._search_now("")  # your open tickets, before anything is typed

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.search is None or event.input.id != "f-ticket":
            return
        if event.value == self._picked_key:  # filled in by a pick: no new search
            return
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value
        self._search_timer = self.set_timer(SEARCH_DELAY_S, lambda: self._search_now(text))

    def _search_now(self, text: str) -> None:
        search = self.search
        assert search is not None
        self._asked += 1
        asked = self._asked
        if text:
            self._note("searching…")

        def run() -> None:
            try:
                found, note = search(text)
            except Exception as exc:  # shown in the note: a search never breaks the form
                from jtt_tui.storage.errors import redact

                found, note = [], redact(str(exc))
            self.app.call_from_thread(self._show_results, asked, found, note)

        self.run_worker(run, thread=True, group="ticket-search", exit_on_error=False)

    def _show_results(self, asked: int, found: list[Any], note: str) -> None:
        if asked != self._asked or not self.is_attached:
            return
        self._issues = found
        results = self.query_one("#ticket-results", OptionList)
        results.clear_options()
        for issue in found:
            status = f"  [{plain(issue.status, 16)}]" if issue.status else ""
            # Text, not a markup string: a summary is shown as written, brackets and all
            results.add_option(Option(Text(f"{issue.key}{status}  {plain(issue.summary, 50)}")))
        results.set_class(not found, "-empty")
        hint = "↓ then Enter picks a ticket" if found else ("no matching tickets" if note else "")
        self._note(" · ".join(part for part in (hint, note) if part))

    def _note(self, text: str) -> None:
        note = self.query_one("#search-note", Static)
        note.update(text)
        note.set_class(not text, "-empty")

    def on_key(self, event: Key) -> None:
        focused = self.focused
        if (
            event.key == "down"
            and focused is not None
            and focused.id == "f-ticket"
            and self._issues
        ):
            results = self.query_one("#ticket-results", OptionList)
            results.focus()
            results.highlighted = 0
            event.stop()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        issue = self._issues[event.option_index]
        self._picked_key = issue.key
        self.query_one("#f-ticket", Input).value = issue.key
        name = self.query_one("#f-name", Input)
        if not name.value or name.value == self._picked_name:
            name.value = issue.summary[:200]
            self._picked_name = name.value
        if self._search_timer is not None:
            self._search_timer.stop()
        name.focus()

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

    def __init__(
        self, start: datetime, end: datetime | None, *, tz: tzinfo | None = None, note: str = ""
    ) -> None:
        super().__init__()
        self.start, self.end, self.tz, self.note = start, end, tz, note

    def fields(self) -> Iterable[Widget]:
        if self.note:
            yield Static(self.note, classes="form-hint", markup=False)
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


@dataclass(frozen=True)
class NewSegment:
    ticket: str
    start: datetime
    end: datetime


class AddSegmentModal(FormModal[NewSegment]):
    """Past time on a ticket, with its start: from–to, or a start and a
    duration (a timer you forgot to start). The same rules as any change:
    no time on two tickets at once."""

    TITLE = "Add a segment"
    SUBMIT = "Add"

    def __init__(self, ticket: str = "", *, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.ticket, self.tz = ticket, tz

    def fields(self) -> Iterable[Widget]:
        yield from text_field("ticket", "Ticket", self.ticket, placeholder="e.g. WEB-123")
        yield from text_field(
            "start",
            "Start (local time)",
            placeholder="09:15, yesterday 17:30, -2h",
            hint="HH:MM today, -15m / -2h ago, yesterday 17:30, mon 09:00, YYYY-MM-DD HH:MM",
        )
        yield from text_field(
            "end", "End, or a duration", placeholder="10:45, or 1h30m", hint="empty: until now"
        )

    def build(self) -> NewSegment:
        errors = Errors()
        now = self.app.clock.now()  # type: ignore[attr-defined]
        ticket = errors.check("ticket", normalize_ticket, self.value("ticket"))
        if not self.value("ticket"):
            errors.errors["ticket"] = "enter a Jira ticket number, e.g. WEB-123"
        start = errors.check(
            "start", parse_local_datetime, self.value("start"), now=now, tz=self.tz,
            what="the start",
        )  # fmt: skip
        end_text = self.value("end")
        end: datetime | None = now
        if end_text and start is not None:
            end = self._end(errors, end_text, start, now)
        if start is not None and end is not None:
            if start > now:
                errors.add("start", "the start cannot be in the future")
            elif end <= start:
                errors.add("end", "the end must come after the start")
            elif end > now:
                errors.add("end", "the end cannot be in the future")
        errors.raise_if_any()
        assert ticket is not None and start is not None and end is not None
        return NewSegment(ticket, start, end)

    def _end(self, errors: Errors, text: str, start: datetime, now: datetime) -> datetime | None:
        """An end time, or a duration after the start (``1h30m``, ``90m``)."""
        if re.fullmatch(r"[\d.,]+\s*[hms].*|\d+", text.strip()) and ":" not in text:
            duration = errors.check("end", parse_duration, text)
            return start + duration if duration is not None else None
        result: datetime | None = errors.check(
            "end", parse_local_datetime, text, now=now, tz=self.tz, what="the end"
        )
        return result
