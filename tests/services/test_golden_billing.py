"""Golden: the fixed data set of the UI tests gives exactly these invoices,
CSV and report table."""

from __future__ import annotations

from datetime import UTC, date

from jtt_tui.domain import FixedClock
from jtt_tui.services.billing import BillingService
from jtt_tui.services.invoice_docs import build_document, to_csv
from jtt_tui.services.reports import time_report
from jtt_tui.storage import SQLiteStore
from tests.ui.conftest import NOW, seed


def _lines(invoice) -> list[tuple[str, str, str, str]]:
    return [(i.description, str(i.hours), str(i.rate), str(i.amount)) for i in invoice.items]


def test_golden_invoices_csv_and_report(tmp_path):
    store = SQLiteStore(tmp_path / "jtt.db", user_id="tester", clock=FixedClock(NOW))
    store.connect()
    seed(store)  # creates INV-1001 for Globex
    billing = BillingService(store, tz=UTC)
    (globex,) = store.get_invoices()
    assert (globex.invoice_number, globex.client_id) == ("INV-1001", "Globex")
    assert _lines(globex) == [("API-7 — Rate limits (tracked time)", "2.00", "50", "100.00")]
    assert (str(globex.subtotal), str(globex.tax_amount), str(globex.total)) == (
        "100.00",
        "10.00",
        "110.00",
    )
    web = next(p for p in store.get_projects() if p.key == "WEB")
    acme = billing.create(first=date(2025, 3, 1), last=date(2025, 3, 12), project_id=web.project_id)
    assert acme.invoice_number == "INV-1002" and acme.due_date == date(2025, 3, 27)
    # the running WEB-1 segment is not billed; the finished one and the call are
    assert _lines(acme) == [
        ("WEB-1 — Login page (tracked time)", "1.50", "60", "90.00"),
        ("WEB-2 — Header (tracked time)", "0.75", "60", "45.00"),
        ("Client call (manual entry)", "0.50", "60", "30.00"),
    ]
    assert (str(acme.subtotal), str(acme.tax_amount), str(acme.total)) == (
        "165.00",
        "16.50",
        "181.50",
    )
    assert billing.preview(first=date(2025, 2, 1), last=date(2025, 3, 12), client="Acme").empty
    assert to_csv(build_document(store, acme, date(2025, 3, 12))).splitlines() == [
        "invoice,description,ticket,hours,tracked_hours,rate,amount,currency",
        "INV-1002,WEB-1 — Login page (tracked time),WEB-1,1.50,,60,90.00,USD",
        "INV-1002,WEB-2 — Header (tracked time),WEB-2,0.75,,60,45.00,USD",
        "INV-1002,Client call (manual entry),,0.50,,60,30.00,USD",
    ]
    report = time_report(store, date(2025, 3, 10), date(2025, 3, 12), by="project", tz=UTC)
    assert [(r.label, str(r.hours), str(r.billable_hours), r.amounts) for r in report.rows] == [
        ("API", "2.00", "2.00", {"USD": 100}),
        ("WEB", "8.75", "8.75", {"USD": 525}),
    ]
    store.disconnect()
