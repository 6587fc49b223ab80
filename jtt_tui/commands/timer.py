"""Timer control from the shell: start, pause, resume, stop, complete,
status and log. Same store as the TUI, so either sees the other's timers."""

from __future__ import annotations

import argparse
import contextlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jtt_tui.commands import argtypes
from jtt_tui.commands.context import CommandFailed, Context
from jtt_tui.commands.output import clean, table
from jtt_tui.domain.calendar import local_date, to_local
from jtt_tui.domain.durations import format_clock, format_span
from jtt_tui.domain.parsing import MOMENT_SYNTAX, parse_day
from jtt_tui.words import count

AT_HELP = f"when it started: {MOMENT_SYNTAX}"


def _count(number: int, word: str) -> str:
    """``1 day``, ``2 days``."""
    return f"{number} {word}{'' if number == 1 else 's'}"


def register(commands: argparse._SubParsersAction) -> None:
    start = commands.add_parser("start", help="start timing a ticket (pauses the running one)")
    start.add_argument("ticket", type=argtypes.ticket, help="Jira ticket, e.g. WEB-123")
    start.add_argument("--name", help="ticket name / summary")
    start.add_argument("--project", metavar="KEY", help="project key (default: the ticket prefix)")
    start.add_argument("--tag", action="append", default=[], metavar="T", help="add a tag")
    start.add_argument("--note", help="add a note")
    start.add_argument(
        "--at",
        metavar="TIME",
        type=argtypes.moment,
        help=f"it started earlier ({MOMENT_SYNTAX}); a running timer is paused then",
    )
    start.add_argument(
        "--trim", action="store_true", help="shorten another ticket's segment that is in the way"
    )
    _force(start)
    start.set_defaults(handler=cmd_start)

    for name, help_text, handler in (
        ("pause", "pause the running timer (or TICKET)", cmd_pause),
        ("stop", "stop the current timer (or TICKET)", cmd_stop),
        ("complete", "mark the current ticket (or TICKET) done", cmd_complete),
    ):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument(
            "ticket", nargs="?", type=argtypes.ticket, help="Jira ticket (default: the current one)"
        )
        sub.add_argument(
            "--at", metavar="TIME", type=argtypes.moment, help=f"it ended earlier: {MOMENT_SYNTAX}"
        )
        _force(sub)
        sub.set_defaults(handler=handler)
    resume = commands.add_parser("resume", help="resume the last paused timer (or TICKET)")
    resume.add_argument(
        "ticket", nargs="?", type=argtypes.ticket, help="Jira ticket (default: the last paused one)"
    )
    resume.set_defaults(handler=cmd_resume)

    status = commands.add_parser(
        "status",
        help="running and paused timers, today's total",
        description="Running and paused timers and today's total. For a shell prompt or a "
        "tmux status line: --short, or --format with the fields "
        + ", ".join("{" + f + "}" for f in STATUS_FIELDS)
        + " (the running timer, else the paused one; empty fields when there is none).",
    )
    shown = status.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="machine-readable output")
    shown.add_argument(
        "--short",
        action="store_true",
        help="one short line for a prompt, e.g. '▶ WEB-12 1:23'; empty when nothing runs",
    )
    shown.add_argument(
        "--format",
        dest="status_format",
        metavar="FORMAT",
        help="one line in your own format, e.g. '{ticket} {elapsed} ({today} today)'",
    )
    status.set_defaults(handler=cmd_status)

    log = commands.add_parser("log", help="tracked segments and daily totals")
    log.add_argument(
        "--from",
        dest="start",
        metavar="DATE",
        type=argtypes.day,
        help="first day (YYYY-MM-DD, today, yesterday, -N; default: 6 days ago)",
    )
    log.add_argument(
        "--to", dest="end", metavar="DATE", type=argtypes.day, help="last day (default: today)"
    )
    log.add_argument("--project", metavar="KEY", help="only this project")
    log.set_defaults(handler=cmd_log)


def _force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="keep a segment longer than 24 h, or a timer that ran suspiciously long",
    )


def moment(ctx: Context, text: str | None, what: str) -> Any:
    """A typed time as a UTC instant (None when not given)."""
    if text is None:
        return None
    from jtt_tui.domain.parsing import parse_moment

    service = ctx.services.timer
    return parse_moment(text, now=service.clock.now(), tz=service.tz, what=what)


