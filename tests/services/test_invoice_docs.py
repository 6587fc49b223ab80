"""Invoice documents: PDF (text read back with pypdf), HTML, Markdown, CSV;
money formats per currency; long descriptions, many lines, any script."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from jtt_tui.domain.models import Client, Company, InvoiceLine
from jtt_tui.services.invoice_docs import (
    InvoiceDocument,
    format_money,
    to_csv,
    to_html,
    to_markdown,
    to_pdf,
)


@pytest.mark.parametrize(
    ("currency", "amount", "text"),
    [
        ("USD", "1234.5", "$1,234.50"),
        ("EUR", "1234.5", "1.234,50 €"),
        ("GBP", "0.5", "£0.50"),
        ("CAD", "99", "CA$99.00"),
        ("AUD", "1000000", "A$1,000,000.00"),
        ("JPY", "1234.5", "¥1,235"),
        ("USD", "-3", "-$3.00"),
        ("XYZ", "7", "7.00 XYZ"),
    ],
)
def test_money_formats(currency, amount, text):
    assert format_money(Decimal(amount), currency) == text


@pytest.mark.parametrize(
    ("style", "currency", "text"),
    [
        ("1,234.50", "EUR", "1,234.50 €"),
        ("1.234,50", "USD", "$1.234,50"),
        ("1 234,50", "EUR", "1\u00a0234,50 €"),
        ("1 234,50", "JPY", "¥1\u00a0235"),
        ("1.234,50", "XYZ", "1.234,50 XYZ"),
        ("auto", "EUR", "1.234,50 €"),
    ],
)
def test_one_number_format_for_every_currency(style, currency, text):
    assert format_money(Decimal("1234.5"), currency, style) == text


def test_the_number_format_reaches_the_documents():
    from dataclasses import replace

    doc = replace(_doc(2, currency="USD"), number_format="1.234,50")
    assert "$200,00" in to_html(doc) and "$200,00" in to_markdown(doc)
    assert "$200,00" in _pdf_text(to_pdf(doc))[1]


def _doc(lines: int = 3, currency: str = "EUR") -> InvoiceDocument:
    items = [
        InvoiceLine(
            description=f"WEB-{n} — Überschrift Ωmega Ёлка"
            + (" with a very long description that has to wrap over several lines" * 2
               if n % 10 == 0 else ""),
            ticket_number=f"WEB-{n}",
            hours=Decimal("1.25"),
            rate=Decimal("80"),
            amount=Decimal("100.00"),
        )
        for n in range(1, lines + 1)
    ]  # fmt: skip
    subtotal = Decimal(100 * lines).quantize(Decimal("0.01"))
    tax = (subtotal * Decimal("0.19")).quantize(Decimal("0.01"))
    return InvoiceDocument(
        number="INV-1001",
        status="sent",
        issue_date=date(2025, 3, 1),
        due_date=date(2025, 3, 31),
        paid_date=None,
        currency=currency,
        company=Company(name="Zoë's Café", address="Straße 1\n10115 Berlin", tax_id="DE123"),
        client=Client(name="Ωmega Ltd", address="1 Road\nLondon", email="a@b.example"),
        lines=items,
        subtotal=subtotal,
        tax_rate=Decimal(19),
        tax=tax,
        total=subtotal + tax,
        payment_terms="Net 30",
        bank_details="IBAN DE00 1234 5678",
        notes="Thank you — merci",
    )


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_has_every_block_line_and_the_total():
    doc = _doc(3)
    pages, text = _pdf_text(to_pdf(doc))
    assert pages == 1
    for expected in ("Invoice INV-1001", "Zoë's Café", "Ωmega Ltd", "Due date", "2025-03-31",
                     "Net 30", "IBAN DE00 1234 5678", "Thank you — merci", "Tax id: DE123",
                     "357,00 €", "Subtotal", "300,00 €"):  # fmt: skip
        assert expected in text, expected
    for n in (1, 2, 3):
        assert f"WEB-{n} — Überschrift Ωmega Ёлка" in text


def test_pdf_breaks_pages_and_repeats_the_table_header():
    doc = _doc(120)
    data = to_pdf(doc)
    pages, text = _pdf_text(data)
    assert pages >= 3
    with_lines = [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    with_lines = [page for page in with_lines if "WEB-" in page]
    assert len(with_lines) >= 3
    assert all("Description" in page for page in with_lines)  # the header on every page
    for n in range(1, 121):
        assert f"WEB-{n} " in text
    assert format_money(doc.total, "EUR") in text
    assert "has to wrap" in text


def test_html_markdown_and_csv_carry_the_same_content():
    doc = _doc(2, currency="USD")
    page = to_html(doc)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "http" not in page
    markdown = to_markdown(doc)
    for text in (page, markdown):
        name = "Zoë&#x27;s Café" if text is page else "Zoë's Café"
        for expected in ("INV-1001", name, "WEB-2", "$238.00", "$200.00", "IBAN DE00 1234"):
            assert expected in text, expected
    rows = list(csv.DictReader(io.StringIO(to_csv(doc))))
    assert [r["ticket"] for r in rows] == ["WEB-1", "WEB-2"]
    assert sum(Decimal(r["amount"]) for r in rows) == doc.subtotal


def test_text_is_escaped_where_it_could_break_the_document():
    doc = _doc(1)
    hostile = doc.lines[0].model_copy(update={"description": "=HYPERLINK(1) | <script>x</script>"})
    doc = InvoiceDocument(**{**doc.__dict__, "lines": [hostile]})
    assert "<script>" not in to_html(doc)
    assert "\\|" in to_markdown(doc)
    assert list(csv.reader(io.StringIO(to_csv(doc))))[1][1].startswith("'=")


# -- what the client's copy says (#14) --------------------------------------------------


def _client_copies(doc: InvoiceDocument) -> dict[str, str]:
    return {"pdf": _pdf_text(to_pdf(doc))[1], "html": to_html(doc), "md": to_markdown(doc)}


def test_the_client_copy_shows_the_service_period_not_the_internal_status():
    doc = InvoiceDocument(
        **{
            **_doc(1).__dict__,
            "status": "draft",
            "service_period": (date(2025, 2, 3), date(2025, 2, 28)),
        }
    )
    for fmt, text in _client_copies(doc).items():
        assert "Status" not in text and "draft" not in text, fmt
        assert "Service period" in text and "2025-02-03 – 2025-02-28" in text, fmt


def test_tracked_hours_are_shown_when_asked_where_rounding_changed_them():
    line = _doc(1).lines[0].model_copy(update={"tracked_hours": Decimal("1.12")})
    plain = InvoiceDocument(**{**_doc(1).__dict__, "lines": [line]})
    shown = InvoiceDocument(**{**plain.__dict__, "show_tracked": True})
    for fmt, text in _client_copies(plain).items():
        assert "tracked" not in text, fmt
    for fmt, text in _client_copies(shown).items():
        assert "1.25" in text and "tracked 1.12" in text.replace("\n", " "), fmt


def test_characters_the_font_lacks_are_replaced_visibly_without_warnings(capfd, caplog):
    line = _doc(1).lines[0].model_copy(update={"description": "Launch 🚀 done 👍🏽 ✓"})
    doc = InvoiceDocument(**{**_doc(1).__dict__, "lines": [line]})
    _pages, text = _pdf_text(to_pdf(doc))
    assert "Launch ? done ?? ✓" in text  # never silently dropped; ✓ is in the font
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
