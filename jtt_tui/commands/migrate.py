"""jtt migrate: copy everything to the other backend, verified."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import IO, Any

from jtt_tui.commands.context import CommandFailed, Context
from jtt_tui.commands.output import table
from jtt_tui.storage.errors import redact
from jtt_tui.words import count


def register(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="copy all data to the other backend, verified (backup first)",
        description="Copy everything from the store in use to another one: a backup of the "
        "source first, then a connection test, a batched copy and a verification of counts "
        "and checksums. Safe to run again (or after an interruption): it completes the copy "
        "without duplicates. Exit code 0 only when the verification passed.",
    )
    migrate.add_argument("--to", required=True, choices=["mongodb", "local"], help="the target")
    migrate.add_argument(
        "--uri",
        help="target MongoDB (default: the configured one); a password in it is used for "
        "this run only — prefer keyring (`jtt db configure`) or MONGODB_PASSWORD",
    )
    migrate.add_argument("--database", help="target MongoDB database (default: configured)")
    migrate.add_argument(
        "--batch-size", type=int, default=500, help="records per write (default 500)"
    )
    migrate.add_argument(
        "--dry-run", action="store_true", help="read and check everything, write nothing"
    )
    migrate.add_argument(
        "--backup", type=Path, help="where the source's backup goes (default: the backups folder)"
    )
    migrate.add_argument(
        "--mode",
        choices=["merge", "replace"],
        default="merge",
        help="merge: the newer version of each record wins, conflicts listed (default); "
        "replace: the target's records of this user are removed first (after a backup)",
    )
    migrate.add_argument(
        "--switch",
        action="store_true",
        help="use the target from now on (only if the verification passed)",
    )
    migrate.set_defaults(handler=cmd_migrate)


def cmd_migrate(ctx: Context, args: argparse.Namespace) -> int:
    from datetime import datetime

    from pydantic import ValidationError

    from jtt_tui.domain.validation import explain
    from jtt_tui.services.database import merged_config
    from jtt_tui.services.migration import (
        default_backup_path,
        plan_migration,
        switch_after_migration,
    )
    from jtt_tui.storage.errors import StorageError, classify
    from jtt_tui.storage.migrate import MigrationError, migrate

    if args.batch_size < 1 or args.batch_size > 100_000:
        raise CommandFailed("--batch-size must be between 1 and 100000", exit_code=2)
    if args.dry_run and args.switch:
        raise CommandFailed("--switch cannot be used with --dry-run", exit_code=2)
    settings = ctx.settings
    config = None
    if args.to == "mongodb":
        changes = {
            name: value.strip()
            for name, value in (("uri", args.uri), ("database", args.database))
            if value is not None
        }
        try:
            config = merged_config(settings, changes, None)
        except ValidationError as exc:
            raise CommandFailed(explain(exc, context="the target"), exit_code=2) from None
    elif args.uri or args.database:
        raise CommandFailed("--uri and --database are for --to mongodb", exit_code=2)
    try:
        plan = plan_migration(settings, args.to, config=config)
    except StorageError as exc:
        failure = classify(exc)
        lines = [f"nothing migrated: {failure.message}"]
        if failure.kind not in ("config",):
            lines += [f"  hint: {tip}" for tip in failure.suggestions[:2]]
        raise CommandFailed("\n".join(lines)) from None
    backup = args.backup or default_backup_path(settings, datetime.now().astimezone())
    printer = _Progress(sys.stderr)
    ctx.out(f"From: {plan.source.location}")
    dry = "  (dry run: nothing is written)" if args.dry_run else ""
    ctx.out(f"To:   {plan.target.location}{dry}")
    try:
        report = migrate(
            plan.source,
            plan.target,
            batch_size=args.batch_size,
            dry_run=args.dry_run,
            backup_path=None if args.dry_run else backup,
            mode=args.mode,
            progress=printer,
        )
    except MigrationError as exc:
        lines = [f"migration stopped at the {exc.step} step: {exc}"]
        if exc.failure is not None:
            lines += [f"  hint: {tip}" for tip in exc.failure.suggestions[:2]]
        lines.append("  the source is untouched; run the same command again to complete it")
        raise CommandFailed("\n".join(lines)) from None
    finally:
        printer.finish()
        plan.close()
    _summary(ctx, report)
    if report.dry_run:
        return 0
    if not report.verified:
        raise CommandFailed("verification failed: the target does not match the source")
    if args.switch:
        from jtt_tui.secrets import SecretStoreUnavailable

        try:
            switch_after_migration(settings, plan)
        except (SecretStoreUnavailable, OSError) as exc:
            raise CommandFailed(
                f"migrated and verified, but not switched: {exc}. Fix that, then run "
                f"`jtt db use {args.to}`."
            ) from None
        where = "MongoDB" if args.to == "mongodb" else "the local store"
        ctx.out(f"Switched: jtt now uses {where}.")
        if "MONGODB_ENABLED" in ctx.environ:
            ctx.err("warning: MONGODB_ENABLED in the environment overrides this choice")
    elif args.to == "mongodb":
        ctx.out("Not switched: `jtt db use mongodb` (or --switch) makes it the store in use.")
    else:
        ctx.out("Not switched: `jtt db use local` (or --switch) makes it the store in use.")
    return 0


def _summary(ctx: Context, report: Any) -> None:
    dry = report.dry_run
    rows = []
    for name, c in report.collections.items():
        verified = "-" if c.verified is None else ("yes" if c.verified else "NO")
        rows.append(
            [
                name.replace("_", " "),
                str(c.source),
                str(c.copied),
                str(c.unchanged),
                str(c.kept_in_target),
                verified,
            ]
        )
    headers = [
        "collection",
        "source",
        "would copy" if dry else "copied",
        "already there",
        "newer in target",
        "verified",
    ]
    ctx.out("")
    ctx.out(table(headers, rows, "lrrrrl"))
    if report.backup_path:
        ctx.out(f"Backup of the source: {report.backup_path}")
    if report.target_backup_path:
        ctx.out(f"Backup of the target as it was: {report.target_backup_path}")
    if report.conflicts:
        ctx.out(
            f"{count(len(report.conflicts), 'record')} differed on both sides (the newer kept):"
        )
        for conflict in report.conflicts[:20]:
            kept = "source's" if conflict.winner == "source" else "target's"
            ctx.out(f"  {conflict.collection} {redact(conflict.key)}: kept the {kept} version")
        if len(report.conflicts) > 20:
            ctx.out(f"  … and {len(report.conflicts) - 20} more")
    for difference in report.differences[:20]:
        ctx.out(f"  DIFFERS {difference.collection} {difference.key}: {difference.problem}")
    if dry:
        ctx.out(f"Dry run: {report.copied} of {report.records} records would be written.")
    elif report.verified:
        ctx.out(
            f"Verified: {report.records} records, counts and checksums match "
            f"({report.duration_s:.1f} s, {report.batches} batches)."
        )


class _Progress:
    """Steps as lines; the copy as a bar redrawn in place on a terminal, or a
    plain line every few seconds (and per collection) when not."""

    INTERVAL_S = 2.0

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0
        self._drawn = False

    def __call__(self, event: Any) -> None:
        from jtt_tui.storage.migrate import CopyProgress

        if isinstance(event, CopyProgress):
            self._copy(event)
            return
        if event.state == "running":
            return
        self.finish()
        mark = {"done": "ok", "skipped": "--", "failed": "FAIL"}.get(event.state, event.state)
        detail = f": {redact(event.detail)}" if event.detail else ""
        print(f"[{mark:>4}] {event.step}{detail}", file=self.stream, flush=True)

    def _copy(self, event: Any) -> None:
        if event.total == 0:
            return
        now = time.monotonic()
        final = event.done >= event.total
        eta = "" if event.eta_s is None else f", about {event.eta_s:.0f} s left"
        text = (
            f"{event.collection}: {event.done}/{event.total} "
            f"({event.rate:,.0f} records/s{eta if not final else ''})"
        )
        if self.tty:
            width = 24
            filled = int(width * event.done / event.total)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r  [{bar}] {text}\x1b[K")
            self.stream.flush()
            self._drawn = True
            if final:
                self.finish()
        elif final or event.done == 0 or now - self._last >= self.INTERVAL_S:
            if event.done or final:
                print(f"  {text}", file=self.stream, flush=True)
            self._last = now

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
