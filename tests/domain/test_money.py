"""Money math: Decimal end to end, half-up rounding, totals that add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jtt_tui.domain import money

rates = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
hours = st.decimals(min_value=0, max_value=500, places=4, allow_nan=False, allow_infinity=False)
tax_rates = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)
currencies = st.sampled_from(["USD", "EUR", "GBP", "JPY", "KWD", "CAD", "AUD"])


@given(st.lists(st.tuples(hours, rates), max_size=40), tax_rates, currencies)
def test_total_is_exactly_the_sum_of_the_lines_plus_tax(lines, tax_rate, currency):
    amounts = [money.line_amount(h, r, currency) for h, r in lines]
    totals = money.invoice_totals(amounts, tax_rate, currency)
    assert totals.subtotal == sum(amounts, Decimal(0))
    assert totals.total == totals.subtotal + totals.tax
    assert totals.tax == money.tax_amount(totals.subtotal, tax_rate, currency)
    places = money.minor_unit(currency)
    for value in (*amounts, totals.subtotal, totals.tax, totals.total):
        assert isinstance(value, Decimal)
        assert -value.as_tuple().exponent == places  # exactly the minor unit


@given(hours, rates, currencies)
def test_a_line_is_rounded_once_half_up(h, r, currency):
    amount = money.line_amount(h, r, currency)
    exact = h * r
    step = Decimal(1).scaleb(-money.minor_unit(currency))
    assert abs(amount - exact) <= step / 2


@pytest.mark.parametrize(
    ("h", "rate", "currency", "expected"),
    [
        ("1", "0.125", "USD", "0.13"),  # half-up, not banker's rounding
        ("1", "0.135", "USD", "0.14"),
        ("1", "0.115", "USD", "0.12"),
        ("2.5", "1", "JPY", "3"),
        ("1", "1.0005", "KWD", "1.001"),
        ("0.3333", "60", "EUR", "20.00"),
    ],
)
def test_half_up_examples(h, rate, currency, expected):
    assert money.line_amount(Decimal(h), Decimal(rate), currency) == Decimal(expected)
    assert str(money.line_amount(Decimal(h), Decimal(rate), currency)) == expected


def test_tax_is_computed_once_on_the_subtotal():
    # three lines of 0.05 at 10%: per-line tax would round each 0.005 up to 0.01 (0.03);
    # once on the subtotal 0.15 it is 0.015 -> 0.02
    totals = money.invoice_totals([Decimal("0.05")] * 3, Decimal(10), "USD")
    assert totals == money.Totals(Decimal("0.15"), Decimal("0.02"), Decimal("0.17"))


@pytest.mark.parametrize(
    "call",
    [
        lambda: money.line_amount(1.5, Decimal(1), "USD"),
        lambda: money.line_amount(Decimal(1), 0.1, "USD"),
        lambda: money.tax_amount(Decimal(1), 10.0, "USD"),
        lambda: money.invoice_totals([0.1], Decimal(0), "USD"),
        lambda: money.quantize_money(0.1, "USD"),
        lambda: money.resolve_rate(global_rate=50.0),
        lambda: money.resolve_rate(global_rate=Decimal(1), task_rate=1.5),
        lambda: money.hours_from_seconds(1.5),
    ],
)
def test_floats_never_enter(call):
    with pytest.raises(TypeError, match=r"float|int"):
        call()


def test_rate_precedence():
    g, b, p, t = (Decimal(v) for v in ("50", "60", "70", "80"))
    assert money.resolve_rate(global_rate=g) == g
    assert money.resolve_rate(global_rate=g, billing_project_rate=b) == b
    assert money.resolve_rate(global_rate=g, billing_project_rate=b, project_rate=p) == p
    assert (
        money.resolve_rate(global_rate=g, billing_project_rate=b, project_rate=p, task_rate=t) == t
    )
    # zero is a real rate (pro bono), only None falls through
    assert money.resolve_rate(global_rate=g, project_rate=Decimal(0)) == Decimal(0)


def test_hours_from_seconds_is_exact():
    assert money.hours_from_seconds(5400) == Decimal("1.5")
    third = money.hours_from_seconds(1200)
    assert money.line_amount(third, Decimal(60), "USD") == Decimal("20.00")


def test_minor_units():
    assert money.minor_unit("usd") == 2
    assert money.minor_unit("JPY") == 0
    assert money.minor_unit("KWD") == 3
