"""The Billing section: invoices (filtered by status, client or project;
created from tracked time; lines editable while draft; sent / paid /
cancelled) and the billing settings form."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Input, Label, Static

from jtt_tui.domain.models import BillingSettings, InvoiceStatus
from jtt_tui.domain.money import format_money
from jtt_tui.services.billing import InvoiceView
from jtt_tui.ui.commands import bindings_for
from jtt_tui.ui.modals.billing_forms import (
    BillingSettingsForm,
    InvoiceLinesModal,
    NewInvoiceModal,
    NewInvoiceRequest,
)
from jtt_tui.ui.modals.forms import FieldErrors
from jtt_tui.ui.palette import Tone, tone
from jtt_tui.ui.screens.base import JttScreen
from jtt_tui.ui.text import plain
from jtt_tui.ui.widgets.key_bar import KeyBar
from jtt_tui.ui.widgets.status_line import StatusLine
from jtt_tui.ui.widgets.tables import selected_key

FILTERS: tuple[str | None, ...] = (None, "draft", "sent", "overdue", "paid", "cancelled")
STATUS_TONE: dict[str, Tone] = {
    "sent": "info",
    "overdue": "bad",
    "paid": "good",
    "cancelled": "muted",
}


class BillingScreen(JttScreen):
    SCOPE = "billing"
    BINDINGS = bindings_for("billing")

    def __init__(self) -> None:
        super().__init__()
        self._status_filter: str | None = None
        self._text_filter = ""
        self._views: dict[str, InvoiceView] = {}
        self._stale: dict[str, list[str]] = {}  # draft id -> why its lines are out of date
        self._settings: BillingSettings | None = None

    def compose(self) -> ComposeResult:
        yield StatusLine()
        with ContentSwitcher(initial="invoices-pane", id="billing-switcher"):
            with Vertical(id="invoices-pane"):
                with Horizontal(id="invoice-bar"):
                    yield Label("Invoices", classes="section-title", id="invoices-title")
                    yield Input(placeholder="client or project filter (Enter)", id="invoice-filter")
                yield DataTable(id="invoices", cursor_type="row", zebra_stripes=True)
                yield Static(id="invoice-detail", markup=False)
            with VerticalScroll(id="settings-pane"):
                yield Label(
                    "Billing settings (^s saves, Esc goes back to the invoices)",
                    classes="section-title",
                )
                yield BillingSettingsForm(id="settings-form")
        yield KeyBar()

    # what acts on the invoice list: nothing while the settings form hides it
    _LIST_ACTIONS = frozenset(
        {"new_invoice", "edit_invoice", "mark", "refresh_lines", "export_invoice", "cycle_filter"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys act only on what is visible (the others leave the footer too)."""
        if action == "leave_settings":
            return self._settings_showing()
        return not (action in self._LIST_ACTIONS and self._settings_showing())

    def action_leave_settings(self) -> None:
        if self._settings_showing():
            self.action_toggle_settings()

    def _settings_showing(self) -> bool:
        return self.query_one("#billing-switcher", ContentSwitcher).current == "settings-pane"

    def on_mount(self) -> None:
        self.query_one("#settings-pane").disabled = True  # hidden: no focus, no keys
        table = self.query_one("#invoices", DataTable)
        for key, label in (
            ("number", "Number"),
            ("client", "Client"),
            ("issued", "Issued"),
            ("due", "Due"),
            ("status", "Status"),
            ("total", "Total"),
        ):
            table.add_column(label, key=key)
        table.focus()

    # -- data ------------------------------------------------------------------------

    def refresh_data(self) -> None:
        billing = self.jtt.services.billing
        status, text = self._status_filter, self._text_filter.casefold()
        projects = self.jtt.services.storage

        def load() -> tuple[list[InvoiceView], BillingSettings, dict[str, list[str]]]:
            keys = {p.project_id: p.key for p in projects.get_projects()}
            views = billing.invoices(status=status)
            if text:
                views = [
                    v
                    for v in views
                    if text in (v.invoice.client_id or "").casefold()
                    or text in keys.get(v.invoice.project_id or "", "").casefold()
                ]
            stale = {
                v.invoice.invoice_id: reasons
                for v in views
                if (reasons := billing.out_of_date(v.invoice))
            }
            return views, billing.settings(), stale

        self.background(load, self._show, group="billing-load")

    def _show(self, data: tuple[list[InvoiceView], BillingSettings, dict[str, list[str]]]) -> None:
        views, settings, self._stale = data
        self._views = {v.invoice.invoice_id: v for v in views}
        if self._settings is None or self._settings.version != settings.version:
            self._settings = settings
            self.query_one(BillingSettingsForm).load(settings)
        table = self.query_one("#invoices", DataTable)
        selected = self._selected_id()
        table.clear()
        for view in views:
            invoice = view.invoice
            status = str(view.status)
            table.add_row(
                Text(invoice.invoice_number, style="bold"),
                Text(plain(invoice.client_id or "–", 24)),
                Text(str(invoice.issue_date)),
                Text(str(invoice.due_date or "–")),
                Text(
                    status + (" ⚠" if invoice.invoice_id in self._stale else ""),
                    style=tone(self.app, STATUS_TONE[status], bold=status == "overdue")
                    if status in STATUS_TONE
                    else "",
                ),
                Text(self._money(invoice.total, invoice.currency), justify="right"),
                key=invoice.invoice_id,
            )
        if selected in self._views:
            table.move_cursor(row=table.get_row_index(selected))
        label = f"Invoices — {self._status_filter or 'all'}"
        if self._text_filter:
            label += f", matching {self._text_filter!r}"
        self.query_one("#invoices-title", Label).update(label + f" ({len(views)})")
        self._show_detail()

    def _money(self, amount: Decimal, currency: str) -> str:
        """An amount as everywhere else (the billing settings' number format)."""
        style = self._settings.number_format if self._settings is not None else "auto"
        return format_money(amount, currency, style)

    def _selected_id(self) -> str | None:
        return selected_key(self.query_one("#invoices", DataTable))

    def selected(self) -> InvoiceView | None:
        invoice_id = self._selected_id()
        return self._views.get(invoice_id) if invoice_id else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        view = self.selected()
        detail = self.query_one("#invoice-detail", Static)
        if view is None:
            detail.update(
                "No invoices yet: press n to bill tracked time." if not self._views else ""
            )
            return
        invoice = view.invoice
        # the description takes what the numbers leave of the width
        width = max(self.size.width - 32, 12)
        money = partial(self._money, currency=invoice.currency)
        lines = [
            f"{plain(item.description, width):{width}} {item.hours:>6}h × {money(item.rate)} = "
            f"{money(item.amount):>10}"
            for item in invoice.items[:6]
        ]
        if len(invoice.items) > 6:
            lines.append(f"… and {len(invoice.items) - 6} more lines")
        lines.append(
            f"subtotal {money(invoice.subtotal)} + tax {invoice.tax_rate}% "
            f"{money(invoice.tax_amount)} = total {money(invoice.total)}"
            + (f" · paid {invoice.paid_date}" if invoice.paid_date else "")
        )
        stale = self._stale.get(invoice.invoice_id)
        if stale:
            lines.append(
                f"⚠ Out of date: lines no longer match tracked time ({plain(stale[0], 80)}"
                + (f" and {len(stale) - 1} more" if len(stale) > 1 else "")
                + "); u rebuilds them"
            )
        detail.update("\n".join(lines))

    # -- invoices ----------------------------------------------------------------------

    def action_cycle_filter(self) -> None:
        index = FILTERS.index(self._status_filter)
        self._status_filter = FILTERS[(index + 1) % len(FILTERS)]
        self.refresh_data()

    @on(Input.Submitted, "#invoice-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._text_filter = event.value.strip()
        self.query_one("#invoices", DataTable).focus()
        self.refresh_data()

    def action_new_invoice(self) -> None:
        billing, storage = self.jtt.services.billing, self.jtt.services.storage

        def open_form(data: tuple[list[Any], list[str]]) -> None:
            projects, clients = data
            self.app.push_screen(NewInvoiceModal(projects, clients, billing.today()), self._preview)

        self.background(
            lambda: (storage.get_projects(), billing.clients()), open_form, group="billing-form"
        )

    def _preview(self, request: NewInvoiceRequest | None) -> None:
        if request is None:
            return
        billing = self.jtt.services.billing
        from jtt_tui.ui.modals.billing_forms import InvoicePreviewModal

        def confirm(draft: Any) -> None:
            if draft.empty:
                self.notify(
                    f"Nothing to bill from {request.first} to {request.last}: no "
                    "unbilled, finished time.",
                    severity="warning",
                )
                return

            def create(yes: bool | None) -> None:
                if yes:
                    self.background(
                        lambda: billing.create(
                            first=request.first,
                            last=request.last,
                            project_id=request.project_id,
                            client=request.client,
                        ),
                        lambda invoice: self.changed(
                            f"Created draft {invoice.invoice_number}: "
                            + self._money(invoice.total, invoice.currency)
                        ),
                    )

            style = self._settings.number_format if self._settings is not None else "auto"
            self.app.push_screen(InvoicePreviewModal(draft, style), create)

        self.background(
            lambda: billing.preview(
                first=request.first,
                last=request.last,
                project_id=request.project_id,
                client=request.client,
            ),
            confirm,
        )

    def action_edit_invoice(self) -> None:
        view = self.selected()
        if view is None:
            self.notify("Select an invoice first.")
            return
        if view.invoice.status != InvoiceStatus.DRAFT:
            self.notify(
                f"{view.invoice.invoice_number} is {view.status}; only drafts can be edited.",
                severity="warning",
            )
            return
        billing = self.jtt.services.billing
        invoice = view.invoice

        def saved(stored: Any) -> None:
            if stored is not None:
                total = self._money(stored.total, stored.currency)
                self.changed(f"Saved {stored.invoice_number}: {total}")

        modal = InvoiceLinesModal(invoice).saving(
            lambda lines: billing.update_lines(invoice.invoice_id, lines)
        )
        self.app.push_screen(modal, saved)

    def action_refresh_lines(self) -> None:
        view = self.selected()
        if view is None:
            self.notify("Select an invoice first.")
            return
        invoice = view.invoice
        if invoice.status != InvoiceStatus.DRAFT:
            self.notify(
                f"{invoice.invoice_number} is {view.status}: only a draft's lines follow its time.",
                severity="warning",
            )
            return
        billing = self.jtt.services.billing
        self.background(
            lambda: billing.refresh(invoice.invoice_id),
            lambda saved: self.changed(
                f"Rebuilt {saved.invoice_number} from its time: "
                + self._money(saved.total, saved.currency)
            ),
        )

    def action_mark(self, status: str) -> None:
        view = self.selected()
        if view is None:
            self.notify("Select an invoice first.")
            return
        billing = self.jtt.services.billing
        invoice = view.invoice

        def apply() -> None:
            self.background(
                lambda: billing.set_status(invoice.invoice_id, status),
                lambda saved: self.changed(f"{saved.invoice_number} is {status}"),
            )

        if status == "cancelled":
            from jtt_tui.ui.modals.confirm import ConfirmModal

            question = f"Cancel {invoice.invoice_number}? Its time becomes billable again."
            self.app.push_screen(
                ConfirmModal(question, danger=True, yes="Cancel invoice"),
                lambda yes: apply() if yes else None,
            )
        else:
            apply()

    def action_export_invoice(self) -> None:
        from jtt_tui.services.invoice_docs import FORMATS, default_name, export_invoice
        from jtt_tui.ui.modals.path_prompt import PathPrompt

        view = self.selected()
        if view is None:
            self.notify("Select an invoice first.")
            return
        invoice = view.invoice
        storage, today = self.jtt.services.storage, self.jtt.services.billing.today()
        default = Path.home() / default_name(invoice, "pdf")

        def write(path: Path | None) -> None:
            if path is None:
                return
            fmt = path.suffix.lower().lstrip(".")
            self.background(
                lambda: export_invoice(storage, invoice, fmt, path, today),  # type: ignore[arg-type]
                lambda written: self.notify(
                    f"Wrote {invoice.invoice_number} to {written}", title="Exported", timeout=8
                ),
                group="invoice-export",
            )

        prompt = PathPrompt(
            f"Export {invoice.invoice_number} (.pdf, .html, .md or .csv)",
            str(default),
            suffixes=tuple(f".{fmt}" for fmt in FORMATS),
        )
        self.app.push_screen(prompt, write)

    def action_reports(self) -> None:
        from jtt_tui.ui.screens.reports import ReportsScreen

        self.app.push_screen(ReportsScreen())

    # -- settings ----------------------------------------------------------------------

    def action_toggle_settings(self) -> None:
        switcher = self.query_one("#billing-switcher", ContentSwitcher)
        showing_settings = switcher.current == "settings-pane"
        switcher.current = "invoices-pane" if showing_settings else "settings-pane"
        # the hidden pane takes no focus (Tab and shift+Tab skip disabled widgets)
        self.query_one("#invoices-pane").disabled = not showing_settings
        self.query_one("#settings-pane").disabled = showing_settings
        if showing_settings:
            # leaving drops what was typed and not saved: the form shows the
            # saved settings next time, not rejected values
            form = self.query_one(BillingSettingsForm)
            form.show_errors({})
            if self._settings is not None:
                form.load(self._settings)
            self.query_one("#invoices", DataTable).focus()
        else:
            self.query_one(BillingSettingsForm).focus_first()
        self.refresh_bindings()

    def action_save_settings(self) -> None:
        form = self.query_one(BillingSettingsForm)
        try:
            changes = form.changes()
        except FieldErrors as exc:
            form.show_errors(exc.errors)
            self.notify("Not saved: see the fields marked ✗", severity="error")
            return
        form.show_errors({})
        if not changes:
            self.notify("Nothing changed.")
            return
        billing = self.jtt.services.billing
        self.background(
            lambda: billing.update_settings(**changes),
            lambda _: self.changed("Billing settings saved"),
        )