def _describe(session: Any) -> str:
    name = f" ({clean(session.ticket_name)})" if session.ticket_name else ""
    return f"{session.ticket_number}{name}"


def _say_notes(ctx: Context, notes: list[str]) -> None:
    for note in notes:
        ctx.out(f"Note: {note}")


def cmd_start(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.services.timer
    at = moment(ctx, args.at, "--at")
    others = [s for s in service.status().running if s.ticket_number != args.ticket.upper()]
    # the running timer is paused at the start: was it really running until then?
    settled = settle_forgotten(ctx, others, verb="start", as_of=at, forced=args.force)
    change = service.start(
        args.ticket,
        name=args.name,
        project_key=args.project,
        tags=args.tag,
        note=args.note,
        at=at,
        trim=args.trim,
        force=args.force or settled.kept,
    )
    now = service.clock.now()
    for paused in [*settled.ended, *change.paused]:
        _said_paused(ctx, paused, now)
    session = change.session
    ctx.out(f"Started {_describe(session)} at {_hhmm(ctx, session.segments[-1].start)}")
    _say_notes(ctx, change.notes)
    return 0


def _said_paused(ctx: Context, session: Any, now: Any) -> None:
    ended = session.segments[-1].end if session.segments else None
    ctx.out(
        f"Paused {_describe(session)} at {_hhmm(ctx, ended or now)} "
        f"({format_clock(session.elapsed(now))} in all)"
    )


def _end(ctx: Context, args: argparse.Namespace, verb: str) -> list[Any]:
    """pause / stop / complete, after the forgotten-timer question (which may
    end the timer itself, at the time the user gives: then that is all)."""
    service = ctx.services.timer
    at = moment(ctx, args.at, "--at")
    if args.ticket is not None:
        targets = [s for s in service.status().running if s.ticket_number == args.ticket.upper()]
    else:
        targets = service.status().running
    if at is None:
        settled = settle_forgotten(ctx, targets, verb=verb, forced=args.force)
        if settled.ended:
            return settled.ended
        force = args.force or settled.kept
    else:
        force = args.force  # the user said when it ended
    if verb == "pause":
        return list(service.pause(args.ticket, at=at, force=force))
    action = service.stop if verb == "stop" else service.complete
    return [action(args.ticket, at=at, force=force)]


def cmd_pause(ctx: Context, args: argparse.Namespace) -> int:
    now = ctx.services.timer.clock.now()
    for session in _end(ctx, args, "pause"):
        _said_paused(ctx, session, now)
    return 0


def cmd_resume(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.services.timer
    change = service.resume(args.ticket)
    now = service.clock.now()
    for paused in change.paused:
        _said_paused(ctx, paused, now)
    session = change.session
    ctx.out(
        f"Resumed {_describe(session)} at {_hhmm(ctx, now)} "
        f"({format_clock(session.elapsed(now))} so far)"
    )
    return 0


def cmd_stop(ctx: Context, args: argparse.Namespace) -> int:
    now = ctx.services.timer.clock.now()
    for session in _end(ctx, args, "stop"):
        ctx.out(f"Stopped {_describe(session)}: {format_clock(session.elapsed(now))} in all")
    return 0


def cmd_complete(ctx: Context, args: argparse.Namespace) -> int:
    now = ctx.services.timer.clock.now()
    for session in _end(ctx, args, "complete"):
        ctx.out(f"Completed {_describe(session)}: {format_clock(session.elapsed(now))} in all")
    return 0


# -- timers left running ---------------------------------------------------------------


@dataclass
class Settled:
    """What the forgotten-timer question decided."""

    kept: bool = False  # the user keeps all the time: count it (force)
    ended: list[Any] = field(default_factory=list)  # timers it ended at the time given


def settle_forgotten(
    ctx: Context,
    involved: list[Any],
    *,
    verb: str,
    as_of: Any = None,
    forced: bool = False,
) -> Settled:
    """Before a command ends timers in ``involved`` (a switch pauses the
    running one at ``as_of``): any of them that ran suspiciously long is
    asked about (a person at the terminal) or warned about and refused (a
    script, unless ``forced``)."""
    settled = Settled(kept=forced)
    if forced or not involved:
        return settled
    wanted = {s.ticket_number for s in involved}
    found = [f for f in _suspicious(ctx, as_of=as_of) if f.ticket in wanted]
    if not found:
        return settled
    if not ctx.interactive:
        first = found[0]
        ctx.err(f"warning: {_forgotten_line(ctx, first)}")
        fix = (
            f"stop it when it ended first (`jtt stop {first.ticket} --at "
            f"{_hhmm(ctx, first.suggested_end, quote=True)}`)"
            if verb == "start"
            else f"say when {first.ticket} stopped "
            f"(--at {_hhmm(ctx, first.suggested_end, quote=True)})"
        )
        raise CommandFailed(f"nothing changed: {fix}, or --force to count it all")
    for item in found:
        outcome = _ask(ctx, item, verb)
        if outcome is None:
            settled.kept = True
        elif outcome is not False:
            settled.ended.append(outcome)
    return settled


def _suspicious(ctx: Context, *, as_of: Any = None) -> list[Any]:
    from jtt_tui.services.activity import ActivityMark

    last = ActivityMark(ctx.settings.data_dir).last()
    return list(ctx.services.timer.suspicious(last, as_of=as_of))


def _hhmm(ctx: Context, moment_: Any, *, quote: bool = False) -> str:
    """HH:MM today, else the day too (quoted when it is an argument to type)."""
    local = to_local(moment_, ctx.services.timer.tz)
    today = local_date(ctx.services.timer.clock.now(), ctx.services.timer.tz)
    if local.date() == today:
        return f"{local:%H:%M}"
    text = f"{local:%Y-%m-%d %H:%M}"
    return f"'{text}'" if quote else text


def _forgotten_line(ctx: Context, item: Any) -> str:
    return f"{item.ticket} has been {item.reason}: was it all work?"


def _ask(ctx: Context, item: Any, verb: str) -> Any:
    """One question on the terminal. Returns None when the user keeps all
    the time, the timer as ended when they say when it stopped (ended the
    way the command ends it: stop, pause or complete), False when its extra
    time was discarded and it runs on."""
    from jtt_tui.domain.parsing import parse_moment

    service = ctx.services.timer
    suggested = _hhmm(ctx, item.suggested_end)
    ending = {"start": "pause", "status": "stop"}.get(verb, verb)
    ctx.out(_forgotten_line(ctx, item))
    ctx.out("  k  keep it: it was all work")
    ctx.out(f"  s  it stopped at {suggested} (or type the time it stopped, e.g. 18:45)")
    if verb == "status":
        ctx.out(f"  d  discard the time after {suggested} and keep it running from now")
    ctx.out("  q  change nothing")
    while True:
        try:
            answer = input("Answer [s]: ").strip().lower() or "s"
        except EOFError:
            answer = "q"
        if answer == "q":
            raise CommandFailed("nothing changed")
        if answer == "k":
            service.keep(item.ticket)
            ctx.out(f"Kept {item.ticket}: it counts in full.")
            return None
        if answer == "d" and verb == "status":
            service.discard_since(item.ticket, item.suggested_end)
            ctx.out(f"Discarded {item.ticket}'s time after {suggested}; it runs on from now.")
            return False
        end = item.suggested_end
        if answer != "s":
            try:
                end = parse_moment(answer, now=service.clock.now(), tz=service.tz, what="the time")
            except ValueError as exc:
                ctx.out(f"  {exc}")
                continue
        try:  # the user gave the time: it counts whatever its length
            if ending == "pause":
                ended = service.pause(item.ticket, at=end, force=True)[0]
            else:
                action = service.complete if ending == "complete" else service.stop
                ended = action(item.ticket, at=end, force=True)
        except ValueError as exc:
            ctx.out(f"  {exc}")
            continue
        if verb == "status":
            ctx.out(f"Stopped {item.ticket} at {_hhmm(ctx, end)}.")
        return ended


# -- status and log ----------------------------------------------------------------------


STATUS_FIELDS = ("ticket", "name", "elapsed", "elapsed_min", "today", "state", "project")


def _status_format(text: str) -> list[str]:
    """The fields a --format uses; an unknown one (or a broken brace) is a
    usage error that names the fields there are."""
    import string

    fields = []
    try:
        for _literal, name, _spec, _conversion in string.Formatter().parse(text):
            if name is not None:
                fields.append(name)
    except ValueError as exc:
        raise CommandFailed(
            f"--format {text!r}: {exc} (write {{{{ for a brace)", exit_code=2
        ) from None
    unknown = [f for f in fields if f not in STATUS_FIELDS]
    if unknown:
        there = ", ".join("{" + f + "}" for f in STATUS_FIELDS)
        raise CommandFailed(
            f"--format: no field {{{unknown[0]}}}; the fields are {there}", exit_code=2
        )
    return fields


def _hours_minutes(duration: Any) -> str:
    """``1:23`` (hours and minutes): short enough for a prompt."""
    minutes = max(int(duration.total_seconds()), 0) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _status_line(ctx: Context, args: argparse.Namespace) -> str:
    """--short or --format: one line, quiet (no questions, no warnings)."""
    fields = _status_format(args.status_format) if args.status_format else []
    service = ctx.services.timer
    status = service.status()
    now = status.now
    current = status.running[0] if status.running else None
    if args.short:
        if current is None:
            return ""
        return f"▶ {current.ticket_number} {_hours_minutes(current.elapsed(now))}"
    current = current or (status.paused[0] if status.paused else None)
    values = dict.fromkeys(STATUS_FIELDS, "")
    values["state"] = str(current.status) if current is not None else "idle"
    values["today"] = _hours_minutes(status.today_total)
    if current is not None:
        elapsed = current.elapsed(now)
        values.update(
            ticket=current.ticket_number,
            name=clean(current.ticket_name),
            elapsed=_hours_minutes(elapsed),
            elapsed_min=str(int(elapsed.total_seconds()) // 60),
        )
        if "project" in fields:
            from jtt_tui.domain.projects import ProjectIndex

            index = ProjectIndex(ctx.store.get_projects())
            values["project"] = index.key_for(current.ticket_number, current.project_id)
    return str(args.status_format).format(**values)


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    service = ctx.services.timer
    if args.short or args.status_format:
        ctx.out(_status_line(ctx, args))
        return 0
    if not args.json:
        found = _suspicious(ctx)
        if found and ctx.interactive:
            for item in found:
                with contextlib.suppress(CommandFailed):  # "change nothing": still shown
                    _ask(ctx, item, "status")
        else:
            for item in found:
                ctx.err(
                    f"warning: {_forgotten_line(ctx, item)} (`jtt stop {item.ticket} --at "
                    f"{_hhmm(ctx, item.suggested_end, quote=True)}`, or keep it with `jtt status` "
                    "in a terminal)"
                )
    status = service.status()
    now = status.now
    day_start, day_end = _today_bounds(service, now)
    if args.json:
        suspicious = {f.ticket: f.reason for f in _suspicious(ctx)}
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
                            "suspicious": suspicious.get(s.ticket_number),
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
        scope = f" on {args.project.strip().upper()}" if args.project else ""
        ctx.out(f"Nothing tracked{scope} from {first} to {last}.")
        return 0
    rows: list[list[str]] = []
    grand = timedelta(0)
    # the Jira column only for people who push: ✓ pushed, … queued, ✗ failed
    with_jira = any(row.jira for day in days for row in day.rows)
    marks = {
        "pushed": "✓",
        "pending": "… queued",
        "failed": "✗ failed",
        "local": "kept local",
        "": "",
    }
    overlapping = 0
    for day in days:
        for index, row in enumerate(day.rows):
            if row.manual:
                start, end = "manual", ""
            else:
                start = f"{to_local(row.start):%H:%M}" if row.start else ""
                end = _clock_end(row.end, day.day)
            overlapping += row.overlaps
            rows.append(
                [
                    day.day.isoformat() if index == 0 else "",
                    start,
                    end,
                    format_clock(row.duration),
                    row.ticket + (" ⚠" if row.overlaps else ""),
                    row.project,
                    clean(row.name)[:40],
                    *([marks[row.jira]] if with_jira else []),
                ]
            )
        rows.append(["", "", "total", format_clock(day.total), "", "", "", *[""] * with_jira])
        grand += day.total
    headings = ["Date", "Start", "End", "Duration", "Ticket", "Project", "Name"]
    ctx.out(table(headings + ["Jira"] * with_jira, rows, "lllrlll" + "l" * with_jira))
    ctx.out(f"\n{_count(len(days), 'day')}, {format_span(grand)} in all")
    if overlapping:
        ctx.out(
            f"⚠ {count(overlapping, 'piece')} overlap another ticket's time: the day totals count "
            "it twice (`jtt doctor` lists them; `jtt edit TICKET` fixes a segment)"
        )
    return 0
