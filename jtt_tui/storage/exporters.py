"""Writing data out: the versioned JSON bundle, and CSV of tracked time.

Both are written record by record to a stream, so an export holds a batch of
records in memory, not the store: the bundle's JSON is put together from each
record's own JSON (the same bytes as dumping the whole bundle at once), and
the CSV's rows are sorted in runs that spill to temporary files when there
are many.
"""

from __future__ import annotations

import csv
import heapq
import io
import pickle
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from itertools import chain, groupby, islice
from operator import itemgetter
from types import SimpleNamespace
from typing import IO, Any, BinaryIO, TypeVar

from pydantic import TypeAdapter

from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.durations import hours_decimal
from jtt_tui.domain.models import DataBundle, Invoice, ManualTask, Project, Record, Session
from jtt_tui.domain.projects import ProjectIndex
from jtt_tui.storage.base import Storage, Stored
from jtt_tui.storage.bulk import batched
from jtt_tui.storage.fanout import in_order
from jtt_tui.storage.kinds import (
    ALL_KINDS,
    BILLING,
    INVOICES,
    MANUAL_TASKS,
    PROJECTS,
    SESSIONS,
    TICKETS,
    Kind,
)

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
# CSV rows sorted in memory at once; more are sorted in runs of this many,
# spilled to temporary files and merged
SORT_RUN = 10_000
_WRITE_EVERY = 1_000  # records or rows encoded before a write to the stream

T = TypeVar("T")


class _Counting:
    """A binary stream that counts what is written to it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.written = 0

    def write(self, text: str) -> None:
        data = text.encode()
        self.out.write(data)
        self.written += len(data)


@cache
def _list_of(model: type[Record]) -> TypeAdapter[list[Any]]:
    """Dumps a list of ``model`` records as one."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def bundle_records_of(bundle: DataBundle) -> Iterator[tuple[Kind, Record]]:
    """A bundle's records in the order the bundle lists them."""
    for kind, records in (
        (SESSIONS, bundle.sessions),
        (PROJECTS, bundle.projects),
        (MANUAL_TASKS, bundle.manual_tasks),
        (BILLING, [bundle.billing_settings] if bundle.billing_settings else []),
        (INVOICES, bundle.invoices),
        (TICKETS, bundle.tickets),
    ):
        for record in records:
            yield kind, record


def bundle_json(bundle: DataBundle) -> bytes:
    """The bundle as the file ``jtt export`` writes."""
    buffer = io.BytesIO()
    write_bundle_json(
        buffer,
        bundle_records_of(bundle),
        exported_at=bundle.exported_at,
        user_id=bundle.user_id,
    )
    return buffer.getvalue()


def write_bundle_json(
    out: BinaryIO,
    records: Iterable[tuple[Kind, Record]],
    *,
    exported_at: datetime | None,
    user_id: str,
) -> int:
    """Write a bundle of ``records`` (kind by kind, in the bundle's order) to
    ``out`` one record at a time: byte for byte what dumping the whole
    bundle gives (``model_dump_json(indent=2)`` and a newline). Returns the
    number of bytes written."""

    def parts() -> Iterator[tuple[Kind, Any]]:
        for kind, group in groupby(records, key=itemgetter(0)):
            if kind is BILLING:
                ((_, settings),) = group
                yield kind, settings
                continue
            of_kind = (record for _, record in group)
            yield kind, map(_list_text(kind, list), batched(of_kind, _WRITE_EVERY))

    return _write_bundle(out, parts(), exported_at=exported_at, user_id=user_id)


def write_store_json(out: BinaryIO, store: Storage, *, exported_at: datetime | None) -> int:
    """:func:`write_bundle_json` of everything the store holds for its
    user, read in one state. Checking each stored record and dumping it is
    most of an export's time: with records stored as text (the local
    store), a second process shares it (``fanout``: the bytes are the same)."""

    def parts() -> Iterator[tuple[Kind, Any]]:
        for kind in ALL_KINDS:
            if kind is BILLING:
                yield kind, next(iter(store.iter_records(BILLING)), None)
                continue
            stored = store.stored(kind, _WRITE_EVERY)
            yield kind, _shared(_list_text(kind, stored.check), stored)

    with store.consistent_read():
        return _write_bundle(out, parts(), exported_at=exported_at, user_id=store.user_id)


def _shared(work: Callable[[list[Any]], T], stored: Stored) -> Iterator[T]:
    """``work`` on each of the stored batches, in order; on two processes
    when the batches are stored text (cheap to hand over), where a fork is safe."""
    return in_order(work, stored.batches, helper=None if stored.as_text else False)


def _list_text(kind: Kind, check: Callable[[list[Any]], list[Any]]) -> Callable[[list[Any]], str]:
    """A batch (stored form) to its records' JSON list, indented one level
    deeper: ``[\n    {record},\n    {record}\n  ]`` (JSON text has no raw
    newline inside a string: each is a line break)."""
    model: type[Record] = kind.model
    dump = _list_of(model).dump_json

    def text(batch: list[Any]) -> str:
        return dump(check(batch), indent=2).decode().replace("\n", "\n  ")

    return text


