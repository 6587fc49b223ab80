"""Moving one user's data from one store to another — local → MongoDB,
MongoDB → local, MongoDB → MongoDB — without losing a second of tracked time.

:func:`migrate` runs four steps and reports each through ``progress``:

1. **backup** — a complete, versioned JSON export of the source, written
   atomically (temp file, fsync, rename, 0600) before anything changes. It is
   also the snapshot that is copied, so the copy is one consistent state.
2. **connect** — the target answers (a classified failure otherwise).
3. **copy** — each collection in batches through the target's own bulk
   import (one transaction per batch on SQLite; one ``find`` and one bulk
   write per batch on MongoDB). In ``merge`` mode the newer version of a
   record wins and every conflict is listed; ``replace`` first empties the
   target's records of this user (after backing them up too).
4. **verify** — per collection, the counts and a checksum of every record's
   canonical JSON computed the same way on both sides; records that differ
   are named. Changes made to the source while copying (a timer paused in
   the app meanwhile) are caught up before the final comparison.

Every step is idempotent: running it again, or after it was killed halfway,
ends with the same target and no duplicates (records are keyed upserts), so
"resume" is simply running it again. Nothing here imports the UI.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jtt_tui.domain.models import DataBundle, Record
from jtt_tui.files import write_private_file
from jtt_tui.storage.base import META_FIELDS, ImportMode, ImportReport, Storage
from jtt_tui.storage.bulk import gc_paused
from jtt_tui.storage.errors import StorageError, StorageFailure, classify
from jtt_tui.storage.exporters import bundle_json
from jtt_tui.storage.kinds import ALL_KINDS, BILLING, Kind

Step = Literal["backup", "connect", "copy", "verify"]
STEPS: tuple[Step, ...] = ("backup", "connect", "copy", "verify")
StepState = Literal["pending", "running", "done", "failed", "skipped"]
DEFAULT_BATCH_SIZE = 500
log = logging.getLogger(__name__)
CATCH_UP_ROUNDS = 3


@dataclass(frozen=True)
class StepChanged:
    step: Step
    state: StepState
    detail: str = ""


@dataclass(frozen=True)
class CopyProgress:
    """How far the copy of one collection is."""

    collection: str
    done: int
    total: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Records per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / self.rate if self.rate else None


Event = StepChanged | CopyProgress
Progress = Callable[[Event], None]


@dataclass(frozen=True)
class Conflict:
    """The same record on both sides with different content: ``winner`` kept
    (the newer one in ``merge``; always the source in ``replace``)."""

    collection: str
    key: str
    winner: Literal["source", "target"]


@dataclass(frozen=True)
class Difference:
    collection: str
    key: str
    problem: Literal["missing in the target", "different in the target"]


@dataclass
class CollectionReport:
    name: str
    source: int = 0  # records in the source
    target_before: int = 0
    copied: int = 0  # inserted or updated in the target (would be, on a dry run)
    unchanged: int = 0  # already there, identical
    kept_in_target: int = 0  # the target's newer version kept (merge)
    deleted: int = 0  # emptied first (replace)
    target_after: int | None = None
    source_checksum: str = ""
    target_checksum: str = ""
    differences: list[Difference] = field(default_factory=list)
    verified: bool | None = None  # None: not verified (dry run, failed earlier)


@dataclass
class MigrationReport:
    source: str
    target: str
    mode: ImportMode
    dry_run: bool
    batch_size: int
    backup_path: Path | None = None
    target_backup_path: Path | None = None
    collections: dict[str, CollectionReport] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    caught_up: int = 0  # records changed in the source during the copy, copied again
    batches: int = 0  # bulk writes sent to the target
    duration_s: float = 0.0

    @property
    def verified(self) -> bool:
        reports = self.collections.values()
        return bool(reports) and all(report.verified for report in reports)

    @property
    def copied(self) -> int:
        return sum(report.copied for report in self.collections.values())

    @property
    def records(self) -> int:
        return sum(report.source for report in self.collections.values())

    @property
    def differences(self) -> list[Difference]:
        return [d for report in self.collections.values() for d in report.differences]


class MigrationError(Exception):
    """A step failed; the source is untouched and the target consistent
    (running the migration again completes it). The message is redacted."""

    def __init__(self, step: Step, message: str, *, failure: StorageFailure | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.failure = failure


class MigrationCancelled(MigrationError):
    def __init__(self, step: Step) -> None:
        super().__init__(
            step,
            "cancelled: the source is untouched; the target holds whole batches "
            "only (running the migration again completes it)",
        )


# -- canonical form -----------------------------------------------------------------


def canonical_json(record: Record) -> str:
    """A record's content (no owner, version or timestamps: each store keeps
    those itself) as JSON with sorted keys and no whitespace, values in the
    model's own JSON form (the same on every backend)."""
    return json.dumps(
        record.model_dump(mode="json", exclude=set(META_FIELDS)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def record_hash(record: Record) -> str:
    return hashlib.sha256(canonical_json(record).encode()).hexdigest()


def collection_checksum(hashes: dict[str, str], keys: Iterable[str] | None = None) -> str:
    """One hash over ``key:hash`` lines sorted by key (of ``keys`` only, if given)."""
    chosen = sorted(hashes if keys is None else (k for k in keys if k in hashes))
    digest = hashlib.sha256()
    for key in chosen:
        digest.update(f"{key}:{hashes[key]}\n".encode())
    return digest.hexdigest()


def canonical_bundle(bundle: DataBundle) -> bytes:
    """A whole export as canonical JSON (everything but the export time), to
    compare two exports byte for byte."""
    data = bundle.model_dump(mode="json", exclude={"exported_at"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def records_of(bundle: DataBundle, kind: Kind) -> list[Record]:
    if kind is BILLING:
        return [bundle.billing_settings] if bundle.billing_settings is not None else []
    return list(getattr(bundle, kind.name))


def bundle_of(kind: Kind, records: list[Record]) -> DataBundle:
    if kind is BILLING:
        return DataBundle(billing_settings=records[0] if records else None)
    return DataBundle(**{kind.name: records})


def _stamps(bundle: DataBundle) -> dict[tuple[str, str], tuple[int, object]]:
    """Each record's version and last change: every save moves both."""
    return {
        (kind.name, kind.key_of(r)): (r.version, r.updated_at)
        for kind in ALL_KINDS
        for r in records_of(bundle, kind)
    }


def _changed_since(
    stamps: dict[tuple[str, str], tuple[int, object]], now: DataBundle
) -> list[tuple[Kind, list[Record]]]:
    """Records of ``now`` that are new or saved again since ``stamps``."""
    changed = []
    for kind in ALL_KINDS:
        records = [
            r
            for r in records_of(now, kind)
            if stamps.get((kind.name, kind.key_of(r))) != (r.version, r.updated_at)
        ]
        if records:
            changed.append((kind, records))
    return changed


def _hashes(kind: Kind, records: Iterable[Record]) -> dict[str, str]:
    return {kind.key_of(record): record_hash(record) for record in records}


# -- the migration -----------------------------------------------------------------


def migrate(
    source: Storage,
    target: Storage,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    backup_path: Path | None = None,
    progress: Progress | None = None,
    mode: ImportMode = "merge",
    cancel: threading.Event | None = None,
) -> MigrationReport:
    """Copy everything ``source``'s user has into ``target`` and verify it.

    Both stores must be for the same user id. ``backup_path`` is where the
    source's export goes first (no backup is written when it is None or on a
    dry run). ``cancel`` is checked between batches. Raises MigrationError
    (MigrationCancelled) with the failed step; the report comes back
    otherwise, ``report.verified`` saying whether the target matches."""
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    if mode not in ("merge", "replace"):
        raise ValueError("mode must be 'merge' or 'replace'")
    if source.user_id != target.user_id:
        raise ValueError(
            f"the source is user {source.user_id} and the target user {target.user_id}: "
            "a migration keeps the same user id"
        )
    run = _Run(
        source=source,
        target=target,
        batch_size=batch_size,
        dry_run=dry_run,
        mode=mode,
        progress=progress,
        cancel=cancel,
    )
    return run.go(backup_path)


class _Run:
    def __init__(
        self,
        *,
        source: Storage,
        target: Storage,
        batch_size: int,
        dry_run: bool,
        mode: ImportMode,
        progress: Progress | None,
        cancel: threading.Event | None,
    ) -> None:
        self.source, self.target = source, target
        self.batch_size, self.dry_run, self.mode = batch_size, dry_run, mode
        self.progress = progress or (lambda event: None)
        self.cancel = cancel
        self.report = MigrationReport(
            source=source.location,
            target=target.location,
            mode=mode,
            dry_run=dry_run,
            batch_size=batch_size,
        )

    def go(self, backup_path: Path | None) -> MigrationReport:
        started = time.perf_counter()
        # Several whole copies of the data are alive at once (snapshot, the
        # source re-read, the target): with the cyclic collector on, its
        # repeated full scans of that heap took longer than the work itself
        # (a 100,000-record verify: 20 s → see bench/migrate.py). Records
        # form no reference cycles, so nothing is left uncollected.
        with gc_paused():
            snapshot = self._step("backup", lambda: self._backup(backup_path))
            self._step("connect", self._connect)
            self._step("copy", lambda: self._copy(snapshot))
            self._step("verify", lambda: self._verify(snapshot))
        self.report.duration_s = time.perf_counter() - started
        return self.report

    # -- steps -----------------------------------------------------------------------

    def _step(self, step: Step, work: Callable[[], Any]) -> Any:
        self.progress(StepChanged(step, "running"))
        log.info("migration %s: %s → %s", step, self.report.source, self.report.target)
        try:
            result = work()
        except MigrationError as exc:
            log.warning("migration %s failed: %s", step, exc)
            self.progress(StepChanged(step, "failed", str(exc)))
            raise
        except StorageError as exc:
            failure = classify(exc)
            self.progress(StepChanged(step, "failed", f"{failure.title}: {failure.message}"))
            raise MigrationError(
                step, f"{step} failed: {failure.title}: {failure.message}", failure=failure
            ) from exc
        except OSError as exc:
            failure = classify(exc)
            message = f"{step} failed: {failure.message}"
            self.progress(StepChanged(step, "failed", message))
            raise MigrationError(step, message, failure=failure) from exc
        state, detail, value = result
        log.info("migration %s %s: %s", step, state, detail)
        self.progress(StepChanged(step, state, detail))
        return value

    def _backup(self, path: Path | None) -> tuple[StepState, str, DataBundle]:
        snapshot = self.source.export_all()
        for kind in ALL_KINDS:
            self.report.collections[kind.name] = CollectionReport(
                kind.name, source=len(records_of(snapshot, kind))
            )
        count = snapshot.record_count()
        if self.dry_run:
            return "skipped", f"dry run: {count} records read, nothing written", snapshot
        if path is None:
            return "skipped", f"{count} records read; no backup asked for", snapshot
        write_private_file(path, bundle_json(snapshot))
        self.report.backup_path = path
        return "done", f"{count} records saved to {path}", snapshot

    def _connect(self) -> tuple[StepState, str, None]:
        if not self.target.is_connected():
            self.target.connect()
        counts = self.target.count_records()  # a real round trip: it answers
        for name, report in self.report.collections.items():
            report.target_before = counts.get(name, 0)
        there = sum(counts.values())
        return "done", f"{self.target.location}: {there} records already there", None

    def _copy(self, snapshot: DataBundle) -> tuple[StepState, str, None]:
        if self.dry_run:
            return self._preview(snapshot)
        if self.mode == "replace" or any(r.target_before for r in self.report.collections.values()):
            self._backup_target()
        if self.mode == "replace":
            self._check_cancel("copy")
            emptied = self.target.import_all(DataBundle(), mode="replace")
            for name, counts in emptied.kinds.items():
                self.report.collections[name].deleted = counts.deleted
        for kind in ALL_KINDS:
            self._copy_kind(kind, records_of(snapshot, kind))
        copied = self.report.copied
        kept = sum(r.kept_in_target for r in self.report.collections.values())
        detail = f"{copied} record{'s' if copied != 1 else ''} written"
        if kept:
            detail += f", {kept} newer in the target kept"
        return "done", detail, None

    def _backup_target(self) -> None:
        if self.report.backup_path is None:
            return
        path = self.report.backup_path
        target_path = path.with_name(f"{path.stem}-target-before{path.suffix or '.json'}")
        write_private_file(target_path, bundle_json(self.target.export_all()))
        self.report.target_backup_path = target_path

    def _copy_kind(self, kind: Kind, records: list[Record]) -> None:
        started = time.perf_counter()
        total = len(records)
        self.progress(CopyProgress(kind.name, 0, total, 0.0))
        for start in range(0, total, self.batch_size):
            self._check_cancel("copy")
            batch = records[start : start + self.batch_size]
            result = self.target.import_all(bundle_of(kind, batch), mode="merge")
            self.report.batches += 1
            self._count(kind, result)
            done = min(start + self.batch_size, total)
            self.progress(CopyProgress(kind.name, done, total, time.perf_counter() - started))

    def _count(self, kind: Kind, result: ImportReport) -> None:
        collection = self.report.collections[kind.name]
        counts = result.for_kind(kind)
        collection.copied += counts.written
        collection.unchanged += counts.unchanged
        collection.kept_in_target += counts.kept_existing
        self.report.conflicts += [Conflict(n, k, "target") for n, k in result.kept_existing]
        self.report.conflicts += [Conflict(n, k, "source") for n, k in result.replaced]

    def _preview(self, snapshot: DataBundle) -> tuple[StepState, str, None]:
        for kind in ALL_KINDS:
            result = self.target.preview_import(
                bundle_of(kind, records_of(snapshot, kind)), mode=self.mode
            )
            self._count(kind, result)
            self.report.collections[kind.name].deleted = result.for_kind(kind).deleted
        return "skipped", f"dry run: {self.report.copied} records would be written", None

    def _verify(self, snapshot: DataBundle) -> tuple[StepState, str, None]:
        if self.dry_run:
            return "skipped", "dry run", None
        expected = {kind.name: _hashes(kind, records_of(snapshot, kind)) for kind in ALL_KINDS}
        stamps = _stamps(snapshot)
        kept = {(c.collection, c.key) for c in self.report.conflicts if c.winner == "target"}
        for _ in range(CATCH_UP_ROUNDS):
            now = self.source.export_all()
            changed = _changed_since(stamps, now)
            if not changed:
                break
            # written in the source while copying: copy those again (newer wins)
            for kind, records in changed:
                for start in range(0, len(records), self.batch_size):
                    batch = records[start : start + self.batch_size]
                    self._count(kind, self.target.import_all(bundle_of(kind, batch)))
                    self.report.batches += 1
                    self.report.caught_up += len(batch)
            expected = {kind.name: _hashes(kind, records_of(now, kind)) for kind in ALL_KINDS}
            stamps = _stamps(now)
        target_now = self.target.export_all()
        target_counts = self.target.count_records()
        for kind in ALL_KINDS:
            self._compare(kind, expected[kind.name], target_now, target_counts, kept)
        differences = self.report.differences
        if differences:
            shown = ", ".join(f"{d.collection} {d.key}" for d in differences[:5])
            more = f" and {len(differences) - 5} more" if len(differences) > 5 else ""
            raise MigrationError(
                "verify",
                f"{len(differences)} records differ in the target: {shown}{more} "
                "(run the migration again; the backup has the source's data)",
            )
        checked = sum(r.source for r in self.report.collections.values())
        return "done", f"{checked} records: counts and checksums match", None

    def _compare(
        self,
        kind: Kind,
        source_hashes: dict[str, str],
        target_now: DataBundle,
        target_counts: dict[str, int],
        kept: set[tuple[str, str]],
    ) -> None:
        collection = self.report.collections[kind.name]
        target_hashes = _hashes(kind, records_of(target_now, kind))
        collection.source = len(source_hashes)
        collection.target_after = target_counts.get(kind.name, len(target_hashes))
        collection.source_checksum = collection_checksum(source_hashes)
        collection.target_checksum = collection_checksum(target_hashes, source_hashes)
        for key, digest in sorted(source_hashes.items()):
            theirs = target_hashes.get(key)
            if theirs is None:
                collection.differences.append(Difference(kind.name, key, "missing in the target"))
            elif theirs != digest and (kind.name, key) not in kept:
                collection.differences.append(Difference(kind.name, key, "different in the target"))
        collection.verified = not collection.differences

    def _check_cancel(self, step: Step) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise MigrationCancelled(step)
