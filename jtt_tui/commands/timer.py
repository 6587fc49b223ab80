"""Timer control from the shell: start, pause, resume, stop, complete,
status and log. Same store as the TUI, so either sees the other's timers."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any

from jtt_tui.commands.context import Context
from jtt_tui.commands.output import clean, table
from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.durations import format_clock, format_span
from jtt_tui.domain.parsing import parse_day, parse_local_time_today


def register(commands: argparse._SubParsersAction) -> None:
    start = commands.add_parser("start", help="start timing a ticket (pauses the running one)")
    start.add_argument("ticket", help="Jira ticket, e.g. WEB-123")
    start.add_argument("--name", help="ticket name / summary")
    start.add_argument("--project", metavar="KEY", help="project key (default: the ticket prefix)")
    start.add_argument("--tag", action="append", default=[], metavar="T", help="add a tag")
    start.add_argument("--note", help="add a note")
    start.add_argument("--at", metavar="HH:MM", help="started earlier today at this time")
    start.set_defaults(handler=cmd_start)

    for name, help_text, handler in (
        ("pause", "pause the running timer (or TICKET)", cmd_pause),
        ("resume", "resume the last paused timer (or TICKET)", cmd_resume),
        ("stop", "stop the current timer (or TICKET)", cmd_stop),
        ("complete", "mark the current ticket (or TICKET) done", cmd_complete),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("ticket", nargs="?", help="Jira ticket (default: the current one)")
        sub.set_defaults(handler=handler)

    status = commands.add_parser("status", help="running and paused timers, today's total")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=cmd_status)

    log = commands.add_parser("log", help="tracked segments and daily totals")
    log.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        help="first day (YYYY-MM-DD, today, yesterday, -N; default: 6 days ago)",
    )
    log.add_argument("--to", dest="end", metavar="DATE", help="last day (default: today)")
    log.add_argument("--project", metavar="KEY", help="only this project")
    log.set_defaults(handler=cmd_log)


def _service(ctx: Context) -> Any:
    from jtt_tui.services.timer import TimerService

    return TimerService(ctx.store, allow_concurrent=ctx.settings.timer.allow_concurrent)


def _describe(session: Any) -> str:
    name = f" ({clean(session.ticket_name)})" if session.ticket_name else ""
    return f"{session.ticket_number}{name}"


def cmd_start(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    now = service.clock.now()
    at = parse_local_time_today(args.at, now=now, tz=service.tz, what="--at") if args.at else None
    change = service.start(
        args.ticket,
        name=args.name,
        project_key=args.project,
        tags=args.tag,
        note=args.note,
        at=at,
    )
    for paused in change.paused:
        ctx.out(f"Paused {_describe(paused)} at {format_clock(paused.elapsed(now))}")
    session = change.session
    started = to_local(session.segments[-1].start, service.tz)
    ctx.out(f"Started {_describe(session)} at {started:%H:%M}")
    return 0


def cmd_pause(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    now = service.clock.now()
    for session in service.pause(args.ticket):
        ctx.out(f"Paused {_describe(session)} at {format_clock(session.elapsed(now))}")
    return 0


def cmd_resume(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    change = service.resume(args.ticket)
    now = service.clock.now()
    for paused in change.paused:
        ctx.out(f"Paused {_describe(paused)} at {format_clock(paused.elapsed(now))}")
    session = change.session
    ctx.out(f"Resumed {_describe(session)} at {format_clock(session.elapsed(now))}")
    return 0


def cmd_stop(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    session = service.stop(args.ticket)
    now = service.clock.now()
    ctx.out(f"Stopped {_describe(session)}: {format_clock(session.elapsed(now))} in all")
    return 0


def cmd_complete(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    session = service.complete(args.ticket)
    now = service.clock.now()
    ctx.out(f"Completed {_describe(session)}: {format_clock(session.elapsed(now))} in all")
    return 0


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    status = service.status()
    now = status.now
    day_start, day_end = _today_bounds(service, now)
    if args.json:
        ctx.out(
            json.dumps(
                {
                    "now": now.isoformat(),
                    "store": ctx.store.kind,
                    "today_seconds": int(status.today_total.total_seconds()),
                    "timers": [
                        {
                            "ticket": s.ticket_number,
                            "name": s.ticket_name,
                            "status": str(s.status),
                            "elapsed_seconds": int(s.elapsed(now).total_seconds()),
                            "today_seconds": int(
                                s.elapsed_between(day_start, day_end, now).total_seconds()
                            ),
                            "since": s.segments[-1].start.isoformat() if s.segments else None,
                        }
                        for s in status.active
                    ],
                },
                indent=2,
            )
        )
        return 0
    if not status.active:
        ctx.out("No timer is running.")
    else:
        rows = [
            [
                str(s.status).capitalize(),
                s.ticket_number,
                clean(s.ticket_name)[:40],
                format_clock(s.elapsed(now)),
                format_clock(s.elapsed_between(day_start, day_end, now)),
            ]
            for s in status.active
        ]
        ctx.out(table(["Status", "Ticket", "Name", "Total", "Today"], rows, "lllrr"))
    ctx.out(f"Today: {format_span(status.today_total)}")
    return 0


def _today_bounds(service: Any, now: Any) -> tuple[Any, Any]:
    from jtt_tui.domain.calendar import day_bounds

    return day_bounds(local_date(now, service.tz), service.tz)


def _clock_end(end: Any, day: Any) -> str:
    """HH:MM of a piece's end; 24:00 when it runs on past midnight."""
    if end is None:
        return "now"
    local = to_local(end)
    return "24:00" if local.date() > day else f"{local:%H:%M}"


def cmd_log(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.reports import segment_log

    store = ctx.store
    today = local_date(store.clock.now())
    last = parse_day(args.end, today=today, what="--to") if args.end else today
    first = (
        parse_day(args.start, today=today, what="--from")
        if args.start
        else (last - timedelta(days=6))
    )
    days = segment_log(store, first, last, project_key=args.project)
    if not days:
        ctx.out(f"Nothing tracked from {first} to {last}.")
        return 0
    rows: list[list[str]] = []
    grand = timedelta(0)
    # the Jira column only for people who push: ✓ pushed, … queued, ✗ failed
    with_jira = any(row.jira for day in days for row in day.rows)
    marks = {"pushed": "✓", "pending": "… queued", "failed": "✗ failed", "": ""}
    for day in days:
        for index, row in enumerate(day.rows):
            if row.manual:
                start, end = "manual", ""
            else:
                start = f"{to_local(row.start):%H:%M}" if row.start else ""
                end = _clock_end(row.end, day.day)
            rows.append(
                [
                    day.day.isoformat() if index == 0 else "",
                    start,
                    end,
                    format_clock(row.duration),
                    row.ticket,
                    row.project,
                    clean(row.name)[:40],
                    *([marks[row.jira]] if with_jira else []),
                ]
            )
        rows.append(["", "", "total", format_clock(day.total), "", "", "", *[""] * with_jira])
        grand += day.total
    headings = ["Date", "Start", "End", "Duration", "Ticket", "Project", "Name"]
    ctx.out(table(headings + ["Jira"] * with_jira, rows, "lllrlll" + "l" * with_jira))
    ctx.out(f"\n{len(days)} day(s), {format_span(grand)} in all")
    return 0
