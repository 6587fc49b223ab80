"""jtt project …, jtt billing …, jtt invoice …: the whole billing flow,
scriptable over SSH."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jtt_tui.commands import argtypes
from jtt_tui.commands.context import CommandFailed, Context
from jtt_tui.commands.output import clean, table
from jtt_tui.domain.money import NUMBER_FORMATS
from jtt_tui.words import count

ROUNDING_HELP = (
    "none, or up-N / nearest-N (N = 1, 6, 15, 30 minutes), optionally ',min-M', e.g. up-15"
)


def register(commands: argparse._SubParsersAction) -> None:
    _register_projects(commands)
    _register_billing(commands)
    _register_invoices(commands)
    report = commands.add_parser(
        "report", help="hours, billable hours and amounts per day, week, project or ticket"
    )
    report.add_argument(
        "--from", dest="start", type=argtypes.day, help="first day (default: 29 days ago)"
    )
    report.add_argument("--to", dest="end", type=argtypes.day, help="last day (default: today)")
    report.add_argument("--project", metavar="KEY", help="only this project")
    report.add_argument("--by", choices=["day", "week", "project", "ticket"], default="day")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.set_defaults(handler=cmd_report)


# -- parsing helpers -------------------------------------------------------------------


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CommandFailed(f"{what} must be a number, e.g. 85 or 72.50 (got {text!r})") from None
    if not value.is_finite():
        raise CommandFailed(f"{what} must be a finite number (got {text!r})")
    return value


def parse_rounding(text: str) -> Any:
    from jtt_tui.domain.billing import parse_rounding as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise CommandFailed(f"--rounding {text!r}: {exc}", exit_code=2) from None


# -- projects ---------------------------------------------------------------------------


def _register_projects(commands: argparse._SubParsersAction) -> None:
    project = commands.add_parser("project", help="add, list, edit or archive projects")
    actions = project.add_subparsers(title="actions", metavar="ACTION", required=True)

    def fields(parser: argparse.ArgumentParser, *, adding: bool) -> None:
        parser.add_argument("--name", required=adding, help="project name")
        parser.add_argument("--client", help="client name (invoices by client use it)")
        parser.add_argument("--client-email", help="client e-mail (on invoices)")
        parser.add_argument("--client-address", help="client address (on invoices)")
        parser.add_argument("--rate", help="hourly rate (overrides the global rate)")
        parser.add_argument("--currency", help="currency code, e.g. USD, EUR, GBP")
        parser.add_argument("--budget", help="budget in the project's currency")
        parser.add_argument("--estimate-hours", help="estimated hours")
        parser.add_argument(
            "--rounding", help=f"billing rounding for this project: {ROUNDING_HELP}"
        )

    add = actions.add_parser("add", help="add a project (KEY is the Jira key prefix, e.g. WEB)")
    add.add_argument("key")
    fields(add, adding=True)
    add.set_defaults(handler=cmd_project_add)
    listing = actions.add_parser("list", help="projects with rates, hours and budget")
    listing.add_argument("--all", action="store_true", help="archived ones too")
    listing.set_defaults(handler=cmd_project_list)
    edit = actions.add_parser("edit", help="change a project's details")
    edit.add_argument("key")
    fields(edit, adding=False)
    edit.set_defaults(handler=cmd_project_edit)
    archive = actions.add_parser("archive", help="archive a project (its time is kept)")
    archive.add_argument("key")
    archive.set_defaults(handler=cmd_project_archive)


def _project_changes(args: argparse.Namespace, current: Any | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.name is not None:
        changes["name"] = args.name
    if args.rate is not None:
        changes["hourly_rate"] = _decimal(args.rate, "--rate") if args.rate.strip() else None
    if args.currency is not None:
        changes["currency"] = args.currency.strip().upper() or None
    if args.budget is not None:
        changes["budget"] = _decimal(args.budget, "--budget") if args.budget.strip() else None
    if args.estimate_hours is not None:
        text = args.estimate_hours
        changes["estimated_hours"] = _decimal(text, "--estimate-hours") if text.strip() else None
    if args.rounding is not None:
        changes["rounding"] = parse_rounding(args.rounding) if args.rounding.strip() else None
    client = current.client.model_dump() if current is not None else {}
    for option, name in (
        ("client", "name"),
        ("client_email", "email"),
        ("client_address", "address"),
    ):
        value = getattr(args, option)
        if value is not None:
            client[name] = value
    if client:
        changes["client"] = client
    return changes


def _find_project(ctx: Context, key: str) -> Any:

    project = ctx.services.projects.find_by_key(key)
    if project is None:
        raise CommandFailed(f"no project with the key {key.strip().upper()}: `jtt project list`")
    return project


def cmd_project_add(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.models import Project

    project = Project.model_validate({"key": args.key, **_project_changes(args, None)})
    saved = ctx.services.projects.save(project)
    ctx.out(f"Added project {saved.key} ({clean(saved.name)}).")
    return 0


def cmd_project_edit(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.models import Project

    current = _find_project(ctx, args.key)
    changes = _project_changes(args, current)
    if not changes:
        raise CommandFailed("nothing to change: give --name, --rate, --client …", exit_code=2)
    updated = Project.model_validate({**current.model_dump(), **changes})
    ctx.services.projects.save(updated)
    ctx.out(f"Updated project {updated.key}: {', '.join(sorted(changes))}.")
    return 0


def cmd_project_archive(ctx: Context, args: argparse.Namespace) -> int:

    project = _find_project(ctx, args.key)
    ctx.services.projects.archive(project.project_id)
    ctx.out(f"Archived project {project.key}; its tracked time is kept.")
    return 0


def cmd_project_list(ctx: Context, args: argparse.Namespace) -> int:
    store = ctx.store
    billing = store.get_billing_settings()
    rows = []
    for summary in ctx.services.projects.summaries():
        project = summary.project
        if str(project.status) != "active" and not args.all:
            continue
        currency = project.currency or billing.currency
        rate = project.hourly_rate or billing.project_rates.get(project.key)
        rows.append(
            [
                project.key,
                clean(project.name),
                clean(project.client.name),
                ctx.money(rate, currency) if rate is not None else "global",
                f"{summary.actual_hours:.2f}",
                f"{project.estimated_hours}" if project.estimated_hours is not None else "",
                ctx.money(project.budget, currency) if project.budget is not None else "",
                str(project.status),
            ]
        )
    if not rows:
        ctx.out("No projects yet: `jtt project add WEB --name Website --rate 85`.")
        return 0
    ctx.out(
        table(
            ["key", "name", "client", "rate", "hours", "estimate", "budget", "status"],
            rows,
            "lllrrrrl",
        )
    )
    return 0


# -- billing settings ---------------------------------------------------------------------


def _register_billing(commands: argparse._SubParsersAction) -> None:
    billing = commands.add_parser("billing", help="show or change billing settings")
    actions = billing.add_subparsers(title="actions", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="rates, tax, company, numbering, terms, rounding")
    show.set_defaults(handler=cmd_billing_show)
    change = actions.add_parser("set", help="change billing settings")
    change.add_argument("--global-rate", help="hourly rate for projects without their own")
    change.add_argument(
        "--project-rate",
        action="append",
        default=[],
        metavar="KEY=RATE",
        help="a project's rate in the billing settings (repeatable; KEY= removes it)",
    )
    change.add_argument("--currency", help="default currency, e.g. USD")
    change.add_argument("--tax-rate", help="tax in percent, e.g. 19")
    change.add_argument("--company-name")
    change.add_argument("--company-address")
    change.add_argument("--company-email")
    change.add_argument("--company-tax-id")
    change.add_argument("--bank-details", help="printed on invoices")
    change.add_argument("--invoice-prefix", help="e.g. INV (numbers look like INV-1001)")
    change.add_argument("--next-number", help="the next invoice number's counter")
    change.add_argument("--payment-terms", help='"Net 30", "Net 15", "Due on receipt"…')
    change.add_argument("--rounding", help=f"default rounding: {ROUNDING_HELP}")
    change.add_argument(
        "--number-format",
        choices=NUMBER_FORMATS,
        help="how amounts are written everywhere: auto (the currency's custom: $1,234.50, "
        "1.234,50 €) or one style for every currency",
    )
    change.set_defaults(handler=cmd_billing_set)


def cmd_billing_show(ctx: Context, args: argparse.Namespace) -> int:
    b = ctx.store.get_billing_settings()
    ctx.out(f"Global rate:     {ctx.money(b.global_hourly_rate, b.currency)} per hour")
    for key, rate in sorted(b.project_rates.items()):
        ctx.out(f"  {key:<14} {ctx.money(rate, b.currency)} per hour")
    ctx.out(f"Currency:        {b.currency}")
    ctx.out(f"Number format:   {b.number_format} (e.g. {ctx.money(Decimal('1234.5'), b.currency)})")
    ctx.out(f"Tax rate:        {b.tax_rate.normalize():f}%")
    ctx.out(f"Rounding:        {b.rounding.describe()}")
    ctx.out(f"Payment terms:   {clean(b.payment_terms)}")
    ctx.out(f"Next invoice:    {b.format_invoice_number(b.next_invoice_number)}")
    company = b.company
    ctx.out(f"Company:         {clean(company.name) or '(not set)'}")
    for label, value in (
        ("address", company.address.replace("\n", ", ")),
        ("e-mail", company.email),
        ("tax id", company.tax_id),
    ):
        if value:
            ctx.out(f"  {label:<14} {clean(value)}")
    if b.bank_details:
        ctx.out(f"Bank details:    {clean(b.bank_details.replace(chr(10), ', '))}")
    return 0


def cmd_billing_set(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.models import BillingSettings

    store = ctx.store
    current = store.get_billing_settings()
    changes: dict[str, Any] = {}
    if args.global_rate is not None:
        changes["global_hourly_rate"] = _decimal(args.global_rate, "--global-rate")
    if args.project_rate:
        rates = dict(current.project_rates)
        for item in args.project_rate:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandFailed(f"--project-rate {item!r}: expected KEY=RATE", exit_code=2)
            if value.strip():
                rates[key.strip().upper()] = _decimal(value, f"--project-rate {key}")
            else:
                rates.pop(key.strip().upper(), None)
        changes["project_rates"] = rates
    for option, name in (
        ("currency", "currency"),
        ("invoice_prefix", "invoice_prefix"),
        ("payment_terms", "payment_terms"),
        ("bank_details", "bank_details"),
    ):
        value = getattr(args, option)
        if value is not None:
            changes[name] = value.strip().upper() if name == "currency" else value
    if args.tax_rate is not None:
        changes["tax_rate"] = _decimal(args.tax_rate, "--tax-rate")
    if args.next_number is not None:
        try:
            changes["next_invoice_number"] = int(args.next_number)
        except ValueError:
            raise CommandFailed("--next-number must be a whole number", exit_code=2) from None
    if args.rounding is not None:
        changes["rounding"] = parse_rounding(args.rounding)
    if args.number_format is not None:
        changes["number_format"] = args.number_format
    company = current.company.model_dump()
    for option, name in (
        ("company_name", "name"),
        ("company_address", "address"),
        ("company_email", "email"),
        ("company_tax_id", "tax_id"),
    ):
        value = getattr(args, option)
        if value is not None:
            company[name] = value
    if company != current.company.model_dump():
        changes["company"] = company
    if not changes:
        raise CommandFailed("nothing to change: see `jtt billing set --help`", exit_code=2)
    # validate the whole result first: nothing is saved if any value is wrong
    BillingSettings.model_validate({**current.model_dump(), **changes})
    ctx.services.billing.update_settings(**changes)
    ctx.out(f"Saved billing settings: {', '.join(sorted(changes))}.")
    return 0


# -- invoices -----------------------------------------------------------------------------


def _register_invoices(commands: argparse._SubParsersAction) -> None:
    invoice = commands.add_parser("invoice", help="create, list, show, export or mark invoices")
    actions = invoice.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="a draft invoice from unbilled, finished time")
    scope = create.add_mutually_exclusive_group(required=True)
    scope.add_argument("--project", metavar="KEY")
    scope.add_argument("--client", metavar="NAME")
    create.add_argument(
        "--from", dest="start", required=True, type=argtypes.day, help="first day (YYYY-MM-DD)"
    )
    create.add_argument(
        "--to", dest="end", required=True, type=argtypes.day, help="last day (YYYY-MM-DD)"
    )
    create.add_argument("--notes", default="", help="printed on the invoice")
    create.add_argument("--dry-run", action="store_true", help="show it, create nothing")
    create.set_defaults(handler=cmd_invoice_create)
    listing = actions.add_parser("list", help="invoices, newest first")
    listing.add_argument(
        "--status", choices=["draft", "sent", "paid", "overdue", "cancelled"], help="only these"
    )
    listing.set_defaults(handler=cmd_invoice_list)
    show = actions.add_parser("show", help="one invoice with its lines")
    show.add_argument("number")
    show.set_defaults(handler=cmd_invoice_show)
    export = actions.add_parser("export", help="write an invoice as PDF, HTML, Markdown or CSV")
    export.add_argument("number")
    export.add_argument("--format", choices=["pdf", "html", "md", "csv"], default="pdf")
    export.add_argument("-o", "--output", help="file to write (default: invoice-NUMBER.FORMAT)")
    export.add_argument(
        "--show-tracked",
        action="store_true",
        help="print the tracked hours next to the billed ones where rounding changed them",
    )
    export.set_defaults(handler=cmd_invoice_export)
    refresh = actions.add_parser(
        "refresh", help="rebuild a draft's lines from the time it bills (after an edit)"
    )
    refresh.add_argument("number")
    refresh.set_defaults(handler=cmd_invoice_refresh)
    mark = actions.add_parser("mark", help="mark an invoice sent, paid or cancelled")
    mark.add_argument("number")
    mark.add_argument("status", choices=["sent", "paid", "cancelled"])
    mark.add_argument("--on", type=argtypes.day, help="the day it was paid (default today)")
    mark.set_defaults(handler=cmd_invoice_mark)


def _billing(ctx: Context) -> Any:
    return ctx.services.billing


def _invoice(ctx: Context, number: str) -> Any:
    wanted = number.strip().casefold()
    for invoice in ctx.store.get_invoices():
        if invoice.invoice_number.casefold() == wanted:
            return invoice
    raise CommandFailed(f"no invoice {number}: `jtt invoice list`")


def _today(ctx: Context) -> Any:
    from jtt_tui.domain.calendar import local_date

    return local_date(ctx.store.clock.now())


def cmd_invoice_create(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.parsing import parse_day

    today = _today(ctx)
    first = parse_day(args.start, today=today, what="--from")
    last = parse_day(args.end, today=today, what="--to")
    billing = _billing(ctx)
    project_id = _find_project(ctx, args.project).project_id if args.project else None
    if args.dry_run:
        draft = billing.preview(first=first, last=last, project_id=project_id, client=args.client)
        for line in draft.lines:
            ctx.out(f"  {clean(line.description)[:60]:<60} {line.hours:>7} h")
        total = ctx.money(draft.totals.total, draft.currency)
        ctx.out(f"Would bill {count(len(draft.lines), 'line')}, total {total} (nothing created).")
        return 0
    invoice = billing.create(
        first=first, last=last, project_id=project_id, client=args.client, notes=args.notes
    )
    ctx.out(
        f"Created {invoice.invoice_number}: {count(len(invoice.items), 'line')}, total "
        f"{ctx.money(invoice.total, invoice.currency)} (draft)."
    )
    return 0


def cmd_invoice_list(ctx: Context, args: argparse.Namespace) -> int:
    views = _billing(ctx).invoices(status=args.status)
    if not views:
        ctx.out("No invoices" + (f" with status {args.status}." if args.status else " yet."))
        return 0
    rows = [
        [
            v.invoice.invoice_number,
            v.invoice.issue_date.isoformat(),
            v.invoice.due_date.isoformat() if v.invoice.due_date else "",
            clean(v.invoice.client_id or ""),
            str(v.status),
            ctx.money(v.invoice.total, v.invoice.currency),
        ]
        for v in views
    ]
    ctx.out(table(["number", "issued", "due", "client", "status", "total"], rows, "lllllr"))
    return 0


def cmd_invoice_show(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.invoice_docs import build_document

    invoice = _invoice(ctx, args.number)
    doc = build_document(ctx.store, invoice, _today(ctx), show_tracked=True)
    ctx.out(doc.title)
    for label, value in [*doc.dates(), ("Status", doc.status)]:
        ctx.out(f"  {label:<15} {value}")
    ctx.out(f"  {'Client':<15} {clean(doc.client.name) or '—'}")
    ctx.out("")
    rows = [
        [
            clean(line.description)[:70],
            doc.hours(line),
            doc.money(line.rate),
            doc.money(line.amount),
        ]
        for line in doc.lines
    ]
    ctx.out(table(["description", "hours", "rate", "amount"], rows, "lrrr"))
    ctx.out("")
    for label, value in doc.totals():
        ctx.out(f"{label:>40}  {value}")
    stale = _billing(ctx).out_of_date(invoice)
    if stale:
        ctx.out("")
        ctx.out(f"Out of date: lines no longer match tracked time ({'; '.join(stale[:3])}).")
        ctx.out(f"Rebuild them with `jtt invoice refresh {invoice.invoice_number}`.")
    return 0


def cmd_invoice_refresh(ctx: Context, args: argparse.Namespace) -> int:
    invoice = _billing(ctx).refresh(_invoice(ctx, args.number).invoice_id)
    ctx.out(
        f"Refreshed {invoice.invoice_number}: {count(len(invoice.items), 'line')}, total "
        f"{ctx.money(invoice.total, invoice.currency)}."
    )
    return 0


def cmd_invoice_export(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.services.invoice_docs import default_name, export_invoice

    invoice = _invoice(ctx, args.number)
    path = (
        Path(args.output).expanduser() if args.output else Path(default_name(invoice, args.format))
    )
    export_invoice(
        ctx.store, invoice, args.format, path, _today(ctx), show_tracked=args.show_tracked
    )
    ctx.out(f"Wrote {path} ({args.format}, {path.stat().st_size:,} bytes)")
    return 0


def cmd_invoice_mark(ctx: Context, args: argparse.Namespace) -> int:
    from jtt_tui.domain.parsing import parse_day

    invoice = _invoice(ctx, args.number)
    on = parse_day(args.on, today=_today(ctx), what="--on") if args.on else None
    updated = _billing(ctx).set_status(invoice.invoice_id, args.status, on=on)
    extra = f" on {updated.paid_date}" if updated.paid_date and args.status == "paid" else ""
    freed = " Its time can be billed again." if args.status == "cancelled" else ""
    ctx.out(f"{updated.invoice_number} is now {updated.status}{extra}.{freed}")
    return 0


def _amounts(ctx: Context, amounts: dict[str, Decimal]) -> str:
    return " + ".join(ctx.money(a, c) for c, a in sorted(amounts.items())) or "-"


def cmd_report(ctx: Context, args: argparse.Namespace) -> int:
    import json
    import sys
    from datetime import timedelta

    from jtt_tui.domain.parsing import parse_day
    from jtt_tui.services.reports import time_report

    today = _today(ctx)
    last = parse_day(args.end, today=today, what="--to") if args.end else today
    first = (
        parse_day(args.start, today=today, what="--from")
        if args.start
        else last - timedelta(days=29)
    )
    if last < first:
        raise CommandFailed(f"--to {last} is before --from {first}", exit_code=2)
    report = time_report(ctx.store, first, last, by=args.by, project_key=args.project)
    if args.format == "json":
        data = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "by": args.by,
            "rows": report.as_dicts(),
            "total": {
                "hours": str(report.total.hours),
                "billable_hours": str(report.total.billable_hours),
                "amounts": {c: str(a) for c, a in sorted(report.total.amounts.items())},
            },
        }
        ctx.out(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    if args.format == "csv":
        import csv

        from jtt_tui.storage.exporters import cell

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([args.by, "hours", "billable_hours", "currency", "amount"])
        for row in [*report.rows, report.total]:
            amounts = sorted(row.amounts.items()) or [("", Decimal(0))]
            for currency, amount in amounts:
                writer.writerow([cell(row.label), row.hours, row.billable_hours, currency, amount])
        return 0
    if not report.rows:
        ctx.out(f"Nothing tracked from {first} to {last}.")
        return 0
    rows = [
        [clean(r.label), f"{r.hours:.2f}", f"{r.billable_hours:.2f}", _amounts(ctx, r.amounts)]
        for r in report.rows
    ]
    rows.append(["total", f"{report.total.hours:.2f}", f"{report.total.billable_hours:.2f}",
                 _amounts(ctx, report.total.amounts)])  # fmt: skip
    ctx.out(f"{first} to {last}, by {args.by}" + (f", project {args.project.upper()}"
            if args.project else ""))  # fmt: skip
    ctx.out(table([args.by, "hours", "billable", "amount"], rows, "lrrr"))
    return 0
