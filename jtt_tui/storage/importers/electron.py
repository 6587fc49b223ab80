"""The data file of the Electron "Jira/Project Time Track" app jtt replaces
(electron-store ``app-data.json``). See ``shared/fixtures/electron-store``.

Structural damage (wrong types, unreadable timestamps) refuses the whole
file. Records jtt cannot represent (a "ticket" that is not a Jira key) are
left out and listed in the notes, as is every adjustment made to the data
(segment durations that disagree with their timestamps, overlaps, …).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from jtt_tui.domain.durations import format_clock
from jtt_tui.domain.models import (
    BillingSettings,
    DataBundle,
    Project,
    ProjectStatus,
    Session,
    SessionStatus,
    Ticket,
)
from jtt_tui.domain.types import PROJECT_KEY_PATTERN, TICKET_PATTERN
from jtt_tui.domain.validation import explain
from jtt_tui.storage.importers.reading import ImportFileError, ParsedImport

SEGMENT_STATUS = {
    "running": SessionStatus.RUNNING,
    "pause": SessionStatus.PAUSED,
    "paused": SessionStatus.PAUSED,
    "hold": SessionStatus.PAUSED,
    "queue": SessionStatus.PAUSED,
    "stop": SessionStatus.STOPPED,
    "stopped": SessionStatus.STOPPED,
    "completed": SessionStatus.COMPLETED,
}
PROJECT_STATUS = {
    "planning": ProjectStatus.ACTIVE,
    "in progress": ProjectStatus.ACTIVE,
    "on hold": ProjectStatus.ACTIVE,
    "active": ProjectStatus.ACTIVE,
    "completed": ProjectStatus.COMPLETED,
    "archived": ProjectStatus.ARCHIVED,
}
KNOWN_KEYS = {"sessions", "projectData", "jiraData", "manualTasks", "projects", "billing"}
UNMAPPED_PROJECT_FIELDS = ("progress", "tasks", "activities")
# Tolerance before a disagreement between recorded and computed times is noted
_TOLERANCE = timedelta(seconds=1)
_ID_NAMESPACE = uuid.UUID("6f1c2a58-3d8e-4c1b-9a51-0e2f0b7c9d11")


class _Mapper:
    def __init__(self, path: Path, user_id: str) -> None:
        self.path = path
        self.user_id = user_id
        self.notes: list[str] = []

    def fail(self, where: str, problem: str) -> ImportFileError:
        return ImportFileError(f"{self.path}: {where}: {problem}")

    # -- primitive readers ------------------------------------------------------------

    def instant(self, value: Any, where: str) -> datetime:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(where, "expected milliseconds since 1970 (a number)")
        try:
            return datetime.fromtimestamp(int(value) / 1000, UTC).replace(
                microsecond=(int(value) % 1000) * 1000
            )
        except (OverflowError, OSError, ValueError):
            raise self.fail(where, f"{value} is not a usable time") from None

    def millis(self, value: Any, where: str) -> timedelta | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal) or value < 0:
            raise self.fail(where, "expected a duration in milliseconds (a number ≥ 0)")
        return timedelta(milliseconds=int(value))

    def text(self, value: Any, where: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, "expected text")
        return value.strip()

    def day(self, value: Any, where: str) -> date | None:
        text = self.text(value, where)
        if not text:
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text).astimezone(UTC).date()
        except ValueError:
            raise self.fail(where, f"{text!r} is not a date (YYYY-MM-DD)") from None

    def moment(self, value: Any, where: str) -> datetime | None:
        text = self.text(value, where)
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(where, f"{text!r} is not a date and time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def items(self, value: Any, where: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(where, "expected a list of objects")
        return value

    def points(self, value: Any, where: str) -> Decimal | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(where, "story points must be a number")
        return Decimal(value)

    # -- tickets ----------------------------------------------------------------------

    def tickets(self, data: dict[str, Any], project_ids: dict[str, str]) -> dict[str, Ticket]:
        found: dict[str, dict[str, Any]] = {}
        skipped: list[str] = []
        # later sources only fill what earlier ones left empty
        for source in ("projectData", "manualTasks", "jiraData"):
            for index, item in enumerate(self.items(data.get(source), source)):
                where = f"{source}[{index}]"
                number = self.text(item.get("ticket_number"), f"{where}.ticket_number").upper()
                if not TICKET_PATTERN.match(number):
                    skipped.append(number or "(empty)")
                    continue
                entry = found.setdefault(number, {"ticket_number": number, "source": "electron"})
                name = self.text(item.get("ticket_name"), f"{where}.ticket_name")
                if name and name.upper() != number and not entry.get("ticket_name"):
                    entry["ticket_name"] = name
                points = self.points(item.get("story_points"), f"{where}.story_points")
                if points is not None and entry.get("story_points") is None:
                    entry["story_points"] = points
                legacy_project = item.get("projectId")
                if legacy_project is not None and str(legacy_project) in project_ids:
                    entry.setdefault("project_id", project_ids[str(legacy_project)])
        if skipped:
            self.notes.append(
                "not imported as known tickets (not Jira ticket numbers): "
                + ", ".join(sorted(set(skipped)))
            )
        manual = len(self.items(data.get("manualTasks"), "manualTasks"))
        if manual:
            self.notes.append(
                f"{manual} ticket(s) added by hand in the Electron app became known tickets "
                "(they carry no tracked time)"
            )
        return {number: Ticket.model_validate(entry) for number, entry in found.items()}

    # -- projects ---------------------------------------------------------------------

    def projects(
        self, data: dict[str, Any]
    ) -> tuple[list[Project], dict[str, str], dict[str, str]]:
        """Projects, legacy id -> new id, and name -> key."""
        projects: list[Project] = []
        ids: dict[str, str] = {}
        keys: dict[str, str] = {}
        used_keys: set[str] = set()
        dropped: set[str] = set()
        for index, item in enumerate(self.items(data.get("projects"), "projects")):
            where = f"projects[{index}]"
            name = self.text(item.get("name"), f"{where}.name") or f"Project {index + 1}"
            legacy_id = str(item.get("id") or name)
            key = self.project_key(name, used_keys)
            used_keys.add(key)
            status_text = self.text(item.get("status"), f"{where}.status").lower()
            status = PROJECT_STATUS.get(status_text, ProjectStatus.ACTIVE)
            if status_text and status_text not in PROJECT_STATUS:
                self.notes.append(f"project {name}: unknown status {status_text!r}, set active")
            budget = item.get("budget")
            if budget is not None and (
                isinstance(budget, bool) or not isinstance(budget, int | Decimal)
            ):
                raise self.fail(f"{where}.budget", "expected a number")
            client = self.text(item.get("client"), f"{where}.client")
            project_id = uuid.uuid5(_ID_NAMESPACE, f"{self.user_id}:{legacy_id}").hex
            start_date = self.day(item.get("startDate"), f"{where}.startDate")
            end_date = self.day(item.get("deadline"), f"{where}.deadline")
            if start_date and end_date and end_date < start_date:
                self.notes.append(f"project {name}: the deadline is before the start; dropped")
                end_date = None
            fields = {
                "project_id": project_id,
                "key": key,
                "name": name,
                "description": self.text(item.get("description"), f"{where}.description"),
                "status": status,
                "client": {"name": client},
                "budget": Decimal(budget) if budget else None,
                "start_date": start_date,
                "end_date": end_date,
                "tags": ["starred"] if item.get("isStarred") is True else [],
                "created_at": self.moment(item.get("createdAt"), f"{where}.createdAt"),
            }

            try:
                projects.append(Project.model_validate(fields))
            except ValidationError as exc:
                raise ImportFileError(explain(exc, context=f"{self.path}: {where}")) from None
            dropped.update(f for f in UNMAPPED_PROJECT_FIELDS if f in item)
            ids[legacy_id] = project_id
            keys[name] = key
        if dropped:
            self.notes.append(
                "project fields with no equivalent in jtt were not imported: "
                + ", ".join(sorted(dropped))
                + " (progress and spent budget are computed from tracked time instead)"
            )
        return projects, ids, keys

    def project_key(self, name: str, used: set[str]) -> str:
        candidate = re.sub(r"[^A-Z0-9_]", "", name.upper())[:10]
        if not PROJECT_KEY_PATTERN.match(candidate):
            letters = re.sub(r"[^A-Z]", "", name.upper())[:10]
            candidate = letters if len(letters) >= 2 else "PRJ"
            self.notes.append(f"project {name!r} got the Jira key {candidate} (edit it if wrong)")
        key, n = candidate, 2
        while key in used:
            key = f"{candidate[:8]}{n}"
            n += 1
        return key

    # -- sessions ---------------------------------------------------------------------

    def sessions(self, data: dict[str, Any], catalog: dict[str, Ticket]) -> list[Session]:
        raw = data.get("sessions") or {}
        if not isinstance(raw, dict):
            raise self.fail("sessions", "expected an object keyed by ticket number")
        sessions: list[Session] = []
        skipped: list[str] = []
        running: list[str] = []
        for key, value in raw.items():
            if not isinstance(value, dict):
                raise self.fail(f"sessions.{key}", "expected an object")
            number = self.text(value.get("ticketNumber") or key, f"sessions.{key}").upper()
            if not TICKET_PATTERN.match(number):
                skipped.append(number)
                continue
            session = self.session(number, value, catalog.get(number))
            if session.status == SessionStatus.RUNNING:
                running.append(f"{number} (since {session.segments[-1].start:%Y-%m-%d %H:%M} UTC)")
            sessions.append(session)
        if skipped:
            self.notes.append(
                "not imported (not Jira ticket numbers): " + ", ".join(sorted(skipped))
            )
        if running:
            self.notes.append(
                "still running in the Electron app, imported as running: "
                + ", ".join(running)
                + " — stop it or correct its start if that timer is stale"
            )
        return sessions

    def session(self, number: str, value: dict[str, Any], known: Ticket | None) -> Session:
        where = f"sessions.{number}"
        name = self.text(value.get("ticketName"), f"{where}.ticketName")
        if not name or name.upper() == number:
            name = known.ticket_name if known else ""
        raw_segments = self.items(value.get("sessions"), f"{where}.sessions")
        segments, status, recorded = self.segments(number, raw_segments)
        total = self.millis(value.get("totalElapsed"), f"{where}.totalElapsed")
        computed = sum((s["end"] - s["start"] for s in segments if s["end"]), timedelta(0))
        if status == SessionStatus.RUNNING:
            computed += recorded  # the open segment's ticks as the app counted them
        if total is not None and abs(total - computed) > _TOLERANCE:
            self.notes.append(
                f"{number}: the app's total said {format_clock(total)}, the segment times add up "
                f"to {format_clock(computed)}; the segment times are used"
            )
        fields = {
            "ticket_number": number,
            "ticket_name": name,
            "story_points": self.points(value.get("storyPoints"), f"{where}.storyPoints"),
            "project_id": known.project_id if known else None,
            "status": status,
            "segments": segments,
        }
        try:
            return Session.model_validate(fields)
        except ValidationError as exc:
            raise ImportFileError(explain(exc, context=f"{self.path}: {where}")) from None

    def segments(
        self, number: str, raw: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], SessionStatus, timedelta]:
        """Segments ordered, closed and non-overlapping; the session status;
        and the recorded duration of a still-running last segment."""
        parsed = []
        for index, item in enumerate(raw):
            where = f"sessions.{number}.sessions[{index}]"
            start = self.instant(item.get("startTime"), f"{where}.startTime")
            end = (
                self.instant(item["endTime"], f"{where}.endTime")
                if item.get("endTime") is not None
                else None
            )
            duration = self.millis(item.get("duration"), f"{where}.duration")
            word = self.text(item.get("status"), f"{where}.status").lower()
            status = SEGMENT_STATUS.get(word)
            if status is None:
                self.notes.append(f"{number}: unknown segment status {word!r}, read as paused")
                status = SessionStatus.PAUSED
            parsed.append((start, end, duration, status, index))
        parsed.sort(key=lambda p: p[0])
        segments: list[dict[str, Any]] = []
        recorded = timedelta(0)
        last_status = SessionStatus.STOPPED
        for position, (start, recorded_end, duration, status, index) in enumerate(parsed):
            is_last = position == len(parsed) - 1
            label = f"{number} segment {index + 1}"
            end = recorded_end
            if end is None and not (status == SessionStatus.RUNNING and is_last):
                end = start + (duration or timedelta(0))
                self.notes.append(f"{label}: no end time; its recorded duration was used")
            elif end is not None and end < start:
                end = start + (duration or timedelta(0))
                self.notes.append(f"{label}: it ended before it started; its duration was used")
            elif (
                end is not None
                and duration is not None
                and abs((end - start) - duration) > _TOLERANCE
            ):
                self.notes.append(
                    f"{label}: recorded duration {format_clock(duration)} differs from its "
                    f"times ({format_clock(end - start)}); the times are used"
                )
            if segments and segments[-1]["end"] is not None and start < segments[-1]["end"]:
                segments[-1]["end"] = start
                self.notes.append(f"{label}: overlapped the previous segment, which was cut")
            if end is None:
                recorded = duration or timedelta(0)
            segments.append({"start": start, "end": end})
            last_status = status
        if segments and segments[-1]["end"] is None:
            return segments, SessionStatus.RUNNING, recorded
        if last_status == SessionStatus.RUNNING:
            self.notes.append(
                f"{number}: marked running but its last segment has ended; imported as paused"
            )
            last_status = SessionStatus.PAUSED
        return segments, last_status, recorded

    # -- billing ----------------------------------------------------------------------

    def billing(self, data: dict[str, Any], keys_by_name: dict[str, str]) -> BillingSettings | None:
        billing = data.get("billing")
        if billing is None:
            return None
        if not isinstance(billing, dict):
            raise self.fail("billing", "expected an object")
        invoices = billing.get("invoices") or []
        if invoices:
            self.notes.append(
                f"{len(invoices)} invoice(s) from the Electron app were not imported "
                "(create them again from the tracked time with jtt)"
            )
        settings = billing.get("settings")
        if settings is None:
            return None
        if not isinstance(settings, dict):
            raise self.fail("billing.settings", "expected an object")
        rates: dict[str, Decimal] = {}
        raw_rates = settings.get("projectRates") or {}
        if not isinstance(raw_rates, dict):
            raise self.fail("billing.settings.projectRates", "expected an object")
        for project_name, rate in raw_rates.items():
            if isinstance(rate, bool) or not isinstance(rate, int | Decimal):
                raise self.fail(
                    f"billing.settings.projectRates.{project_name}", "expected a number"
                )
            key = keys_by_name.get(project_name)
            if key is None and PROJECT_KEY_PATTERN.match(project_name.upper()):
                key = project_name.upper()
            if key is None:
                self.notes.append(
                    f"the rate for project {project_name!r} was not imported: "
                    "no project by that name"
                )
                continue
            rates[key] = Decimal(rate)
        fields: dict[str, Any] = {"project_rates": rates}
        for ours, theirs in (("global_hourly_rate", "globalHourlyRate"), ("tax_rate", "taxRate")):
            value = settings.get(theirs)
            if value not in (None, ""):
                fields[ours] = value
        for ours, theirs in (("currency", "currency"), ("invoice_prefix", "invoicePrefix")):
            text = self.text(settings.get(theirs), f"billing.settings.{theirs}")
            if text:
                fields[ours] = text
        company = {
            "name": self.text(settings.get("companyName"), "billing.settings.companyName"),
            "address": self.text(settings.get("companyAddress"), "billing.settings.companyAddress"),
        }
        fields["company"] = company
        try:
            return BillingSettings.model_validate(fields)
        except ValidationError as exc:
            raise ImportFileError(explain(exc, context=f"{self.path}: billing.settings")) from None


def parse_electron(path: Path, data: dict[str, Any], *, user_id: str) -> ParsedImport:
    mapper = _Mapper(path, user_id)
    projects, ids, keys = mapper.projects(data)
    catalog = mapper.tickets(data, ids)
    sessions = mapper.sessions(data, catalog)
    billing = mapper.billing(data, keys)
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        mapper.notes.append("unknown parts of the file were not imported: " + ", ".join(unknown))
    try:
        bundle = DataBundle(
            sessions=sessions,
            projects=projects,
            billing_settings=billing,
            tickets=list(catalog.values()),
        )
    except ValidationError as exc:
        raise ImportFileError(explain(exc, context=str(path))) from None
    return ParsedImport("electron", bundle, mapper.notes)
