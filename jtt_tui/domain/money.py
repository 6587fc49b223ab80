"""Money math: Decimal only, rounded half-up to the currency's minor unit.

Each line amount is rounded once; tax is computed once on the subtotal and
rounded once; the total is exactly subtotal + tax. Floats are refused so no
binary fraction ever reaches an invoice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

# ISO 4217 currencies whose minor unit is not 2 digits; the rest use 2.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

_SECONDS_PER_HOUR = Decimal(3600)
_HUNDRED = Decimal(100)
# Enough digits that no intermediate product is ever rounded before we say so.
_PRECISION = 50


def _require_decimal(**values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, Decimal):
            raise TypeError(
                f"{name} must be a Decimal, not {type(value).__name__} (money never uses float)"
            )


# how amounts are written: "auto" (the currency's custom) or one style for all
NumberFormat = Literal["auto", "1,234.50", "1.234,50", "1 234,50"]
NUMBER_FORMATS: tuple[NumberFormat, ...] = ("auto", "1,234.50", "1.234,50", "1 234,50")
# the separators of each fixed style: (decimal mark, thousands separator); the
# space is a no-break one, so an amount never wraps in a table or a PDF
_SEPARATORS = {"1,234.50": (".", ","), "1.234,50": (",", "."), "1 234,50": (",", "\u00a0")}

# symbol, before the amount?, decimal mark, thousands separator
_STYLES: dict[str, tuple[str, bool, str, str]] = {
    "USD": ("$", True, ".", ","),
    "CAD": ("CA$", True, ".", ","),
    "AUD": ("A$", True, ".", ","),
    "NZD": ("NZ$", True, ".", ","),
    "GBP": ("£", True, ".", ","),
    "JPY": ("¥", True, ".", ","),
    "INR": ("₹", True, ".", ","),
    "EUR": ("€", False, ",", "."),
    "CHF": ("CHF", True, ".", "'"),
    "SEK": ("kr", False, ",", " "),
    "NOK": ("kr", False, ",", " "),
    "DKK": ("kr.", False, ",", "."),
    "PLN": ("zł", False, ",", " "),
}


def format_money(amount: Decimal, currency: str, number_format: str = "auto") -> str:
    """The one way jtt writes an amount, in lists, reports, the CLI and on
    invoices: ``$1,234.50``, ``£12.00``, ``CA$3.10``, ``1.234,50 €``,
    ``¥1,235``; a currency without a known style: ``1,234.50 XYZ``. A fixed
    ``number_format`` sets the separators for every currency (the symbol
    keeps its place)."""
    code = currency.upper()
    value = quantize_money(amount, code)
    sign = "-" if value < 0 else ""
    digits = minor_unit(code)
    text = f"{abs(value):,.{digits}f}"
    symbol, before, point, group = _STYLES.get(code, (code, False, ".", ","))
    if number_format in _SEPARATORS:
        point, group = _SEPARATORS[number_format]
    text = text.replace(",", "\x00").replace(".", point).replace("\x00", group)
    if before:
        joiner = " " if symbol.isalpha() else ""
        return f"{sign}{symbol}{joiner}{text}"
    return f"{sign}{text} {symbol}"


def minor_unit(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (USD 2, JPY 0, KWD 3)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def quantize_money(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit."""
    _require_decimal(amount=amount)
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    with localcontext(prec=_PRECISION):
        return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def hours_from_seconds(seconds: int) -> Decimal:
    """Exact hours for a whole number of seconds (may have many digits)."""
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise TypeError("seconds must be an int")
    with localcontext(prec=_PRECISION):
        return Decimal(seconds) / _SECONDS_PER_HOUR


def line_amount(hours: Decimal, rate: Decimal, currency: str) -> Decimal:
    """hours × rate, rounded once to the currency's minor unit."""
    _require_decimal(hours=hours, rate=rate)
    with localcontext(prec=_PRECISION):
        return quantize_money(hours * rate, currency)


def tax_amount(subtotal: Decimal, tax_rate_percent: Decimal, currency: str) -> Decimal:
    """Tax on the whole subtotal, rounded once. ``tax_rate_percent`` is 0–100."""
    _require_decimal(subtotal=subtotal, tax_rate_percent=tax_rate_percent)
    with localcontext(prec=_PRECISION):
        return quantize_money(subtotal * tax_rate_percent / _HUNDRED, currency)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def invoice_totals(
    line_amounts: Iterable[Decimal], tax_rate_percent: Decimal, currency: str
) -> Totals:
    """Subtotal (sum of the already-rounded lines), tax once, total = both."""
    amounts = list(line_amounts)
    _require_decimal(**{f"line {i + 1}": amount for i, amount in enumerate(amounts)})
    with localcontext(prec=_PRECISION):
        subtotal = quantize_money(sum(amounts, Decimal(0)), currency)
        tax = tax_amount(subtotal, tax_rate_percent, currency)
        return Totals(subtotal=subtotal, tax=tax, total=subtotal + tax)


def resolve_rate(
    *,
    global_rate: Decimal,
    task_rate: Decimal | None = None,
    project_rate: Decimal | None = None,
    billing_project_rate: Decimal | None = None,
) -> Decimal:
    """The hourly rate that applies: task > project > per-project rate in the
    billing settings > global. ``None`` means "not set"; zero is a real rate."""
    for rate in (task_rate, project_rate, billing_project_rate):
        if rate is not None:
            _require_decimal(rate=rate)
            return rate
    _require_decimal(global_rate=global_rate)
    return global_rate
