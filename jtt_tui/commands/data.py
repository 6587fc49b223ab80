"""export, import and reset."""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from jtt_tui.commands import argtypes
from jtt_tui.commands.context import CommandFailed, Context
from jtt_tui.commands.output import table
from jtt_tui.domain.calendar import day_start, local_date
from jtt_tui.domain.parsing import parse_day

if TYPE_CHECKING:
    from jtt_tui.services.data import ExportFormat
    from jtt_tui.storage.importers.reading import ImportFormat

EPOCH_DAY = date(1970, 1, 1)  # "from the beginning" for --to without --from
ELECTRON_FOLDERS = ("project-time-tracker", "jira-time-tracker", "my-nextron-app")
RESET_KINDS = {
    "sessions": "sessions",
    "projects": "projects",
    "manual_tasks": "manual_tasks",
    "billing": "billing_settings",
    "invoices": "invoices",
    "tickets": "tickets",
}


def register(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser("export", help="write all data to a file (JSON bundle or CSV)")
    export.add_argument("path", help="file to write, or - for standard output")
    export.add_argument(
        "--format",
        choices=["json", "csv"],
        default=None,
        help="json: the versioned bundle (default; .csv paths default to csv); "
        "csv: one row per tracked segment",
    )
    export.add_argument(
        "--from", dest="start", metavar="DATE", type=argtypes.day, help="first day to include"
    )
    export.add_argument(
        "--to", dest="end", metavar="DATE", type=argtypes.day, help="last day to include"
    )
    export.set_defaults(handler=cmd_export)

    imp = commands.add_parser("import", help="import a file: all of it, or nothing")
    imp.add_argument("path", nargs="?", help="the file (omit with --from-electron)")
    imp.add_argument(
        "--format",
        choices=["auto", "bundle", "electron", "tickets-csv"],
        default="auto",
        help="default: detected from the file",
    )
    imp.add_argument(
        "--mode",
        choices=["merge", "replace"],
        default="merge",
        help="merge (default): keep what is not in the file, newer record wins; "
        "replace: leave exactly the file's records",
    )
    imp.add_argument("--dry-run", action="store_true", help="only report what would change")
    imp.add_argument(
        "--from-electron",
        action="store_true",
        help="find the Electron app's data file in its usual folders",
    )
    imp.set_defaults(handler=cmd_import)

    reset = commands.add_parser("reset", help="delete data (a backup export is written first)")
    for flag in ("sessions", "projects", "manual-tasks", "billing", "invoices", "tickets"):
        reset.add_argument(f"--{flag}", action="store_true", help=f"delete all {flag}")
    reset.add_argument("--all", action="store_true", help="delete everything")
    reset.add_argument("--yes", action="store_true", help="confirm: really delete")
    reset.set_defaults(handler=cmd_reset)

    restore = commands.add_parser(
        "restore",
        help="put a backup of the local store back (what it replaces is kept)",
        description="Replace the local store with a backup (from the backups folder, "
        "`jtt doctor` shows where). The backup is checked first; the store it replaces is "
        "kept as replaced-….db in the backups folder. Close the app first.",
    )
    restore.add_argument("backup", help="the backup file (jtt-YYYYMMDD-HHMMSS.db)")
    restore.add_argument("--yes", action="store_true", help="confirm: really replace the store")
    restore.set_defaults(handler=cmd_restore)


def cmd_export(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.data import export_data, export_to

    store = ctx.store
    fmt: ExportFormat = args.format or ("csv" if args.path.lower().endswith(".csv") else "json")
    start = end = None
    if args.start or args.end:
        today = local_date(store.clock.now())
        last = parse_day(args.end, today=today, what="--to") if args.end else today
        first = parse_day(args.start, today=today, what="--from") if args.start else EPOCH_DAY
        if last < first:
            raise CommandFailed(f"--to {last} is before --from {first}")
        start, end = day_start(first), day_start(last + timedelta(days=1))
    if args.path == "-":
        sys.stdout.flush()  # (what was written as text first stays first)
        export_to(store, sys.stdout.buffer, fmt, start=start, end=end)
        sys.stdout.buffer.flush()
        return 0
    path = Path(args.path).expanduser()
    size = export_data(store, path, fmt, start=start, end=end)
    ctx.out(f"Wrote {path} ({fmt}, {size:,} bytes)")
    return 0


def find_electron_file(config_home: Path | None = None) -> Path:
    import platformdirs

    base = config_home or Path(platformdirs.user_config_dir()).expanduser()
    tried = [base / folder / "app-data.json" for folder in ELECTRON_FOLDERS]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise CommandFailed(
        "no Electron app data file found; looked in: " + ", ".join(str(p) for p in tried)
    )


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.data import import_data

    if args.from_electron:
        if args.path:
            raise CommandFailed("give a path or --from-electron, not both", exit_code=2)
        path = find_electron_file()
        fmt: ImportFormat | Literal["auto"] = "electron"
        ctx.out(f"Found {path}")
    elif args.path:
        path = Path(args.path).expanduser()
        fmt = args.format
    else:
        raise CommandFailed("which file? give a path, or --from-electron", exit_code=2)
    outcome = import_data(
        ctx.store, path, fmt, mode=args.mode, dry_run=args.dry_run, ledger=ctx.services.ledger
    )
    report = outcome.report
    rows = [
        [
            kind,
            str(r.inserted),
            str(r.updated),
            str(r.unchanged),
            str(r.kept_existing),
            str(r.deleted),
        ]
        for kind, r in report.kinds.items()
        if r.inserted or r.updated or r.unchanged or r.kept_existing or r.deleted
    ]
    verb = "Would import" if outcome.dry_run else "Imported"
    ctx.out(f"{verb} {path} ({outcome.parsed.format}, mode {report.mode}):")
    if rows:
        ctx.out(
            table(
                ["Records", "New", "Updated", "Unchanged", "Kept (newer here)", "Deleted"],
                rows,
                "lrrrrr",
            )
        )
    else:
        ctx.out("  the file holds no records")
    for key in report.kept_existing[:20]:
        ctx.out(f"  kept the newer copy already here: {key[0]} {key[1]}")
    if outcome.notes:
        ctx.out("Notes:")
        for note in outcome.notes:
            ctx.out(f"  - {note}")
    if outcome.dry_run:
        ctx.out("Dry run: nothing was changed.")
    return 0


def cmd_reset(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.data import reset_data

    chosen = {
        stored for flag, stored in RESET_KINDS.items() if args.all or getattr(args, flag, False)
    }
    if not chosen:
        raise CommandFailed(
            "say what to delete: --sessions, --projects, --manual-tasks, "
            "--billing, --invoices, --tickets or --all",
            exit_code=2,
        )
    if not args.yes:
        raise CommandFailed(
            "this deletes data; add --yes to confirm (a backup export is written first)",
            exit_code=2,
        )
    backup, report = reset_data(
        ctx.store, chosen, ctx.settings.backup_dir, ledger=ctx.services.ledger
    )
    ctx.out(f"Backup written to {backup}")
    for kind in sorted(chosen):
        deleted = report.kinds[kind].deleted if kind in report.kinds else 0
        ctx.out(f"Deleted {deleted} {kind.replace('_', ' ')}")
    return 0


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    from datetime import datetime
    from pathlib import Path

    from jtt_tui.services.backup import RestoreRefused, restore

    settings = ctx.settings
    if settings.backend != "local":
        raise CommandFailed(
            "restore puts back the local store; MongoDB is in use (`jtt db use local` first)"
        )
    backup = Path(args.backup).expanduser()
    store_path = settings.store_path
    if not args.yes:
        if not ctx.interactive:
            raise CommandFailed(
                f"this replaces {store_path} with {backup}; add --yes to confirm (what it "
                "replaces is kept in the backups folder)",
                exit_code=2,
            )
        answer = input(f"Replace {store_path} with {backup}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            ctx.out("Nothing was changed.")
            return 1
    try:
        kept = restore(backup, store_path, settings.backup_dir, datetime.now())
    except RestoreRefused as exc:
        raise CommandFailed(str(exc)) from None
    ctx.out(f"Restored {store_path} from {backup}.")
    if kept is not None:
        ctx.out(f"What it replaced is kept in {kept}.")
    return 0
