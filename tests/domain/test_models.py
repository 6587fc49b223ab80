"""Validation at the edge of the domain models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from jtt_tui.domain import (
    BillingSettings,
    DataBundle,
    Invoice,
    InvoiceLine,
    ManualTask,
    Project,
    Segment,
    Session,
    SessionStatus,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("WEB-1", "WEB-1"), ("  web-42 ", "WEB-42"), ("A1_B-7", "A1_B-7"), ("ops-003", "OPS-003")],
)
def test_ticket_numbers_are_trimmed_and_upper_cased(raw, expected):
    assert Session(ticket_number=raw).ticket_number == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "WEB",
        "W-1",
        "1WEB-2",
        "WEB-",
        "WEB-1a",
        "WEB 1",
        "WEB--1",
        "WEB-1-2",
        "$where-1",
        "WEB-" + "9" * 80,
    ],
)
def test_bad_ticket_numbers_are_refused_with_an_example(raw):
    with pytest.raises(ValidationError, match=r"e\.g\. WEB-123"):
        Session(ticket_number=raw)


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError, match="Extra inputs"):
        Session(ticket_number="WEB-1", colour="red")


def test_camel_case_aliases_are_accepted():
    session = Session.model_validate(
        {
            "ticketNumber": "web-1",
            "ticketName": "Login",
            "segments": [{"startTime": "2025-01-06T09:00:00Z", "endTime": "2025-01-06T10:00:00Z"}],
        }
    )
    assert session.ticket_name == "Login"
    assert session.elapsed(T0) == timedelta(hours=1)


def test_naive_datetimes_are_refused_and_others_become_utc_milliseconds():
    with pytest.raises(ValidationError, match="timezone"):
        Segment(start=datetime(2025, 1, 1, 9, 0))
    plus_two = timezone(timedelta(hours=2))
    seg = Segment(start=datetime(2025, 1, 1, 11, 0, 0, 123456, tzinfo=plus_two))
    assert seg.start == datetime(2025, 1, 1, 9, 0, 0, 123000, tzinfo=UTC)
    assert seg.start.tzinfo == UTC


def test_string_lengths_are_bounded():
    with pytest.raises(ValidationError):
        Session(ticket_number="WEB-1", ticket_name="x" * 201)
    with pytest.raises(ValidationError):
        Session(ticket_number="WEB-1", notes="x" * 10_001)
    Session(ticket_number="WEB-1", ticket_name="x" * 200, notes="x" * 10_000)


class TestSegmentsInvariants:
    def test_end_before_start(self):
        with pytest.raises(ValidationError, match="before it starts"):
            Segment(start=T0, end=T0 - timedelta(seconds=1))

    def test_overlapping_segments(self):
        with pytest.raises(ValidationError, match="overlap"):
            Session(
                ticket_number="WEB-1",
                segments=[
                    Segment(start=T0, end=T0 + timedelta(hours=1)),
                    Segment(start=T0 + timedelta(minutes=30), end=T0 + timedelta(hours=2)),
                ],
            )

    def test_open_segment_must_be_last_and_match_status(self):
        with pytest.raises(ValidationError, match="only the last"):
            Session(
                ticket_number="WEB-1",
                status="running",
                segments=[
                    Segment(start=T0),
                    Segment(start=T0 + timedelta(hours=1)),
                ],
            )
        with pytest.raises(ValidationError, match="still open"):
            Session(ticket_number="WEB-1", status="paused", segments=[Segment(start=T0)])
        with pytest.raises(ValidationError, match="no segment is open"):
            Session(ticket_number="WEB-1", status="running")

    def test_durations_come_from_timestamps(self):
        session = Session(
            ticket_number="WEB-1",
            status=SessionStatus.RUNNING,
            segments=[
                Segment(start=T0, end=T0 + timedelta(minutes=30)),
                Segment(start=T0 + timedelta(hours=1)),
            ],
        )
        now = T0 + timedelta(hours=3)
        assert session.elapsed(now) == timedelta(hours=2, minutes=30)
        assert session.closed_duration() == timedelta(minutes=30)
        window = session.elapsed_between(T0 + timedelta(minutes=15), T0 + timedelta(hours=2), now)
        assert window == timedelta(minutes=15 + 60)
        assert session.project_key == "WEB"


class TestMoneyFields:
    def test_json_numbers_become_exact_decimals(self):
        project = Project.model_validate_json('{"key": "WEB", "name": "W", "hourly_rate": 72.1}')
        assert project.hourly_rate == Decimal("72.1")
        assert project.model_dump_json().count('"72.1"') == 1  # serialised as a string

    @pytest.mark.parametrize("bad", ["-1", "abc", "NaN", "Infinity", True, "1.0000001"])
    def test_bad_amounts_are_refused(self, bad):
        with pytest.raises(ValidationError):
            Project(key="WEB", name="W", hourly_rate=bad)

    def test_billing_settings_normalise_keys_and_currency(self):
        settings = BillingSettings(project_rates={" web ": "60"}, currency=" eur ")
        assert settings.project_rates == {"WEB": Decimal(60)}
        assert settings.currency == "EUR"
        with pytest.raises(ValidationError):
            BillingSettings(project_rates={"no spaces allowed": "1"})
        with pytest.raises(ValidationError):
            BillingSettings(tax_rate="100.5")

    def test_invoice_numbers(self):
        assert BillingSettings(invoice_prefix="ACME").format_invoice_number(7) == "ACME-7"
        assert BillingSettings(invoice_prefix="").format_invoice_number(7) == "7"


class TestInvoiceTotals:
    def _line(self, amount: str) -> InvoiceLine:
        return InvoiceLine(
            description="x", hours=Decimal(1), rate=Decimal(amount), amount=Decimal(amount)
        )

    def test_consistent_invoice(self):
        invoice = Invoice(
            invoice_number="INV-1",
            issue_date="2025-01-01",
            tax_rate="10",
            items=[self._line("10.05"), self._line("0.10")],
            subtotal="10.15",
            tax_amount="1.02",
            total="11.17",
        )
        assert invoice.total == Decimal("11.17")

    @pytest.mark.parametrize(
        ("subtotal", "tax", "total"),
        [
            ("10.15", "1.01", "11.16"),
            ("10.14", "1.01", "11.15"),
            ("10.15", "1.02", "11.18"),
        ],
    )
    def test_totals_that_do_not_add_up_are_refused(self, subtotal, tax, total):
        with pytest.raises(ValidationError, match="do not add up"):
            Invoice(
                invoice_number="INV-1",
                issue_date="2025-01-01",
                tax_rate="10",
                items=[self._line("10.05"), self._line("0.10")],
                subtotal=subtotal,
                tax_amount=tax,
                total=total,
            )

    def test_due_before_issue_is_refused(self):
        with pytest.raises(ValidationError, match="due date"):
            Invoice(invoice_number="INV-1", issue_date="2025-01-02", due_date="2025-01-01")


def test_manual_task_duration_must_not_be_negative():
    with pytest.raises(ValidationError, match="negative"):
        ManualTask(title="x", date="2025-01-01", duration=-60)
    assert ManualTask(title="x", date="2025-01-01", duration="PT1H30M").duration == timedelta(
        minutes=90
    )


def test_project_dates_in_order():
    with pytest.raises(ValidationError, match="before the start"):
        Project(key="WEB", name="W", start_date="2025-02-01", end_date="2025-01-01")


def test_bundle_format_version_is_checked():
    assert DataBundle().format_version == 1
    with pytest.raises(ValidationError):
        DataBundle.model_validate({"format_version": 99})
