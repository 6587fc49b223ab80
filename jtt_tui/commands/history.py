"""Correcting the day: add past time, edit or delete a segment, undo, redo."""

from __future__ import annotations

import argparse
from typing import Any

from jtt_tui.commands import argtypes
from jtt_tui.commands.context import CommandFailed, Context
from jtt_tui.commands.output import clean, table
from jtt_tui.commands.timer import AT_HELP, moment
from jtt_tui.domain.calendar import to_local
from jtt_tui.domain.durations import format_clock, format_span
from jtt_tui.domain.parsing import MOMENT_SYNTAX


def register(commands: argparse._SubParsersAction) -> None:
    add = commands.add_parser(
        "add",
        help="add past time on a ticket (--from/--to, or --duration with --at or --to)",
        description="Add a finished stretch of work on a ticket, e.g. a forgotten timer. "
        f"Times: {MOMENT_SYNTAX}. Time on another ticket at the same moment is refused "
        "(or shortened with --trim).",
    )
    add.add_argument("ticket", type=argtypes.ticket, help="Jira ticket, e.g. WEB-123")
    add.add_argument(
        "--from", dest="start", metavar="TIME", type=argtypes.moment, help="when it started"
    )
    add.add_argument("--to", dest="end", metavar="TIME", type=argtypes.moment, help="when it ended")
    add.add_argument(
        "--duration", metavar="D", type=argtypes.duration, help="how long: 1h30m, 90m, 1.5h or 1:30"
    )
    add.add_argument(
        "--at",
        metavar="TIME",
        type=argtypes.moment,
        help=f"with --duration: when it started ({AT_HELP})",
    )
    add.add_argument("--name", help="the ticket's name (when it is new)")
    add.add_argument(
        "--trim", action="store_true", help="shorten another ticket's segment that is in the way"
    )
    add.add_argument("--force", action="store_true", help="allow more than 24 h")
    add.set_defaults(handler=cmd_add)

    edit = commands.add_parser(
        "edit",
        help="list a ticket's segments, or change or delete one (jtt edit WEB-1 2 --start 09:15)",
    )
    edit.add_argument("ticket", type=argtypes.ticket, help="Jira ticket")
    edit.add_argument("segment", nargs="?", type=int, help="segment number (see the list)")
    edit.add_argument("--start", metavar="TIME", type=argtypes.moment, help="new start")
    edit.add_argument("--end", metavar="TIME", type=argtypes.moment, help="new end")
    edit.add_argument("--delete", action="store_true", help="delete the segment")
    edit.add_argument(
        "--trim", action="store_true", help="shorten another ticket's segment that is in the way"
    )
    edit.add_argument("--force", action="store_true", help="allow more than 24 h")
    edit.set_defaults(handler=cmd_edit)

    undo = commands.add_parser("undo", help="undo your last change (--list: the last 20)")
    undo.add_argument("--list", action="store_true", help="show the last 20 changes")
    undo.set_defaults(handler=cmd_undo)
    redo = commands.add_parser("redo", help="redo the change you undid last")
    redo.set_defaults(handler=cmd_redo)


