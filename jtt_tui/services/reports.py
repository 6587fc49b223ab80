"""Time tables for people: what was tracked on which local day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Literal

from jtt_tui.domain import money
from jtt_tui.domain.calendar import day_bounds, day_start, local_date
from jtt_tui.domain.durations import hours_decimal
from jtt_tui.domain.models import ManualTask, Session
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.domain.timeline import shared_segments
from jtt_tui.storage.base import Offsets, Storage


@dataclass(frozen=True)
class LogRow:
    ticket: str
    name: str
    project: str
    start: datetime | None  # None for a manual entry
    end: datetime | None  # None while running (or manual)
    duration: timedelta
    manual: bool = False
    jira: str = ""  # the segment's push state: pushed, pending, failed or ""
    overlaps: bool = False  # the segment shares time with another ticket's (allowed overlaps)


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
    # only the days with data: a long period costs its data, not its length
    days: dict[date, DayLog] = _Days()
    sessions = store.sessions_between(start, end)
    overlapping = shared_segments(sessions, now)
    for session in sessions:
        key = index.key_for(session.ticket_number, session.project_id)
        if wanted and key != wanted:
            continue
        for log_day, row in _session_rows(
            session, key, (first, last), now, tz, overlapping=overlapping
        ):
            days[log_day].rows.append(row)
    for task in store.manual_tasks_between(first, last):
        key = index.key_for(task.ticket_number, task.project_id)
        if wanted and key != wanted:
            continue
        days[task.date].rows.append(_task_row(task, key))
    for log in days.values():
        log.rows.sort(key=lambda r: (r.manual, r.start or datetime.min.replace(tzinfo=now.tzinfo)))
    return [days[day] for day in sorted(days) if days[day].rows]


class _Days(dict[date, DayLog]):
    """A day's log, made when the day first gets a row."""

    def __missing__(self, day: date) -> DayLog:
        log = self[day] = DayLog(day)
        return log


def _session_rows(
    session: Session,
    key: str,
    period: tuple[date, date],
    now: datetime,
    tz: tzinfo | None,
    *,
    overlapping: set[tuple[str, datetime]],
) -> list[tuple[date, LogRow]]:
    """The session's segments as rows, split at local midnight, for the
    days of ``period`` each segment touches (its own days only: the cost is
    the segments', never the period's length)."""
    first, last = period
    rows = []
    for segment in session.segments:
        seg_end = segment.end or now
        if seg_end < segment.start:
            continue
        own_first = max(first, local_date(segment.start, tz))
        own_last = min(last, local_date(seg_end, tz))
        for n in range((own_last - own_first).days + 1):
            log_day = own_first + timedelta(days=n)
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
                        jira=segment.worklog.state.value if segment.worklog else "",
                        overlaps=(session.ticket_number, segment.start) in overlapping,
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
        jira=task.worklog.state.value if task.worklog else "",
    )


# -- time reports: hours, billable hours and amounts per day, week, project or ticket ----

GroupBy = Literal["day", "week", "project", "ticket"]
GROUPINGS: tuple[GroupBy, ...] = ("day", "week", "project", "ticket")
_EPOCH = date(1970, 1, 1)


def calendar_offsets(start: datetime, end: datetime, tz: tzinfo | None) -> Offsets:
    """The UTC offsets of the local calendar over ``[start, end)``: the first
    one, then each change (to the minute), for the database to apply."""

    def offset_at(moment: datetime) -> int:
        local = moment.astimezone(tz) if tz is not None else moment.astimezone()
        delta = local.utcoffset() or timedelta(0)
        return int(delta.total_seconds() * 1000)

    offsets: Offsets = [(0, offset_at(start))]
    # a week at a time, then to the second where it changed: no zone has
    # changed its offset and back within a week (DST, Ramadan pauses: months)
    step = timedelta(days=7)
    cursor = start
    while cursor < end:
        following = min(cursor + step, end)
        if offset_at(following) != offset_at(cursor):
            # the exact second of the change (they fall on whole seconds)
            lo, hi = int(cursor.timestamp()), int(following.timestamp())
            before = offset_at(cursor)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset_at(datetime.fromtimestamp(mid, UTC)) == before:
                    lo = mid
                else:
                    hi = mid
            offsets.append((hi * 1000, offset_at(datetime.fromtimestamp(hi, UTC))))
        cursor = following
    return offsets


