"""Billing forms: the settings form, a new invoice (scope and period), its
preview, and the lines of a draft as editable text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TextArea

from jtt_tui.domain.billing import format_rounding, parse_rounding
from jtt_tui.domain.models import BillingSettings, Invoice, Project
from jtt_tui.domain.money import format_money
from jtt_tui.domain.parsing import parse_day
from jtt_tui.domain.validation import sentence
from jtt_tui.services.billing import InvoiceDraft
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.modals.forms import (
    Errors,
    FieldErrors,
    FieldGroup,
    FormModal,
    area_field,
    select_field,
    text_field,
)
from jtt_tui.ui.text import plain

_SETTINGS_FIELDS: dict[tuple[str, ...], str] = {
    ("company", "name"): "company_name",
    ("company", "address"): "company_address",
    ("company", "email"): "company_email",
    ("company", "phone"): "company_phone",
    ("company", "tax_id"): "company_tax_id",
}


def format_rates(rates: dict[str, Decimal]) -> str:
    return ", ".join(f"{key}={rate}" for key, rate in sorted(rates.items()))


def parse_rates(text: str) -> dict[str, str]:
    """``WEB=60, API=72.5`` -> {"WEB": "60", "API": "72.5"} (values checked later)."""
    rates: dict[str, str] = {}
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{part.strip()!r}: write each rate as KEY=amount, e.g. WEB=60")
        rates[key.strip().upper()] = value.strip()
    return rates


class BillingSettingsForm(FieldGroup, Vertical):
    """The billing settings, edited in place; ``changes()`` validates."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings: BillingSettings | None = None

    def compose(self) -> ComposeResult:
        text = text_field
        yield from text("global_hourly_rate", "Global hourly rate")
        yield from text(
            "project_rates",
            "Per-project rates",
            placeholder="WEB=60, API=72.5 (a project's own rate wins)",
        )
        yield from text("currency", "Currency", placeholder="USD")
        yield from select_field(
            "number_format",
            "Number format (lists, reports, invoices)",
            [
                ("auto: the currency's custom ($1,234.50, 1.234,50 €)", "auto"),
                ("1,234.50", "1,234.50"),
                ("1.234,50", "1.234,50"),
                ("1 234,50", "1 234,50"),
            ],
            "auto",
        )
        yield from text("tax_rate", "Tax rate (%)")
        yield from text("invoice_prefix", "Invoice prefix", placeholder="INV")
        yield from text("next_invoice_number", "Next invoice number")
        yield from text("payment_terms", "Payment terms", placeholder="Net 30, Due on receipt")
        yield from text(
            "rounding",
            "Rounding of each entry",
            placeholder="none, up-15, nearest-6, up-15,min-30",
        )
        yield from text("company_name", "Company name")
        yield from area_field("company_address", "Company address (one line each)")
        yield from text("company_email", "Company email")
        yield from text("company_phone", "Company phone")
        yield from text("company_tax_id", "Company tax id")
        yield from area_field("bank_details", "Bank details")

    def focus_first(self) -> None:
        self.query_one("#f-global_hourly_rate", Input).focus()

    def load(self, settings: BillingSettings) -> None:
        self._settings = settings
        values = {
            "global_hourly_rate": str(settings.global_hourly_rate),
            "project_rates": format_rates(settings.project_rates),
            "currency": settings.currency,
            "tax_rate": str(settings.tax_rate),
            "invoice_prefix": settings.invoice_prefix,
            "next_invoice_number": str(settings.next_invoice_number),
            "payment_terms": settings.payment_terms,
            "rounding": format_rounding(settings.rounding),
            "company_name": settings.company.name,
            "company_email": settings.company.email,
            "company_phone": settings.company.phone,
            "company_tax_id": settings.company.tax_id,
        }
        for name, value in values.items():
            self.query_one(f"#f-{name}", Input).value = value
        self.query_one("#f-company_address", TextArea).text = settings.company.address
        self.query_one("#f-bank_details", TextArea).text = settings.bank_details
        self.query_one("#f-number_format", Select).value = settings.number_format

    def _value(self, name: str) -> str:
        return str(self.value(name))

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the loaded settings, validated."""
        current = self._settings or BillingSettings()
        errors = Errors()
        rates = errors.check("project_rates", parse_rates, self._value("project_rates"))
        rounding = errors.check("rounding", parse_rounding, self._value("rounding") or "none")
        data = current.model_dump()
        data.update(
            {
                "global_hourly_rate": self._value("global_hourly_rate") or "0",
                "project_rates": rates if rates is not None else current.project_rates,
                "currency": self._value("currency"),
                "number_format": self.value("number_format"),
                "tax_rate": self._value("tax_rate") or "0",
                "invoice_prefix": self._value("invoice_prefix"),
                "next_invoice_number": self._value("next_invoice_number"),
                "payment_terms": self._value("payment_terms"),
                "rounding": rounding if rounding is not None else current.rounding,
                "company": {
                    "name": self._value("company_name"),
                    "address": self._value("company_address"),
                    "email": self._value("company_email"),
                    "phone": self._value("company_phone"),
                    "tax_id": self._value("company_tax_id"),
                },
                "bank_details": self.query_one("#f-bank_details", TextArea).text,
            }
        )
        try:
            updated = BillingSettings.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(str(part) for part in error["loc"])
                name = _SETTINGS_FIELDS.get(loc[:2], loc[0] if loc else "global_hourly_rate")
                errors.add(name, sentence(error))
        errors.raise_if_any()
        fields = (
            "global_hourly_rate",
            "project_rates",
            "currency",
            "number_format",
            "tax_rate",
            "invoice_prefix",
            "next_invoice_number",
            "payment_terms",
            "rounding",
            "company",
            "bank_details",
        )
        return {
            name: getattr(updated, name)
            for name in fields
            if getattr(updated, name) != getattr(current, name)
        }


@dataclass(frozen=True)
class NewInvoiceRequest:
    first: date
    last: date
    project_id: str | None = None
    client: str | None = None


class NewInvoiceModal(FormModal[NewInvoiceRequest]):
    TITLE = "New invoice from tracked time"
    SUBMIT = "Preview"

    def __init__(self, projects: list[Project], clients: list[str], today: date) -> None:
        super().__init__()
        self.projects = [p for p in projects if p.status != "archived"]
        self.clients = clients
        self.today = today

    def fields(self) -> Iterable[Widget]:
        options = [
            (f"Project {p.key} — {plain(p.name, 30)}", f"p:{p.project_id}") for p in self.projects
        ]
        options += [(f"Client {plain(c, 40)}", f"c:{c}") for c in self.clients]
        if not options:
            yield Static(
                "Create a project first (Projects: 2, then n): invoices bill a "
                "project's or a client's tracked time.",
                classes="field-error",
            )
            return
        yield from select_field("scope", "Bill", options, options[0][1])
        first = self.today.replace(day=1)
        yield from text_field(
            "first", "From", str(first), hint="YYYY-MM-DD, today, yesterday or -N days"
        )
        yield from text_field("last", "To (inclusive)", str(self.today))

    def build(self) -> NewInvoiceRequest:
        if not self.query("#f-scope"):
            raise FieldErrors({"form": "there is no project to bill yet"})
        errors = Errors()
        first = errors.check(
            "first", parse_day, self.value("first"), today=self.today, what="the start"
        )
        last = errors.check("last", parse_day, self.value("last"), today=self.today, what="the end")
        if first and last and last < first:
            errors.add("last", "the period ends before it starts")
        errors.raise_if_any()
        scope = str(self.value("scope"))
        assert first is not None and last is not None
        if scope.startswith("p:"):
            return NewInvoiceRequest(first, last, project_id=scope[2:])
        return NewInvoiceRequest(first, last, client=scope[2:])


class InvoicePreviewModal(ModalScreen[bool]):
    BINDINGS = bindings_for("preview")

    def __init__(self, draft: InvoiceDraft, number_format: str = "auto") -> None:
        super().__init__()
        self.draft = draft
        self.number_format = number_format

    def _money(self, amount: Decimal) -> str:
        return format_money(amount, self.draft.currency, self.number_format)

    def compose(self) -> ComposeResult:
        draft = self.draft
        with Vertical():
            yield Label(
                f"Invoice preview — {plain(draft.client or 'no client', 40)}",
                classes="section-title",
            )
            table: DataTable[str] = DataTable(cursor_type="none")
            table.add_columns("Description", "Hours", "Rate", "Amount")
            for line in draft.lines:
                table.add_row(
                    plain(line.description, 50),
                    str(line.hours),
                    self._money(line.rate),
                    self._money(line.amount),
                )
            yield table
            totals = draft.totals
            yield Static(
                f"Subtotal {self._money(totals.subtotal)} + tax {draft.tax_rate}% "
                f"{self._money(totals.tax)} = total {self._money(totals.total)}",
                markup=False,
            )
            if draft.skipped_running:
                yield Static(
                    "Still running, not billed: " + ", ".join(draft.skipped_running), markup=False
                )
            with Horizontal():
                yield Button("Create draft (y)", id="yes", variant="primary")
                yield Button("Cancel (n)", id="no")

    @on(Button.Pressed, "#yes")
    def _create_pressed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _cancel_pressed(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class InvoiceLinesModal(FormModal[list[tuple[str, Decimal, Decimal]]]):
    TITLE = "Edit draft lines: one per row, description | hours | rate"

    def __init__(self, invoice: Invoice) -> None:
        super().__init__()
        self.invoice = invoice
        self.heading = f"{invoice.invoice_number}: one line per row — description | hours | rate"

    def fields(self) -> Iterable[Widget]:
        text = "\n".join(
            f"{item.description} | {item.hours} | {item.rate}" for item in self.invoice.items
        )
        yield from area_field("lines", "Lines", text)
        yield Static(
            "Amounts, tax and totals are recomputed; a line must keep its three "
            "parts. Delete a row to drop a line.",
            classes="form-hint",
        )

    def build(self) -> list[tuple[str, Decimal, Decimal]]:
        lines: list[tuple[str, Decimal, Decimal]] = []
        for number, row in enumerate(str(self.value("lines")).splitlines(), start=1):
            if not row.strip():
                continue
            parts = [p.strip() for p in row.rsplit("|", 2)]
            if len(parts) != 3 or not parts[0]:
                raise FieldErrors({"lines": f"row {number}: write description | hours | rate"})
            try:
                hours, rate = Decimal(parts[1]), Decimal(parts[2])
            except InvalidOperation:
                raise FieldErrors(
                    {"lines": f"row {number}: hours and rate must be numbers"}
                ) from None
            if hours < 0 or rate < 0 or not (hours.is_finite() and rate.is_finite()):
                raise FieldErrors({"lines": f"row {number}: hours and rate cannot be negative"})
            if len(parts[0]) > 500:
                raise FieldErrors({"lines": f"row {number}: the description is too long"})
            lines.append((parts[0], hours, rate))
        if not lines:
            raise FieldErrors({"lines": "an invoice needs at least one line (cancel it instead)"})
        return lines