def _write_bundle(
    out: BinaryIO,
    parts: Iterable[tuple[Kind, Any]],
    *,
    exported_at: datetime | None,
    user_id: str,
) -> int:
    """The bundle, from each kind's part in the bundle's order: the billing
    settings (or None), or the texts of its batches (``_list_text``)."""
    # the bundle without records; each kind's ``[]`` (settings: ``null``) is
    # where its records go, each dumped on its own and indented to its depth
    skeleton = DataBundle(exported_at=exported_at, user_id=user_id).model_dump_json(indent=2) + "\n"
    sink = _Counting(out)
    done = 0
    for kind, part in parts:
        if kind is BILLING and part is None:
            continue
        empty = "null" if kind is BILLING else "[]"
        marker = f'\n  "{kind.name}": {empty}'
        at = skeleton.index(marker, done) + len(marker) - len(empty)
        if kind is BILLING:
            sink.write(skeleton[done:at])
            done = at + len(empty)
            sink.write(part.model_dump_json(indent=2).replace("\n", "\n  "))
            continue
        opening = "["
        for text in part:
            if opening == "[":
                sink.write(skeleton[done:at])
                done = at + len(empty)
            # one batch's list is, one level deeper, its records' part of the kind's list
            sink.write(opening + text[1 : -len("\n  ]")])
            opening = ","
        if opening == ",":
            sink.write("\n  ]")
    sink.write(skeleton[done:])
    return sink.written


def in_range(
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    tz: tzinfo | None = None,
) -> Callable[[Record], bool]:
    """Whether a record belongs in an export of ``[start, end)``: sessions
    with a segment in it, manual entries and invoices dated (local days) in
    it; reference data (projects, settings, known tickets) always."""
    first = local_date(start, tz)
    last = local_date(end - timedelta(microseconds=1), tz)

    def keep(record: Record) -> bool:
        if isinstance(record, Session):
            return record.touches(start, end, now)
        if isinstance(record, ManualTask):
            return first <= record.date <= last
        if isinstance(record, Invoice):
            return first <= record.issue_date <= last
        return True

    return keep


def write_tracked_csv(
    out: BinaryIO,
    sessions: Iterable[Session],
    manual_tasks: Iterable[ManualTask],
    projects: Iterable[Project],
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
) -> int:
    """Everything tracked, one row per segment (``kind`` segment) and per
    manual entry (``kind`` manual), in time order; a segment is in or out by
    whether it touches the range, a manual entry by its date. Times in
    local ISO 8601 with offset; text a spreadsheet could run is defused.
    Written to ``out`` as UTF-8; returns the number of bytes."""
    checked = Stored(batched(sessions, _WRITE_EVERY), list)
    return _write_csv(out, checked, manual_tasks, projects, now=now, start=start, end=end, tz=tz)


def write_store_csv(
    out: BinaryIO,
    store: Storage,
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
) -> int:
    """:func:`write_tracked_csv` of the store's sessions, manual entries and
    projects, read in one state; the sessions' rows made by two processes
    when they are stored as text (see :func:`write_store_json`)."""
    with store.consistent_read():
        return _write_csv(
            out,
            store.stored(SESSIONS, _WRITE_EVERY),
            store.iter_records(MANUAL_TASKS),
            list(store.iter_records(PROJECTS)),
            now=now,
            start=start,
            end=end,
            tz=tz,
        )


def _write_csv(
    out: BinaryIO,
    sessions: Stored,
    manual_tasks: Iterable[ManualTask],
    projects: Iterable[Project],
    *,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
    tz: tzinfo | None,
) -> int:
    index = ProjectIndex(projects)
    hours = _HoursText()
    # each row is encoded to its CSV line before the sort: a run spilled to
    # disk is then a list of strings, far cheaper to pickle than of tuples
    lines: list[str] = []
    encode = csv.writer(
        SimpleNamespace(write=lines.append), quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    ).writerow
    encode(CSV_HEADER)
    sink = _Counting(out)
    sink.write(lines.pop())

    def encoded(rows: Iterable[tuple[Order, Row]]) -> Iterator[tuple[Order, str]]:
        for order, row in rows:
            encode(row)
            yield order, lines.pop()

    def session_lines(batch: list[Any]) -> list[tuple[Order, str]]:
        rows = _segment_rows(
            sessions.check(batch), index, hours, now=now, start=start, end=end, tz=tz
        )
        return list(encoded(rows))

    ordered = sorted_stably(
        chain(
            chain.from_iterable(_shared(session_lines, sessions)),
            encoded(_manual_rows(manual_tasks, index, hours, start=start, end=end, tz=tz)),
        )
    )
    while chunk := "".join(islice(ordered, _WRITE_EVERY)):
        sink.write(chunk)
    return sink.written


