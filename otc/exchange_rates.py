"""Exchange rates into the company currency: the rate of a day is the latest published on or before it."""

from datetime import date
from decimal import Decimal

from django.conf import settings

from otc.errors import Conflict
from otc.models import ExchangeRate
from otc.money import quantize


class MissingExchangeRate(Conflict):
    code = "missing_exchange_rate"
    title = "No exchange rate is known for this currency and date."


def company_currency() -> str:
    return settings.OTC_COMPANY_CURRENCY


def rate_on(currency: str, on: date) -> Decimal:
    """Company-currency units per unit of `currency` on `on`; 1 for the company currency itself."""
    if currency == company_currency():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(currency=currency, rate_date__lte=on)
        .order_by("-rate_date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise MissingExchangeRate(
            f"No exchange rate for {currency} on or before {on:%Y-%m-%d}; add one under Exchange rates.",
            fields={"currency": [f"No rate for {currency}."]},
        )
    return rate


def convert(amount: Decimal, *, from_currency: str, to_currency: str, on: date) -> Decimal:
    """Convert through the company currency, rounded half-up to the target's minor unit."""
    if from_currency == to_currency:
        return amount
    in_company = amount * rate_on(from_currency, on)
    return quantize(in_company / rate_on(to_currency, on), to_currency)
