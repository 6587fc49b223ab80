"""Invoices as documents people send: PDF, self-contained printable HTML,
Markdown, and CSV of the lines — the same content in each.

The PDF uses fpdf2 (pure Python) with DejaVu Sans, bundled in
``jtt_tui/fonts`` (Bitstream Vera licence), so any name prints, whatever the
script. Money is formatted from Decimal with the currency's symbol where
that currency customarily puts it."""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from jtt_tui.domain.billing import effective_status
from jtt_tui.domain.calendar import local_date
from jtt_tui.domain.models import BillingSettings, Client, Company, Invoice, InvoiceLine
from jtt_tui.domain.money import format_money
from jtt_tui.files import write_private_file
from jtt_tui.storage.base import Storage
from jtt_tui.storage.exporters import cell

DocumentFormat = Literal["pdf", "html", "md", "csv"]
FORMATS: tuple[DocumentFormat, ...] = ("pdf", "html", "md", "csv")
FONTS = Path(__file__).resolve().parent.parent / "fonts"


def format_hours(hours: Decimal) -> str:
    return f"{hours:.2f}"


@dataclass(frozen=True)
class InvoiceDocument:
    """What goes on the client's copy. ``status`` is for jtt's own views
    only (never printed on the copy); ``show_tracked`` adds the tracked
    hours next to the billed ones where rounding changed them."""

    number: str
    status: str
    issue_date: date
    due_date: date | None
    paid_date: date | None
    currency: str
    company: Company
    client: Client
    lines: list[InvoiceLine]
    subtotal: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    payment_terms: str
    bank_details: str
    notes: str
    service_period: tuple[date, date] | None = None
    show_tracked: bool = False
    number_format: str = "auto"  # the billing settings' choice

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency, self.number_format)

    @property
    def title(self) -> str:
        return f"Invoice {self.number}"

    def dates(self) -> list[tuple[str, str]]:
        """The head of the client's copy: number, dates, the service period."""
        rows = [("Invoice number", self.number), ("Issue date", self.issue_date.isoformat())]
        if self.due_date:
            rows.append(("Due date", self.due_date.isoformat()))
        if self.paid_date:
            rows.append(("Paid", self.paid_date.isoformat()))
        if self.service_period is not None:
            first, last = self.service_period
            period = first.isoformat() if first == last else f"{first} – {last}"
            rows.append(("Service period", period))
        return rows

    def hours(self, line: InvoiceLine) -> str:
        """Billed hours, with the tracked ones where rounding changed them
        (when asked for)."""
        text = format_hours(line.hours)
        if self.show_tracked and line.tracked_hours is not None:
            text += f" (tracked {format_hours(line.tracked_hours)})"
        return text

    def totals(self) -> list[tuple[str, str]]:
        return [
            ("Subtotal", self.money(self.subtotal)),
            (f"Tax ({self.tax_rate.normalize():f}%)", self.money(self.tax)),
            ("Total", self.money(self.total)),
        ]


def build_document(
    store: Storage,
    invoice: Invoice,
    today: date,
    *,
    show_tracked: bool = False,
    tz: tzinfo | None = None,
) -> InvoiceDocument:
    """The invoice with everything around it: company and bank details from
    the billing settings, the client from the invoiced project(s), the
    service period from the time it bills."""
    billing: BillingSettings = store.get_billing_settings()
    client = _client_of(store, invoice)
    return InvoiceDocument(
        number=invoice.invoice_number,
        status=str(effective_status(invoice, today)),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        paid_date=invoice.paid_date,
        currency=invoice.currency,
        company=billing.company,
        client=client,
        lines=list(invoice.items),
        subtotal=invoice.subtotal,
        tax_rate=invoice.tax_rate,
        tax=invoice.tax_amount,
        total=invoice.total,
        payment_terms=billing.payment_terms,
        bank_details=billing.bank_details,
        notes=invoice.notes,
        service_period=_service_period(store, invoice, tz),
        show_tracked=show_tracked,
        number_format=billing.number_format,
    )


def _service_period(
    store: Storage, invoice: Invoice, tz: tzinfo | None
) -> tuple[date, date] | None:
    """First and last local day of the time the invoice bills."""
    days = [local_date(e.segment_start, tz) for e in invoice.billed if e.segment_start]
    for entry in invoice.billed:
        if entry.task_id:
            task = store.get_manual_task(entry.task_id)
            if task is not None:
                days.append(task.date)
    return (min(days), max(days)) if days else None


def _client_of(store: Storage, invoice: Invoice) -> Client:
    projects = store.get_projects()
    if invoice.project_id:
        for project in projects:
            if project.project_id == invoice.project_id:
                return project.client
    if invoice.client_id:
        wanted = invoice.client_id.strip().casefold()
        for project in projects:
            if project.client.name.strip().casefold() == wanted:
                return project.client
        return Client(name=invoice.client_id)
    return Client()


