"""Import, export and reset: whole-store data operations for the CLI and TUI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO, Literal

from jtt_tui.domain.journal import JournalEntry
from jtt_tui.domain.models import ALL_DATA_KINDS, DataBundle, Record, Ticket
from jtt_tui.files import private_file_writer, write_private_file
from jtt_tui.services.ledger import Change, Ledger, Plan
from jtt_tui.storage.base import (
    ImportMode,
    ImportReport,
    Storage,
    batch_importer,
    bundle_records,
    plan_import_record,
)
from jtt_tui.storage.exporters import (
    bundle_json,
    in_range,
    write_bundle_json,
    write_store_csv,
    write_store_json,
)
from jtt_tui.storage.importers import ParsedImport, read_import
from jtt_tui.storage.importers.reading import ImportFormat
from jtt_tui.storage.importers.streaming import NotStreamable, stream_bundle
from jtt_tui.storage.kinds import Kind

ExportFormat = Literal["json", "csv"]


@dataclass
class ImportOutcome:
    parsed: ParsedImport
    report: ImportReport
    dry_run: bool
    notes: list[str] = field(default_factory=list)


def export_data(
    store: Storage,
    path: Path,
    fmt: ExportFormat = "json",
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
) -> int:
    """Write the export to ``path`` (atomically, 0600); returns its size in bytes."""
    with private_file_writer(path) as out:
        return export_to(store, out, fmt, start=start, end=end, tz=tz)


def export_to(
    store: Storage,
    out: BinaryIO,
    fmt: ExportFormat = "json",
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
) -> int:
    """Write the export (JSON bundle or CSV of tracked time; only what
    touches ``[start, end)`` when given) to ``out``, reading the store a
    batch of records at a time; returns the number of bytes written."""
    now = store.clock.now()
    if fmt == "json":
        if start is None or end is None:
            return write_store_json(out, store, exported_at=now)
        keep = in_range(start, end, now=now, tz=tz)
        records = (pair for pair in store.export_records() if keep(pair[1]))
        return write_bundle_json(out, records, exported_at=now, user_id=store.user_id)
    return write_store_csv(out, store, now=now, start=start, end=end, tz=tz)


def import_data(
    store: Storage,
    path: Path,
    fmt: ImportFormat | Literal["auto"] = "auto",
    *,
    mode: ImportMode = "merge",
    dry_run: bool = False,
    ledger: Ledger | None = None,
) -> ImportOutcome:
    """Read, validate and import a whole file; nothing changes unless all of
    it is valid and keeps the ledger's rules (no time on two tickets at once,
    billed time untouched). ``dry_run`` only reports what would happen."""
    ledger = ledger or Ledger(store)
    if not dry_run and fmt in ("auto", "bundle") and path.suffix.lower() != ".csv":
        streamed = _import_streamed(store, ledger, path, mode, detect=fmt == "auto")
        if streamed is not None:
            return streamed
    parsed = read_import(path, fmt, user_id=store.user_id)
    bundle = parsed.bundle
    if parsed.format == "tickets-csv":
        if mode == "replace":
            raise ValueError(
                "a ticket list is merged into the known tickets; --mode replace does not apply"
            )
        bundle = _merge_tickets(store, bundle.tickets)
    if dry_run:
        ledger.check(import_plan(store, bundle, mode, f"import {path.name}"))
        report = store.preview_import(bundle, mode)
    else:
        report = import_checked(store, ledger, bundle, mode, f"import {path.name}")
    return ImportOutcome(parsed=parsed, report=report, dry_run=dry_run, notes=parsed.notes)


def _import_streamed(
    store: Storage, ledger: Ledger, path: Path, mode: ImportMode, *, detect: bool
) -> ImportOutcome | None:
    """A jtt bundle imported as it is read, a batch of records at a time, in
    one transaction with the ledger's checks and its journal entry (memory:
    a batch, not the file). None when the store cannot stream an import
    (MongoDB, the dual store: they import the whole bundle) or the file
    cannot be read this way (then the whole-file reader says what is wrong,
    or imports it whole): nothing was written."""
    importer = batch_importer(store)
    if importer is None:
        return None
    description = f"import {path.name}"

    def describe(count: int) -> str:
        return f"{description} ({count} record{'s' * (count != 1)})"

    def write(add: Callable[[Change], None], close: Callable[[], JournalEntry]) -> ImportReport:
        def watch(kind: Kind, key: str, before: Record | None, after: Record | None) -> None:
            add(Change(kind, key, before, after))

        batches = stream_bundle(path, user_id=store.user_id, detect=detect)
        return importer.import_batches(batches, mode, watch=watch, close=close)

    try:
        report = ledger.stream_change("import", describe, write)
    except NotStreamable:
        return None
    # (the records went to the store as they were read: the bundle is not kept)
    return ImportOutcome(parsed=ParsedImport("bundle", DataBundle()), report=report, dry_run=False)


def import_plan(store: Storage, bundle: DataBundle, mode: ImportMode, description: str) -> Plan:
    """What importing ``bundle`` would change, record by record (for the
    ledger's checks and the journal entry that lets it be undone)."""
    report = ImportReport(mode=mode)
    now = store.clock.now()
    changes: list[Change] = []
    for kind, records in bundle_records(bundle, store.user_id):
        existing = {kind.key_of(r): r for r in store.load_all(kind)}
        for incoming in records:
            key = kind.key_of(incoming)
            planned = plan_import_record(
                kind, existing.get(key), incoming, report, user_id=store.user_id, now=now
            )
            if planned is not None:
                changes.append(Change(kind, key, existing.get(key), planned))
        if mode == "replace":
            keep = {kind.key_of(r) for r in records}
            changes += [
                Change(kind, key, record, None)
                for key, record in existing.items()
                if key not in keep and record.user_id == store.user_id
            ]
    count = len(changes)
    text = f"{description} ({count} record{'s' * (count != 1)})"
    return Plan("import", text, changes, recorded=True)


def import_checked(
    store: Storage, ledger: Ledger, bundle: DataBundle, mode: ImportMode, description: str
) -> ImportReport:
    """The import as one change: checked by the ledger (history as recorded:
    only overlaps and billed time are refused), written with its journal
    entry in one transaction."""
    report = None

    def plan() -> Plan:
        return import_plan(store, bundle, mode, description)

    def write(planned: Plan, entry: JournalEntry) -> None:
        nonlocal report
        report = store.import_all(bundle, mode, journal=entry)

    ledger.apply(plan, write=write)
    assert report is not None
    return report


def _merge_tickets(store: Storage, incoming: list[Ticket]) -> DataBundle:
    """Field by field: a list fills in or updates names and story points of
    known tickets and never blanks what it leaves empty."""
    known = store.get_tickets()
    now = store.clock.now()
    merged = []
    for ticket in incoming:
        current = known.get(ticket.ticket_number)
        if current is None:
            merged.append(ticket.model_copy(update={"updated_at": now}))
            continue
        changes: dict[str, object] = {}
        if ticket.ticket_name and ticket.ticket_name != current.ticket_name:
            changes["ticket_name"] = ticket.ticket_name
        if ticket.story_points is not None and ticket.story_points != current.story_points:
            changes["story_points"] = ticket.story_points
        if changes:
            # strictly newer than what is stored, so the merge takes it
            stamp = max(now, (current.updated_at or now) + timedelta(milliseconds=1))
            merged.append(current.model_copy(update={**changes, "updated_at": stamp}))
    return DataBundle(tickets=merged)


def reset_data(
    store: Storage, kinds: set[str], backup_dir: Path, *, ledger: Ledger | None = None
) -> tuple[Path, ImportReport]:
    """Delete this user's records of ``kinds`` after writing a full backup
    export; returns the backup path. One atomic replace on SQLite. Time on
    sent or paid invoices that stay is not deleted (refused, nothing changes)."""
    unknown = kinds - set(ALL_DATA_KINDS)
    if unknown:
        raise ValueError(f"unknown data kinds: {', '.join(sorted(unknown))}")
    ledger = ledger or Ledger(store)
    bundle = store.export_all()
    kept = bundle.model_copy(
        update={kind: ([] if kind != "billing_settings" else None) for kind in kinds}
    )
    what = ", ".join(sorted(k.replace("_", " ") for k in kinds))
    ledger.check(import_plan(store, kept, "replace", f"reset {what}"))
    stamp = store.clock.now().strftime("%Y%m%d-%H%M%S")
    backup = backup_dir / f"before-reset-{stamp}.json"
    write_private_file(backup, bundle_json(bundle))
    return backup, import_checked(store, ledger, kept, "replace", f"reset {what}")
