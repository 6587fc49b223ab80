"""Time tables for people: what was tracked on which local day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import day_bounds, day_start
from jtt_tui.domain.models import ManualTask, Session
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.storage.base import Storage


@dataclass(frozen=True)
class LogRow:
    ticket: str
    name: str
    project: str
    start: datetime | None  # None for a manual entry
    end: datetime | None  # None while running (or manual)
    duration: timedelta
    manual: bool = False


@dataclass
class DayLog:
    day: date
    rows: list[LogRow] = field(default_factory=list)

    @property
    def total(self) -> timedelta:
        return sum((row.duration for row in self.rows), timedelta(0))


def segment_log(
    store: Storage,
    first: date,
    last: date,
    *,
    project_key: str | None = None,
    tz: tzinfo | None = None,
) -> list[DayLog]:
    """Every segment (split at local midnight) and manual entry from ``first``
    to ``last`` inclusive, grouped by local day, optionally for one project."""
    if last < first:
        raise ValueError(f"the end date {last} is before the start date {first}")
    now = store.clock.now()
    start = day_start(first, tz)
    end = day_start(last + timedelta(days=1), tz)
    index = ProjectIndex(store.get_projects())
    wanted = project_key.strip().upper() if project_key else None
    days = {
        first + timedelta(days=n): DayLog(first + timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    for session in store.sessions_between(start, end):
        key = index.key_for(session.ticket_number, session.project_id)
        if wanted and key != wanted:
            continue
        for log_day, row in _session_rows(session, key, days, now, tz):
            days[log_day].rows.append(row)
    for task in store.manual_tasks_between(first, last):
        key = index.key_for(task.ticket_number, task.project_id)
        if wanted and key != wanted:
            continue
        days[task.date].rows.append(_task_row(task, key))
    for log in days.values():
        log.rows.sort(key=lambda r: (r.manual, r.start or datetime.min.replace(tzinfo=now.tzinfo)))
    return [log for log in days.values() if log.rows]


def _session_rows(
    session: Session, key: str, days: dict[date, DayLog], now: datetime, tz: tzinfo | None
) -> list[tuple[date, LogRow]]:
    rows = []
    for segment in session.segments:
        seg_end = segment.end or now
        for log_day in days:
            lo, hi = day_bounds(log_day, tz)
            piece_start, piece_end = max(segment.start, lo), min(seg_end, hi)
            if piece_start >= piece_end and not (
                segment.start == seg_end and lo <= segment.start < hi
            ):
                continue
            open_piece = segment.end is None and piece_end == seg_end
            rows.append(
                (
                    log_day,
                    LogRow(
                        ticket=session.ticket_number,
                        name=session.ticket_name,
                        project=key,
                        start=piece_start,
                        end=None if open_piece else piece_end,
                        duration=max(piece_end - piece_start, timedelta(0)),
                    ),
                )
            )
    return rows


def _task_row(task: ManualTask, key: str) -> LogRow:
    return LogRow(
        ticket=task.ticket_number or "",
        name=task.title,
        project=key,
        start=None,
        end=None,
        duration=task.duration,
        manual=True,
    )