# -- text formats ---------------------------------------------------------------------


def to_csv(doc: InvoiceDocument) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["invoice", "description", "ticket", "hours", "tracked_hours", "rate",
                     "amount", "currency"])  # fmt: skip
    for line in doc.lines:
        writer.writerow(
            [
                doc.number,
                cell(line.description),
                line.ticket_number or "",
                f"{line.hours}",
                "" if line.tracked_hours is None else f"{line.tracked_hours}",
                f"{line.rate}",
                f"{line.amount}",
                doc.currency,
            ]
        )
    return buffer.getvalue()


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: InvoiceDocument) -> str:
    out = [f"# {_md(doc.title)}", ""]
    out += [f"**{_md(doc.company.name or 'From')}**  "]
    out += [f"{_md(part)}  " for part in _company_lines(doc.company)[1:]]
    out += ["", f"**Bill to:** {_md(doc.client.name or '—')}  "]
    out += [f"{_md(part)}  " for part in _client_lines(doc.client)[1:]]
    out += ["", "| | |", "|---|---|"]
    out += [f"| {label} | {_md(value)} |" for label, value in doc.dates()]
    out += ["", "| Description | Hours | Rate | Amount |", "|---|---:|---:|---:|"]
    for line in doc.lines:
        out.append(
            f"| {_md(line.description)} | {_md(doc.hours(line))} | "
            f"{doc.money(line.rate)} | {doc.money(line.amount)} |"
        )
    out.append("")
    for label, value in doc.totals():
        out.append(f"**{label}:** {value}  " if label == "Total" else f"{label}: {value}  ")
    out += ["", f"**Payment terms:** {_md(doc.payment_terms)}"]
    if doc.bank_details:
        out += ["", "**Bank details:**  ", *[f"{_md(x)}  " for x in doc.bank_details.splitlines()]]
    if doc.notes:
        out += ["", "**Notes:**  ", *[f"{_md(x)}  " for x in doc.notes.splitlines()]]
    return "\n".join(out).rstrip() + "\n"


def _company_lines(company: Company) -> list[str]:
    parts = [company.name, *company.address.splitlines(), company.email, company.phone]
    if company.tax_id:
        parts.append(f"Tax id: {company.tax_id}")
    return [p for p in parts if p.strip()] or [""]


def _client_lines(client: Client) -> list[str]:
    parts = [client.name, *client.address.splitlines(), client.email]
    return [p for p in parts if p.strip()] or [""]


