"""Writing data out: the versioned JSON bundle, and CSV of tracked segments."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.durations import hours_decimal
from jtt_tui.domain.models import DataBundle, Project, Session
from jtt_tui.domain.projects import ProjectIndex

CSV_HEADER = ("ticket", "name", "project", "start", "end", "duration_hours", "status")


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


def segments_csv(
    sessions: Iterable[Session],
    projects: Iterable[Project],
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
) -> str:
    """One row per segment (clipped to nothing: a segment is in or out by
    whether it touches the range), times in local ISO 8601 with offset."""
    index = ProjectIndex(projects)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = []
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
            rows.append(
                (
                    segment.start,
                    session.ticket_number,
                    session.ticket_name,
                    key,
                    to_local(segment.start, tz).isoformat(timespec="seconds"),
                    to_local(segment.end, tz).isoformat(timespec="seconds") if segment.end else "",
                    str(hours_decimal(max(seg_end - segment.start, timedelta(0)), 4)),
                    "running" if segment.end is None else str(session.status),
                )
            )
    for row in sorted(rows, key=lambda r: r[0]):
        writer.writerow(row[1:])
    return buffer.getvalue()
