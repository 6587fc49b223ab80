"""jtt jira: connect to Jira, search and cache tickets, push time as worklogs."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from jtt_tui.commands import argtypes
from jtt_tui.commands.context import CommandFailed, Context, read_secret
from jtt_tui.commands.output import clean
from jtt_tui.storage.errors import redact
from jtt_tui.words import count

if TYPE_CHECKING:
    from datetime import tzinfo

    from jtt_tui.jira.client import JiraClient
    from jtt_tui.services.jira_plan import PushOutcome
    from jtt_tui.services.reconcile import Reconciler, Reconciliation


def register(commands: argparse._SubParsersAction) -> None:
    jira = commands.add_parser(
        "jira",
        help="Jira: configure, test, search, pull tickets, push time as worklogs",
        description="Connect to Jira Cloud (e-mail + API token) or Jira Server / Data Center "
        "(personal access token), pick tickets from it, and push tracked time as worklogs: "
        "once each (a retry never duplicates one), queued while Jira cannot be reached.",
    )
    actions = jira.add_subparsers(title="actions", metavar="ACTION", required=True)

    configure = actions.add_parser("configure", help="the Jira site and token (token to keyring)")
    configure.add_argument("--url", help="https://yoursite.atlassian.net or your server")
    who = configure.add_mutually_exclusive_group()
    who.add_argument("--email", help="your Atlassian e-mail (Jira Cloud)")
    who.add_argument(
        "--server",
        action="store_true",
        help="Jira Server / Data Center: the token is a personal access token",
    )
    configure.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input"
    )
    configure.add_argument("--jql", help="the default ticket search")
    configure.add_argument(
        "--push-mode", choices=["segment", "day"], help="a worklog per segment or per ticket-day"
    )
    configure.add_argument(
        "--adjust-estimate",
        choices=["auto", "leave", "new", "manual"],
        help="how Jira changes the remaining estimate, as its log-work dialog: auto (by the "
        "time logged, the default), leave, new (set it to --estimate) or manual (reduce it "
        "by --estimate per worklog)",
    )
    configure.add_argument(
        "--estimate",
        dest="estimate_value",
        metavar="AMOUNT",
        help="for --adjust-estimate new or manual: 2d, 3h, 30m or 1d 4h",
    )
    notify = configure.add_mutually_exclusive_group()
    notify.add_argument(
        "--notify-watchers",
        dest="notify_watchers",
        action="store_const",
        const=True,
        help="Jira Cloud e-mails the issue's watchers about each pushed worklog",
    )
    notify.add_argument(
        "--quiet",
        dest="notify_watchers",
        action="store_const",
        const=False,
        help="no e-mail to the watchers per worklog (the default; Cloud only)",
    )
    rounding = configure.add_mutually_exclusive_group()
    rounding.add_argument(
        "--round",
        dest="round_pushed",
        action="store_const",
        const=True,
        help="apply the billing rounding rules to pushed time",
    )
    rounding.add_argument(
        "--no-round",
        dest="round_pushed",
        action="store_const",
        const=False,
        help="push time as tracked (the default)",
    )
    configure.set_defaults(handler=cmd_configure)

    actions.add_parser("test", help="connect and say who you are in Jira").set_defaults(
        handler=cmd_test
    )

    search = actions.add_parser("search", help="find tickets (your open ones + text)")
    search.add_argument("text", nargs="?", default="", help="a key (WEB-12) or words")
    search.add_argument("--limit", type=int, default=20)
    search.set_defaults(handler=cmd_search)

    pull = actions.add_parser("pull", help="refresh the offline ticket cache from Jira")
    pull.add_argument("--jql", help="what to fetch (default: the configured search)")
    pull.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    pull.set_defaults(handler=cmd_pull)

    push = actions.add_parser("push", help="send tracked time to Jira as worklogs")
    push.add_argument(
        "--from", dest="start", type=argtypes.day, help="first day (default: everything)"
    )
    push.add_argument("--to", dest="end", type=argtypes.day, help="last day (default: today)")
    push.add_argument("--ticket", type=argtypes.ticket, help="only this ticket")
    push.add_argument("--dry-run", action="store_true", help="show what would be sent")
    push.add_argument(
        "--include-closed",
        action="store_true",
        help="try issues that are done in Jira too (skipped by default: Jira refuses them)",
    )
    push.set_defaults(handler=cmd_push)

    reconcile = actions.add_parser(
        "reconcile",
        help="compare your worklogs in Jira with what jtt pushed (default: the last 14 days)",
        description="Read your worklogs in Jira for the period and compare them with what "
        "jtt pushed: changed in Jira, deleted in Jira, logged in Jira but not by jtt, and "
        "per day Jira's total against jtt's. Exit 0 when in sync, 3 when differences "
        "remain. The action options take worklog ids; without, every worklog of that kind.",
    )
    reconcile.add_argument(
        "--from", dest="start", type=argtypes.day, help="first day (default: 13 days before --to)"
    )
    reconcile.add_argument("--to", dest="end", type=argtypes.day, help="last day (default: today)")
    reconcile.add_argument("--json", action="store_true", help="the result as JSON, for scripts")
    for flag, what in (
        ("--take-jira", "changed in Jira: the time in jtt becomes Jira's (billed time stays)"),
        ("--push-mine", "changed or deleted in Jira: send jtt's time again"),
        ("--forget", "deleted in Jira: keep the time in jtt only, never push it again"),
        ("--import", "logged in Jira outside jtt: add it to jtt as a manual entry"),
    ):
        reconcile.add_argument(flag, nargs="*", metavar="WORKLOG", help=what)
    reconcile.set_defaults(handler=cmd_reconcile)

    status = actions.add_parser("status", help="what is pushed, queued or failed")
    status.set_defaults(handler=cmd_status)


# -- configure / test ------------------------------------------------------------------------


def cmd_configure(ctx: Context, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from jtt_tui.config import JiraConfig, update_settings_file
    from jtt_tui.domain.validation import explain
    from jtt_tui.secrets import SecretStoreUnavailable, set_secret
    from jtt_tui.services.jira import TOKEN_SECRET, insecure_warning
    from jtt_tui.services.jira_search import unbounded_jql

    settings = ctx.settings
    changes: dict[str, Any] = {}
    if args.url is not None:
        changes["url"] = args.url
    if args.email is not None:
        changes["email"] = args.email
    if args.server:
        changes["email"] = ""
    for name in (
        "jql",
        "push_mode",
        "adjust_estimate",
        "estimate_value",
        "round_pushed",
        "notify_watchers",
    ):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    token = None
    if args.token_stdin:
        token = read_secret("Jira token: ", strip=True)
        if not token:
            raise CommandFailed("no token on standard input; nothing was changed")
    if not changes and token is None:
        raise CommandFailed(
            "nothing to configure: give --url, --email or --server, --token-stdin, --jql, "
            "--push-mode, --adjust-estimate (--estimate), --round or --notify-watchers",
            exit_code=2,
        )
    current = settings.jira.model_dump(exclude={"token"})
    mode = changes.get("adjust_estimate", current.get("adjust_estimate"))
    if args.estimate_value is not None and mode not in ("new", "manual"):
        raise CommandFailed(
            f"--estimate is the amount for --adjust-estimate new or manual, not {mode} "
            "(nothing was changed)",
            exit_code=2,
        )
    try:
        config = JiraConfig.model_validate({**current, **changes})
    except ValidationError as exc:
        raise CommandFailed(
            explain(exc, context="Jira settings") + " (nothing was changed)", exit_code=2
        ) from None
    if not config.url:
        raise CommandFailed("give the Jira site with --url (nothing was changed)", exit_code=2)
    unbounded = unbounded_jql(config.jql, cloud=config.cloud)
    if unbounded:
        raise CommandFailed(f"{unbounded} (nothing was changed)", exit_code=2)
    if token is not None:
        try:
            set_secret(TOKEN_SECRET, token)
        except SecretStoreUnavailable:
            raise CommandFailed(
                "no keyring on this machine: the token was not saved and nothing changed; "
                "set JTT_JIRA_TOKEN in the environment (or a 0600 .env file) instead"
            ) from None
    saved = config.model_dump(exclude={"token"}, exclude_defaults=False)
    update_settings_file(settings.config_dir, {"jira": saved})
    flavour = (
        "Jira Cloud (REST v3, e-mail + API token)"
        if config.cloud
        else ("Jira Server / Data Center (REST v2, personal access token)")
    )
    ctx.out(f"Saved: {config.url} as {flavour}" + (" — token in keyring" if token else ""))
    warning = insecure_warning(config)
    if warning:
        ctx.err(f"warning: {warning}")
    for name in ("JTT_JIRA_URL", "JTT_JIRA_EMAIL", "JTT_JIRA_TOKEN"):
        if ctx.environ.get(name):
            ctx.err(f"warning: {name} is set in the environment and overrides what was saved")
    ctx.out("`jtt jira test` checks the connection.")
    return 0


def _client(ctx: Context) -> JiraClient:
    from jtt_tui.services.jira import client_for, insecure_warning

    settings = ctx.settings
    client = client_for(settings)
    warning = insecure_warning(settings.jira)
    if warning:
        ctx.err(f"warning: {warning}")
    return client


def cmd_test(ctx: Context, args: argparse.Namespace) -> int:
    with _client(ctx) as client:
        me = client.myself()
    kind = "Jira Cloud" if client.cloud else "Jira Server / Data Center"
    ctx.out(f"Connected to {kind} at {client.url} as {me.display_name} ({me.account}).")
    return 0


# -- search / pull ---------------------------------------------------------------------------


def cmd_search(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.jira.client import JiraError
    from jtt_tui.services.jira_search import cache_issues, cached_search, search

    try:
        with _client(ctx) as client:
            issues = search(client, args.text, ctx.settings.jira.jql, limit=args.limit)
        cache_issues(ctx.store, issues)
    except JiraError as exc:
        if not exc.transient:
            raise
        ctx.err(f"{exc}; showing the tickets cached from earlier searches")
        issues = cached_search(ctx.store, args.text, limit=args.limit)
    for issue in issues:
        ctx.out(f"{issue.key:<12} {clean(issue.status)[:14]:<14} {clean(issue.summary)[:60]}")
    if not issues:
        ctx.out("no tickets found")
    return 0


def cmd_pull(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.jira_search import pull

    jql = args.jql or ctx.settings.jira.jql
    with _client(ctx) as client:
        found, changed = pull(ctx.store, client, jql, limit=args.limit)
    ctx.out(f"{count(found, 'ticket')} from Jira; {changed} new or changed in the offline cache.")
    return 0


# -- push / status ---------------------------------------------------------------------------


def _line(outcome: PushOutcome) -> str:
    unit = outcome.unit
    started = unit.started.astimezone().strftime("%Y-%m-%d %H:%M")
    detail = f"  {redact(outcome.detail)}" if outcome.detail else ""
    manual = " (manual)" if unit.task_id else ""
    return (
        f"  {unit.issue:<12} {started}  {unit.seconds // 60:>5} min  "
        f"{outcome.action}{manual}{detail}"
    )


def cmd_push(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.calendar import day_start, local_date
    from jtt_tui.domain.parsing import parse_day
    from jtt_tui.services.jira_plan import plan
    from jtt_tui.services.jira_push import push, refresh_done

    settings = ctx.settings
    store = ctx.store
    today = local_date(store.clock.now())
    start = end = None
    if args.start or args.end:
        first = parse_day(args.start, today=today, what="--from") if args.start else None
        last = parse_day(args.end, today=today, what="--to") if args.end else today
        if first is not None and first > last:
            raise CommandFailed("--from is after --to", exit_code=2)
        from datetime import UTC, datetime, timedelta

        start = day_start(first) if first else datetime(1970, 1, 1, tzinfo=UTC)
        end = day_start(last + timedelta(days=1))
    ticket = args.ticket.strip().upper() if args.ticket else None
    units = plan(store, settings.jira, start=start, end=end, ticket=ticket)
    todo = [u for u in units if not u.up_to_date]
    if args.dry_run:
        on_done = [u for u in todo if u.closed and not args.include_closed]
        for unit in todo:
            if unit in on_done:
                ctx.out(
                    f"  {unit.issue:<12} {unit.started.astimezone().strftime('%Y-%m-%d %H:%M')}  "
                    f"{unit.seconds // 60:>5} min  skip: done in Jira (--include-closed tries it)"
                )
                continue
            tracked = (
                f" (tracked {unit.tracked_seconds // 60} min)"
                if unit.tracked_seconds != unit.seconds
                else ""
            )
            ctx.out(
                f"  {unit.issue:<12} {unit.started.astimezone().strftime('%Y-%m-%d %H:%M')}  "
                f"{unit.seconds // 60:>5} min  "
                f"would {'update' if unit.link and unit.link.worklog_id else 'create'}"
                f"{' (manual entry)' if unit.task_id else ''}{tracked}"
            )
        also = f", {len(on_done)} on issues done in Jira" if on_done else ""
        ctx.out(
            f"Dry run: {count(len(todo) - len(on_done), 'worklog')} to send, "
            f"{len(units) - len(todo)} up to date{also} (the ticket cache's status: the push "
            "asks Jira)."
        )
        return 0
    if not todo:
        ctx.out(f"Nothing to push: {count(len(units), 'worklog')} already up to date in Jira.")
        return 0
    with _client(ctx) as client:
        if not args.include_closed:
            refresh_done(store, client, todo)
        report = push(
            store,
            client,
            todo,
            adjust=settings.jira.estimate,
            now=store.clock.now,
            on_outcome=lambda o: ctx.out(_line(o)),
            include_closed=args.include_closed,
        )
    for outcome in report.outcomes:
        if outcome.action == "queued":
            ctx.out(_line(outcome))
    sent = report.sent
    failed, queued = report.count("failed"), report.count("queued")
    skipped = report.count("skipped")
    also = f", left to another jtt {skipped}" if skipped else ""
    closed = report.count("closed")
    also += (
        f", skipped {closed} on issues done in Jira (--include-closed tries them)" if closed else ""
    )
    ctx.out(
        f"Pushed {sent}, failed {failed}, queued {queued}{also} "
        f"({count(client.requests, 'request')})."
    )
    if report.stopped is not None:
        ctx.err(
            f"stopped: {report.stopped}. The {count(queued, 'queued worklog')} are kept and sent "
            "by the next `jtt jira push` (the app retries on its own)."
        )
    return 1 if failed or queued else 0


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.jira import JiraService

    summary = JiraService(ctx.settings, ctx.store).summary()
    kept = f", kept in jtt only {summary.kept_local}" if summary.kept_local else ""
    ctx.out(
        f"Pushed {summary.pushed}, queued {summary.queued}, failed {summary.failed}, "
        f"not pushed yet {summary.unpushed}{kept} (finished segments and manual entries "
        "with a ticket)."
    )
    for ticket, start, state, reason in summary.problems:
        when = start.astimezone().strftime("%Y-%m-%d %H:%M")
        label = "queued" if state == "pending" else "failed"
        why = f": {redact(reason)}" if reason else ""
        ctx.out(f"  {ticket:<12} {when}  {label}{why}")
    return 0


# -- reconcile -------------------------------------------------------------------------------

_KIND_LABEL = {
    "changed": "changed",
    "deleted": "deleted",
    "jira_only": "Jira only",
    "same": "same",
}
_ACTIONS = (
    ("take_jira", "changed", "take_jiras"),
    ("push_mine", "changed deleted", "push_mine"),
    ("forget", "deleted", "forget"),
    ("import", "jira_only", "import_entry"),
)


_COUNT_LABEL = {
    "same": "in sync",
    "changed": "changed in Jira",
    "deleted": "deleted in Jira",
    "jira_only": "only in Jira",
}


def _reconciler(ctx: Context) -> Reconciler:
    from jtt_tui.services.jira import client_for
    from jtt_tui.services.reconcile import Reconciler

    settings = ctx.settings
    client_for(settings)  # not set up: say so before anything else
    return Reconciler(
        ctx.services.timer, settings.jira, lambda: client_for(settings), tz=ctx.services.timer.tz
    )


def cmd_reconcile(ctx: Context, args: argparse.Namespace) -> int:
    import json

    from jtt_tui.domain.calendar import local_date
    from jtt_tui.domain.parsing import parse_day
    from jtt_tui.services.reconcile import ReconcileRefused, period

    store = ctx.store
    today = local_date(store.clock.now())
    first = parse_day(args.start, today=today, what="--from") if args.start else None
    last = parse_day(args.end, today=today, what="--to") if args.end else None
    try:
        first, last = period(first, last, today)
    except ReconcileRefused as exc:
        raise CommandFailed(str(exc), exit_code=2) from None
    reconciler = _reconciler(ctx)
    result = reconciler.run(first, last)
    asked = [
        (name, kinds, method) for name, kinds, method in _ACTIONS if getattr(args, name) is not None
    ]
    if asked:
        unknown = _unknown_ids(result, asked, args)
        if unknown:  # nothing is done when one of the ids is not what its option settles
            raise CommandFailed("; ".join(unknown) + " (nothing was changed)", exit_code=2)
        requests = result.requests
        done, refused = _act(ctx, reconciler, result, asked, args)
        if done:
            result = reconciler.run(first, last)
            result.requests += requests
        if not args.json:
            for line in done:
                ctx.out(line)
        for line in refused:
            ctx.err(line)
    if args.json:
        ctx.out(json.dumps(result.as_json(), indent=2))
    else:
        _print_reconciliation(ctx, result, reconciler.tz)
    return 0 if result.in_sync else 3


_KIND_WORDS = {
    "changed": "changed in Jira",
    "deleted": "deleted in Jira",
    "jira_only": "logged only in Jira",
}


def _unknown_ids(
    result: Reconciliation, asked: list[tuple[str, str, str]], args: argparse.Namespace
) -> list[str]:
    problems = []
    for name, kinds, _method in asked:
        ids = {e.worklog_id for e in result.entries if e.kind in kinds.split()}
        for worklog_id in getattr(args, name):
            if worklog_id not in ids:
                what = " or ".join(_KIND_WORDS[k] for k in kinds.split())
                problems.append(
                    f"--{name.replace('_', '-')} {worklog_id}: no worklog {what} has that id "
                    f"from {result.first} to {result.last}"
                )
    return problems


def _act(
    ctx: Context,
    reconciler: Reconciler,
    result: Reconciliation,
    asked: list[tuple[str, str, str]],
    args: argparse.Namespace,
) -> tuple[list[str], list[str]]:
    from jtt_tui.domain.errors import DomainError
    from jtt_tui.services.jira import describe

    done: list[str] = []
    refused: list[str] = []
    for name, kinds, method in asked:
        wanted = set(getattr(args, name))
        chosen = [
            e
            for e in result.entries
            if e.kind in kinds.split() and (not wanted or e.worklog_id in wanted)
        ]
        for entry in chosen:
            try:
                outcome = getattr(reconciler, method)(entry)
            except DomainError as exc:
                refused.append(f"{entry.issue} worklog {entry.worklog_id}: {exc}")
                continue
            if method == "push_mine":
                done.append(f"{entry.issue} worklog {entry.worklog_id}: {describe(outcome)}")
            elif method == "import_entry":
                done.append(
                    f"{entry.issue} worklog {entry.worklog_id}: imported as a manual entry "
                    f"({outcome.title!r}, {outcome.date})"
                )
            else:
                done.append(str(outcome))
    return done, refused


def _print_reconciliation(ctx: Context, result: Reconciliation, tz: tzinfo | None) -> None:
    from jtt_tui.domain.durations import format_minutes
    from jtt_tui.services.reconcile import KINDS

    ctx.out(
        f"Jira against jtt, {result.first} to {result.last} "
        f"({count(result.requests, 'request')} to Jira)"
    )
    for entry in result.differences:
        ctx.out(
            f"  {_KIND_LABEL[entry.kind]:<9} {entry.issue:<12} worklog {entry.worklog_id:<8} "
            f"{clean(entry.describe(tz))}"
        )
    differing = [d for d in result.days if d.differs]
    if differing:
        ctx.out("Days whose totals differ (Jira / jtt):")
        for day in differing:
            jira, jtt = format_minutes(day.jira_seconds), format_minutes(day.jtt_seconds)
            ctx.out(f"  {day.day}  {jira:>7} / {jtt}")
    for issue in result.unreadable:
        ctx.out(f"  {issue}: Jira would not show its worklogs (deleted, or no permission)")
    counts = ", ".join(
        f"{len(result.of(kind))} {_COUNT_LABEL[kind]}" for kind in ("same", *KINDS[:3])
    )
    unpushed = f"; {count(result.unpushed, 'worklog')} not pushed yet" if result.unpushed else ""
    refused = f"; {count(result.refused, 'worklog')} refused by Jira" if result.refused else ""
    ctx.out(f"{counts}{unpushed}{refused}.")
    if result.on_done:
        ctx.out(
            f"Time on {', '.join(result.on_done)}, done in Jira, is not sent (Jira takes no "
            "worklogs there) and left out of the totals: reopen the issue to push it."
        )
    if result.in_sync:
        ctx.out("Jira and jtt agree.")
        return
    hints = []
    if result.of("changed"):
        hints.append("changed in Jira: --take-jira or --push-mine")
    if result.of("deleted"):
        hints.append("deleted in Jira: --push-mine or --forget")
    if result.of("jira_only"):
        hints.append("only in Jira: --import")
    if hints:
        ctx.out(
            "To settle them: "
            + "; ".join(hints)
            + " (each takes worklog ids, or settles every one of its kind)."
        )
    if result.unpushed:
        ctx.out("Not pushed yet: `jtt jira push` sends them.")
    if result.refused:
        ctx.out("Refused by Jira: `jtt jira status` says why.")