# (local day, segment 0 / manual entry 1, start instant / entry id)
Order = tuple[date, int, datetime | str]
Row = tuple[str, ...]


def _segment_rows(
    sessions: Iterable[Session],
    index: ProjectIndex,
    hours: _HoursText,
    *,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
    tz: tzinfo | None,
) -> Iterator[tuple[Order, Row]]:
    """(sort order, row) of each segment that touches the range."""
    for session in sessions:
        # what every row of the session shares, worked out once per session
        ticket = session.ticket_number
        name = cell(session.ticket_name)
        key = index.key_for(ticket, session.project_id)
        status = str(session.status)
        for segment in session.segments:
            seg_start, seg_end = segment.start, segment.end
            until = seg_end or now
            if (
                start is not None
                and end is not None
                and not (seg_start < end and (until > start or seg_start >= start))
            ):
                continue
            local_start = to_local(seg_start, tz)
            started = local_start.isoformat(timespec="seconds")
            yield (
                (local_start.date(), 0, seg_start),
                (
                    "segment",
                    ticket,
                    name,
                    key,
                    started[:10],  # its date (isoformat's year has 4 digits)
                    started,
                    to_local(seg_end, tz).isoformat(timespec="seconds") if seg_end else "",
                    hours.of(until - seg_start),
                    "running" if seg_end is None else status,
                    "",
                    "",
                ),
            )


def _manual_rows(
    manual_tasks: Iterable[ManualTask],
    index: ProjectIndex,
    hours: _HoursText,
    *,
    start: datetime | None,
    end: datetime | None,
    tz: tzinfo | None,
) -> Iterator[tuple[Order, Row]]:
    """(sort order, row) of each manual entry dated (local days) in the range."""
    first = local_date(start, tz) if start is not None else None
    last = local_date(end - timedelta(microseconds=1), tz) if end is not None else None
    for task in manual_tasks:
        if (first is not None and task.date < first) or (last is not None and task.date > last):
            continue
        yield (
            (task.date, 1, task.task_id),
            (
                "manual",
                task.ticket_number or "",
                cell(task.title),
                index.key_for(task.ticket_number, task.project_id),
                task.date.isoformat(),
                "",
                "",
                hours.of(task.duration),
                "",
                cell(task.category),
                "yes" if task.billable else "no",
            ),
        )


class _HoursText:
    """A duration as the CSV's ``duration_hours`` (whole seconds, in hours to
    4 places; nothing below zero), each distinct number of seconds worked
    out once: time tracked in minutes repeats the same few hundred values."""

    _LIMIT = 100_000  # distinct values kept (a few MB), then started afresh

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def of(self, duration: timedelta) -> str:
        seconds = max(int(duration.total_seconds()), 0)
        text = self._known.get(seconds)
        if text is None:
            if len(self._known) >= self._LIMIT:
                self._known.clear()
            text = self._known[seconds] = str(hours_decimal(timedelta(seconds=seconds), 4))
        return text


def sorted_stably(items: Iterable[tuple[Any, T]], run: int = SORT_RUN) -> Iterator[T]:
    """The values of (key, value) pairs in key order, equal keys in the order
    given (as ``sorted`` would), holding about ``run`` pairs in memory: more
    are sorted in runs, spilled to temporary files (private to the user,
    deleted on close) and merged."""
    pairs = iter(items)
    block = list(islice(pairs, run))
    block.sort(key=itemgetter(0))
    following = list(islice(pairs, run))
    if not following:
        for _, value in block:
            yield value
        return
    with ExitStack() as stack:
        runs: list[IO[bytes]] = []
        while block:
            runs.append(_spill(block, stack))
            block = following
            block.sort(key=itemgetter(0))
            following = list(islice(pairs, run)) if block else []
        # heapq.merge takes equal keys from earlier runs first: still stable
        merged: Iterator[tuple[Any, T]] = heapq.merge(
            *(_unspill(f) for f in runs), key=itemgetter(0)
        )
        for _, value in merged:
            yield value


def _spill(block: list[tuple[Any, T]], stack: ExitStack) -> IO[bytes]:
    spill = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by the stack)
    for start in range(0, len(block), _WRITE_EVERY):
        pickle.dump(block[start : start + _WRITE_EVERY], spill, pickle.HIGHEST_PROTOCOL)
    block.clear()
    spill.seek(0)
    return spill


def _unspill(spill: IO[bytes]) -> Iterator[tuple[Any, T]]:
    while True:
        try:
            part = pickle.load(spill)  # (our own file, written just before)
        except EOFError:
            return
        yield from part


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (``=``, ``+``, ``-``,
    ``@``, tab or CR first get a ``'``), without control characters (a
    terminal showing the file would obey them); every CSV jtt writes."""
    text = _CONTROL.sub("", text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