@dataclass
class ReportRow:
    label: str
    seconds: int = 0
    billable_seconds: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount

    @property
    def hours(self) -> Decimal:
        return hours_decimal(timedelta(seconds=self.seconds), 2)

    @property
    def billable_hours(self) -> Decimal:
        return hours_decimal(timedelta(seconds=self.billable_seconds), 2)


@dataclass
class TimeReport:
    first: date
    last: date
    by: GroupBy
    rows: list[ReportRow]
    total: ReportRow

    def as_dicts(self) -> list[dict[str, object]]:
        return [
            {
                self.by: row.label,
                "hours": str(row.hours),
                "billable_hours": str(row.billable_hours),
                "amounts": {c: str(a) for c, a in sorted(row.amounts.items())},
            }
            for row in self.rows
        ]


def time_report(
    store: Storage,
    first: date,
    last: date,
    *,
    by: GroupBy = "day",
    project_key: str | None = None,
    tz: tzinfo | None = None,
) -> TimeReport:
    """Tracked time (segments on the local day they start, running ones up
    to now, plus manual entries) from ``first`` to ``last``. Time is
    billable when its rate is above zero (and a manual entry is marked
    billable); amounts are hours x rate, per currency, without invoice
    rounding. The per-day sums come from the database (Storage.tracked_time)."""
    if last < first:
        raise ValueError(f"the end date {last} is before the start date {first}")
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    start, end = day_start(first, tz), day_start(last + timedelta(days=1), tz)
    billing = store.get_billing_settings()
    index = ProjectIndex(store.get_projects())
    wanted = project_key.strip().upper() if project_key else None
    rows: dict[str, ReportRow] = {}

    def add(
        day: date, key: str, ticket: str, seconds: int, *, rate: Decimal, billable: bool
    ) -> None:
        project = index.by_key.get(key)
        currency = (project.currency if project else None) or billing.currency
        label = {
            "day": day.isoformat(),
            "week": (day - timedelta(days=day.weekday())).isoformat(),
            "project": key or "(no project)",
            "ticket": ticket or "(manual)",
        }[by]
        row = rows.setdefault(label, ReportRow(label))
        row.seconds += seconds
        if billable and rate > 0:
            row.billable_seconds += seconds
            amount = Decimal(seconds) / Decimal(3600) * rate
            row.amounts[currency] = row.amounts.get(currency, Decimal(0)) + amount

    def rate_for(key: str, task_rate: Decimal | None = None) -> Decimal:
        project = index.by_key.get(key)
        return money.resolve_rate(
            global_rate=billing.global_hourly_rate,
            task_rate=task_rate,
            project_rate=project.hourly_rate if project else None,
            billing_project_rate=billing.project_rates.get(key),
        )

    for item in store.tracked_time(start, end, calendar_offsets(start, end, tz)):
        key = index.key_for(item.ticket_number, item.project_id)
        if wanted and key != wanted:
            continue
        day = _EPOCH + timedelta(days=item.day)
        add(day, key, item.ticket_number, item.seconds, rate=rate_for(key), billable=True)
    for task in store.manual_tasks_between(first, last):
        key = index.key_for(task.ticket_number, task.project_id)
        if wanted and key != wanted:
            continue
        seconds = int(task.duration.total_seconds())
        rate = rate_for(key, task.hourly_rate)
        add(task.date, key, task.ticket_number or "", seconds, rate=rate, billable=task.billable)
    ordered = sorted(rows.values(), key=lambda r: r.label)
    total = ReportRow("total")
    for row in ordered:
        row.amounts = {c: money.quantize_money(a, c) for c, a in row.amounts.items()}
        total.seconds += row.seconds
        total.billable_seconds += row.billable_seconds
        for currency, amount in row.amounts.items():
            total.amounts[currency] = total.amounts.get(currency, Decimal(0)) + amount
    return TimeReport(first, last, by, ordered, total)
