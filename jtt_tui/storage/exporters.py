"""Writing data out: the versioned JSON bundle, and CSV of tracked time."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.durations import hours_decimal
from jtt_tui.domain.models import DataBundle, ManualTask, Project, Session
from jtt_tui.domain.projects import ProjectIndex

CSV_HEADER = (
    "kind",
    "ticket",
    "name",
    "project",
    "date",
    "start",
    "end",
    "duration_hours",
    "status",
    "category",
    "billable",
)


def bundle_json(bundle: DataBundle) -> bytes:
    return (bundle.model_dump_json(indent=2) + "\n").encode()


def filter_bundle(
    bundle: DataBundle,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    tz: tzinfo | None = None,
) -> DataBundle:
    """Only what touches ``[start, end)``: sessions with a segment in it,
    manual entries and invoices dated (local days) in it; reference data
    (projects, settings, known tickets) is kept whole."""
    first = local_date(start, tz)
    last = local_date(end - timedelta(microseconds=1), tz)
    return bundle.model_copy(
        update={
            "sessions": [s for s in bundle.sessions if s.touches(start, end, now)],
            "manual_tasks": [t for t in bundle.manual_tasks if first <= t.date <= last],
            "invoices": [i for i in bundle.invoices if first <= i.issue_date <= last],
        }
    )


def tracked_csv(
    sessions: Iterable[Session],
    manual_tasks: Iterable[ManualTask],
    projects: Iterable[Project],
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
) -> str:
    """Everything tracked, one row per segment (``kind`` segment) and per
    manual entry (``kind`` manual), in time order; a segment is in or out by
    whether it touches the range, a manual entry by its date. Times in
    local ISO 8601 with offset; text a spreadsheet could run is defused."""
    index = ProjectIndex(projects)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    first = local_date(start, tz) if start is not None else None
    last = local_date(end - timedelta(microseconds=1), tz) if end is not None else None
    rows: list[tuple[tuple[object, ...], tuple[str, ...]]] = []
    for session in sessions:
        key = index.key_for(session.ticket_number, session.project_id)
        for segment in session.segments:
            seg_end = segment.end or now
            if (
                start is not None
                and end is not None
                and not (segment.start < end and (seg_end > start or segment.start >= start))
            ):
                continue
            local_start = to_local(segment.start, tz)
            rows.append(
                (
                    (local_start.date(), 0, segment.start.isoformat()),
                    (
                        "segment",
                        session.ticket_number,
                        cell(session.ticket_name),
                        key,
                        local_start.date().isoformat(),
                        local_start.isoformat(timespec="seconds"),
                        to_local(segment.end, tz).isoformat(timespec="seconds")
                        if segment.end
                        else "",
                        str(hours_decimal(max(seg_end - segment.start, timedelta(0)), 4)),
                        "running" if segment.end is None else str(session.status),
                        "",
                        "",
                    ),
                )
            )
    for task in manual_tasks:
        if (first is not None and task.date < first) or (last is not None and task.date > last):
            continue
        rows.append(
            (
                (task.date, 1, task.task_id),
                (
                    "manual",
                    task.ticket_number or "",
                    cell(task.title),
                    index.key_for(task.ticket_number, task.project_id),
                    task.date.isoformat(),
                    "",
                    "",
                    str(hours_decimal(task.duration, 4)),
                    "",
                    cell(task.category),
                    "yes" if task.billable else "no",
                ),
            )
        )
    for _order, row in sorted(rows, key=lambda r: r[0]):
        writer.writerow(row)
    return buffer.getvalue()


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (``=``, ``+``, ``-``,
    ``@``, tab or CR first get a ``'``), without control characters (a
    terminal showing the file would obey them); every CSV jtt writes."""
    text = _CONTROL.sub("", text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