def cmd_add(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.durations import parse_duration

    start, end = moment(ctx, args.start, "--from"), moment(ctx, args.end, "--to")
    at = moment(ctx, args.at, "--at")
    duration = parse_duration(args.duration) if args.duration else None
    if at is not None and start is not None:
        raise CommandFailed("give --from or --at, not both", exit_code=2)
    start = start if start is not None else at
    if duration is not None:
        if start is not None and end is None:
            end = start + duration
        elif end is not None and start is None:
            start = end - duration
        else:
            raise CommandFailed(
                "with --duration give when it started (--at) or when it ended (--to)", exit_code=2
            )
    if start is None or end is None:
        raise CommandFailed(
            "say when: --from TIME --to TIME, or --duration 1h30m with --at or --to", exit_code=2
        )
    service = ctx.services.timer
    change = service.add(args.ticket, start, end, name=args.name, trim=args.trim, force=args.force)
    tz = service.tz
    ctx.out(
        f"Added {format_span(end - start)} to {change.session.ticket_number}: "
        f"{to_local(start, tz):%Y-%m-%d %H:%M}–{to_local(end, tz):%H:%M}"
    )
    for note in change.notes:
        ctx.out(f"Note: {note}")
    return 0


def cmd_edit(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.services.timer
    session = ctx.store.get_session(args.ticket)
    if session is None:
        raise CommandFailed(f"no timer for {args.ticket.strip().upper()}")
    if args.segment is None:
        _list_segments(ctx, session)
        return 0
    count = len(session.segments)
    if not 1 <= args.segment <= count:
        raise CommandFailed(
            f"{session.ticket_number} has segments 1 to {count} (`jtt edit "
            f"{session.ticket_number}` lists them)"
        )
    index = args.segment - 1
    said: list[str] = []
    if args.delete:
        if args.start or args.end:
            raise CommandFailed("--delete takes no --start or --end", exit_code=2)
        service.delete_segment(session.ticket_number, index, said=said)
        ctx.out(f"Deleted segment {args.segment} of {session.ticket_number}.")
    else:
        if args.start is None and args.end is None:
            raise CommandFailed("give --start and/or --end (or --delete)", exit_code=2)
        old = session.segments[index]
        start = moment(ctx, args.start, "--start") if args.start else old.start
        end = moment(ctx, args.end, "--end") if args.end else old.end
        if old.end is None and args.end:
            raise CommandFailed(
                "that segment is running: end it with `jtt stop --at TIME`", exit_code=1
            )
        updated = service.edit_segment(
            session.ticket_number,
            index,
            start=start,
            end=end,
            trim=args.trim,
            force=args.force,
            said=said,
        )
        new = updated.segments[[s.start for s in updated.segments].index(start)]
        ctx.out(f"Segment {args.segment} of {session.ticket_number} is now {_span(ctx, new)}.")
    for note in said:
        ctx.out(f"Note: {note}")
    return 0


def _span(ctx: Context, segment: Any) -> str:
    tz = ctx.services.timer.tz
    start = to_local(segment.start, tz)
    if segment.end is None:
        return f"{start:%Y-%m-%d %H:%M}–now (running)"
    end = to_local(segment.end, tz)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end_text} ({format_span(segment.end - segment.start)})"


def _list_segments(ctx: Context, session: Any) -> None:
    invoices = {i.invoice_id: i for i in ctx.services.timer.invoices_of(session)}
    now = ctx.services.timer.clock.now()
    rows = []
    for number, segment in enumerate(session.segments, start=1):
        invoice = invoices.get(segment.invoice_id or "")
        billed = ""
        if invoice is not None:
            billed = f"{invoice.invoice_number} ({invoice.status})"
            if str(invoice.status) in ("sent", "paid", "overdue"):
                billed = "locked: " + billed
        rows.append([str(number), _span(ctx, segment), format_clock(segment.duration(now)), billed])
    ctx.out(f"{session.ticket_number} {clean(session.ticket_name)}".rstrip())
    ctx.out(table(["#", "Segment", "Length", "Invoice"], rows, "rlrl"))
    ctx.out(f"Change one: jtt edit {session.ticket_number} N --start TIME --end TIME (or --delete)")


def cmd_undo(ctx: Context, args: argparse.Namespace) -> int:
    ledger = ctx.services.ledger
    if args.list:
        entries = ledger.history(20)
        if not entries:
            ctx.out("No changes recorded yet.")
            return 0
        tz = ctx.services.timer.tz
        rows = [
            [
                str(entry.seq),
                f"{to_local(entry.at, tz):%Y-%m-%d %H:%M}",
                "undone" if entry.undone else "",
                _shorten(clean(entry.description), 90),
            ]
            for entry in entries
        ]
        ctx.out(table(["#", "When", "State", "Change"], rows, "rlll"))
        ctx.out("`jtt undo` reverts the newest change not undone yet; `jtt redo` re-applies.")
        return 0
    done = ledger.undo()
    ctx.out(f"Undid: {done.description.removeprefix('undo: ')}")
    return 0


def cmd_redo(ctx: Context, args: argparse.Namespace) -> int:
    done = ctx.services.ledger.redo()
    ctx.out(f"Redid: {done.description.removeprefix('redo: ')}")
    return 0


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