_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #222; margin: 2.5em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.head { display: flex; justify-content: space-between; gap: 2em; margin: 1.5em 0; }
.muted { color: #666; }
table { border-collapse: collapse; width: 100%; }
table.lines th { text-align: left; border-bottom: 2px solid #444; padding: 0.4em; }
table.lines td { border-bottom: 1px solid #ddd; padding: 0.4em; vertical-align: top; }
.num { text-align: right; white-space: nowrap; }
table.totals { width: auto; margin-left: auto; margin-top: 1em; }
table.totals td { padding: 0.2em 0.6em; }
table.totals tr.total td { font-weight: bold; border-top: 2px solid #444; }
.block { margin-top: 1.5em; white-space: pre-line; }
@media print {
  body { margin: 0; } thead { display: table-header-group; } tr { break-inside: avoid; }
}
"""


def to_html(doc: InvoiceDocument) -> str:
    e = html.escape

    def block(lines: list[str]) -> str:
        return "<br>".join(e(x) for x in lines)

    rows = "\n".join(
        f"<tr><td>{e(line.description)}</td><td class='num'>{e(doc.hours(line))}</td>"
        f"<td class='num'>{e(doc.money(line.rate))}</td>"
        f"<td class='num'>{e(doc.money(line.amount))}</td></tr>"
        for line in doc.lines
    )
    dates = "".join(
        f"<tr><td class='muted'>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in doc.dates()
    )
    totals = "".join(
        f"<tr{' class=total' if k == 'Total' else ''}><td>{e(k)}</td>"
        f"<td class='num'>{e(v)}</td></tr>"
        for k, v in doc.totals()
    )
    extra = f"<div class='block'><strong>Payment terms:</strong> {e(doc.payment_terms)}</div>"
    if doc.bank_details:
        extra += f"<div class='block'><strong>Bank details</strong>\n{e(doc.bank_details)}</div>"
    if doc.notes:
        extra += f"<div class='block'><strong>Notes</strong>\n{e(doc.notes)}</div>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(doc.title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{e(doc.title)}</h1>
<div class="head">
<div><strong>{block(_company_lines(doc.company)[:1])}</strong><br>
{block(_company_lines(doc.company)[1:])}</div>
<div><span class="muted">Bill to</span><br><strong>{block(_client_lines(doc.client)[:1])}</strong>
<br>{block(_client_lines(doc.client)[1:])}</div>
<table style="width:auto">{dates}</table>
</div>
<table class="lines"><thead><tr><th>Description</th><th class="num">Hours</th>
<th class="num">Rate</th><th class="num">Amount</th></tr></thead>
<tbody>
{rows}
</tbody></table>
<table class="totals">{totals}</table>
{extra}
</body></html>
"""


# -- PDF ----------------------------------------------------------------------------


# invisible joiners and selectors (emoji sequences): dropped, not shown as "?"
_INVISIBLE = frozenset({0x200D, 0xFE0E, 0xFE0F})
MISSING_GLYPH = "?"


def printable(text: str, has_glyph: Any) -> str:
    """``text`` with every character the font cannot draw replaced by a
    visible ``?`` (emoji in a name): never silently dropped."""
    return "".join(
        c if c in "\n\r\t" or has_glyph(ord(c)) else ("" if ord(c) in _INVISIBLE else MISSING_GLYPH)
        for c in text
    )


def _pdf_class() -> Any:
    from fpdf import FPDF

    class InvoicePDF(FPDF):
        """Every text passes through :func:`printable` for the font in use,
        so fpdf2 never drops a glyph (or warns about it on stderr)."""

        def normalize_text(self, text: str) -> str:
            font = self.current_font
            cmap = getattr(font, "cmap", None)
            if cmap:
                text = printable(text, cmap.__contains__)
            return str(super().normalize_text(text))

    return InvoicePDF


def to_pdf(doc: InvoiceDocument) -> bytes:
    from fpdf.fonts import FontFace

    pdf = _pdf_class()(format="A4")
    pdf.set_title(doc.title)
    pdf.set_creator("jtt")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, doc.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    width = pdf.epw
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 10)
    company = _company_lines(doc.company)
    pdf.multi_cell(width / 3, 5, company[0] or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width / 3, 4.5, "\n".join(company[1:]) or " ", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()

    pdf.set_xy(pdf.l_margin + width / 3, top)
    pdf.set_font("DejaVu", "", 8)
    pdf.cell(width / 3, 5, "Bill to", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 10)
    client = _client_lines(doc.client)
    pdf.multi_cell(width / 3 - 4, 5, client[0] or "—", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(width / 3 - 4, 4.5, "\n".join(client[1:]) or " ", new_x="LEFT", new_y="NEXT")
    middle_end = pdf.get_y()

    pdf.set_xy(pdf.l_margin + 2 * width / 3, top)
    pdf.set_font("DejaVu", "", 9)
    for label, value in doc.dates():
        pdf.set_x(pdf.l_margin + 2 * width / 3)
        if pdf.get_string_width(value) > width / 6 - 2:  # a long value: under its label
            pdf.cell(width / 3, 5, label, new_x="LMARGIN", new_y="NEXT")
            pdf.set_x(pdf.l_margin + 2 * width / 3)
            pdf.cell(width / 3, 5, value, align="R", new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.cell(width / 6, 5, label)
        pdf.cell(width / 6, 5, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, middle_end, pdf.get_y()) + 6)

    heading = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(
        col_widths=(58, 12, 15, 15),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=heading,
        repeat_headings=1,  # on every page the table continues on
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        table.row(["Description", "Hours", "Rate", "Amount"])
        for line in doc.lines:
            table.row(
                [
                    line.description,
                    doc.hours(line).replace(" (", "\n("),
                    doc.money(line.rate),
                    doc.money(line.amount),
                ]
            )
    pdf.ln(4)
    for label, value in doc.totals():
        pdf.set_font("DejaVu", "B" if label == "Total" else "", 10)
        pdf.set_x(pdf.l_margin + width * 0.55)
        pdf.cell(width * 0.25, 6, label)
        pdf.cell(width * 0.20, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for title, text in (
        ("Payment terms", doc.payment_terms),
        ("Bank details", doc.bank_details),
        ("Notes", doc.notes),
    ):
        if not text.strip():
            continue
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(0, 5, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def render(doc: InvoiceDocument, fmt: DocumentFormat) -> bytes:
    if fmt == "pdf":
        return to_pdf(doc)
    text = {"html": to_html, "md": to_markdown, "csv": to_csv}[fmt](doc)
    return text.encode()


def export_invoice(
    store: Storage,
    invoice: Invoice,
    fmt: DocumentFormat,
    path: Path,
    today: date,
    *,
    show_tracked: bool = False,
) -> Path:
    """Write the invoice as ``fmt`` to ``path`` (atomically, 0600);
    ``show_tracked`` adds the tracked hours where rounding changed them."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    doc = build_document(store, invoice, today, show_tracked=show_tracked)
    write_private_file(path, render(doc, fmt))
    return path


def default_name(invoice: Invoice, fmt: DocumentFormat) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in invoice.invoice_number)
    return f"invoice-{safe}.{fmt}"
