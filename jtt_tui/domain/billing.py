"""Invoice rules: status lifecycle, due dates from payment terms, billed hours."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from jtt_tui.domain.errors import DomainError
from jtt_tui.domain.models import Invoice, InvoiceStatus, Rounding

S = InvoiceStatus

# Stored statuses and where each may go; "overdue" is never stored, it is a
# sent invoice past its due date.
TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    S.DRAFT: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.PAID, S.CANCELLED}),
    S.OVERDUE: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset(),
    S.CANCELLED: frozenset(),
}
_HOUR = Decimal(3600)
HOURS_PLACES = Decimal("0.01")


def effective_status(invoice: Invoice, today: date) -> InvoiceStatus:
    """``overdue`` for a sent invoice whose due date has passed."""
    if invoice.status in (S.SENT, S.OVERDUE) and invoice.due_date and invoice.due_date < today:
        return S.OVERDUE
    if invoice.status == S.OVERDUE:
        return S.SENT
    return invoice.status


def check_transition(invoice: Invoice, target: InvoiceStatus) -> None:
    """Raise DomainError explaining why ``invoice`` cannot become ``target``."""
    if target == S.OVERDUE:
        raise DomainError(
            "overdue is not set by hand: a sent invoice becomes overdue after its due date"
        )
    allowed = TRANSITIONS[invoice.status]
    if target not in allowed:
        if invoice.status in (S.PAID, S.CANCELLED):
            reason = f"it is {invoice.status}, which is final"
        else:
            reason = f"from {invoice.status} it can only become " + " or ".join(
                sorted(str(s) for s in allowed)
            )
        raise DomainError(f"invoice {invoice.invoice_number} cannot be marked {target}: {reason}")


def due_date(issue: date, payment_terms: str) -> date | None:
    """From terms like ``Net 30``, ``Net 15`` or ``Due on receipt``; None when
    the terms name no period."""
    terms = payment_terms.strip().lower()
    if terms in ("due on receipt", "on receipt", "immediately", "net 0"):
        return issue
    match = re.fullmatch(r"net\s*(\d{1,3})(\s*days?)?", terms)
    if match:
        return issue + timedelta(days=int(match.group(1)))
    return None


def billed_hours(seconds: int) -> Decimal:
    """Hours shown and billed for ``seconds`` of work: half-up to 0.01 h."""
    return (Decimal(seconds) / _HOUR).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def rounded_seconds(seconds: int, rule: Rounding) -> int:
    """Seconds billed for one entry of ``seconds`` under ``rule`` (half a
    step or more rounds up with ``nearest``)."""
    seconds = max(seconds, 0)
    if rule.mode != "none" and seconds:
        step = rule.minutes * 60
        whole, rest = divmod(seconds, step)
        if rule.mode == "up":
            seconds = (whole + (1 if rest else 0)) * step
        else:
            seconds = (whole + (1 if rest * 2 >= step else 0)) * step
    if rule.minimum_minutes and seconds:
        seconds = max(seconds, rule.minimum_minutes * 60)
    return seconds


ROUNDING_SYNTAX = (
    "none, or up-N / nearest-N with N = 1, 6, 15 or 30 minutes, optionally "
    "followed by ',min-M' (bill each entry at least M minutes), e.g. up-15,min-30"
)


def parse_rounding(text: str) -> Rounding:
    """``up-15,min-30`` → Rounding(mode="up", minutes=15, minimum_minutes=30);
    ValueError (saying the syntax) otherwise."""
    from pydantic import ValidationError

    fields: dict[str, object] = {}
    try:
        for part in (p.strip().lower() for p in text.split(",") if p.strip()):
            if part == "none":
                fields["mode"] = "none"
            elif part.startswith(("up-", "nearest-")):
                mode, _, minutes = part.partition("-")
                fields["mode"], fields["minutes"] = mode, int(minutes)
            elif part.startswith("min-"):
                fields["minimum_minutes"] = int(part[4:])
            else:
                raise ValueError(part)
        return Rounding.model_validate(fields)
    except (ValueError, ValidationError):
        raise ValueError(f"expected {ROUNDING_SYNTAX}") from None


def format_rounding(rule: Rounding) -> str:
    """The text :func:`parse_rounding` reads back."""
    text = "none" if rule.mode == "none" else f"{rule.mode}-{rule.minutes}"
    return text + (f",min-{rule.minimum_minutes}" if rule.minimum_minutes else "")
