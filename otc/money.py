"""Money: Decimal only, one field definition, one rounding rule.

Rounding rule (EN 16931), used by orders, invoices and credit notes alike so that an order and its
invoice agree to the cent: each line's net is rounded half-up to the currency's minor unit; the tax
of each VAT group (category code and rate) is computed once, on the sum of that group's rounded line
nets, and rounded half-up; totals are sums of those rounded figures.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import models

from otc.errors import InvalidInput
from otc.input_bounds import has_separators

# ISO 4217 minor units for the currencies whose exponent is not 2; every other active code has 2.
_MINOR_UNITS_NOT_TWO = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}
CURRENCIES = sorted(
    set(_MINOR_UNITS_NOT_TWO)
    | {
        "AED",
        "ARS",
        "AUD",
        "BGN",
        "BRL",
        "CAD",
        "CHF",
        "CNY",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "MAD",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "ZAR",
    }
)
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


def minor_units(currency: str) -> int:
    return _MINOR_UNITS_NOT_TWO.get(currency, 2)


def minor_units_sql(currency: str) -> str:
    """SQL giving the minor units of the currency the expression `currency` names: `ROUND(amount,
    units)` then rounds as `quantize` does (PostgreSQL rounds a numeric's halves away from zero too),
    for reports that would otherwise round tens of thousands of amounts in Python."""
    cases = " ".join(f"WHEN '{code}' THEN {units}" for code, units in sorted(_MINOR_UNITS_NOT_TWO.items()))
    return f"CASE {currency} {cases} ELSE 2 END"


@cache
def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit: the one rounding rule of the suite."""
    if isinstance(amount, float):
        raise TypeError("money is Decimal, never float")
    return Decimal(amount).quantize(_minor_unit(currency), rounding=ROUND_HALF_UP)


HUNDRED = Decimal("100")


def parse_decimal(
    value: object,
    *,
    field: str,
    low: Decimal | None = None,
    high: Decimal | None = None,
    currency: str | None = None,
) -> Decimal:
    """A number given by a person or a file (text, int or Decimal) as a finite Decimal within
    [low, high] and, with a currency, with no more decimals than its minor unit. Anything else is
    InvalidInput naming `field`, its message `"{field}: {reason}"` and `fields[field]` the reason."""

    def invalid(reason: str) -> InvalidInput:
        return InvalidInput(f"{field}: {reason}", fields={field: [reason]})

    text = str(value).strip()
    if has_separators(text):
        raise invalid(f"{text!r} is not a decimal amount: write the digits without separators")
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise invalid(f"{text!r} is not a decimal amount") from None
    if not number.is_finite():
        raise invalid(f"{text!r} is not a decimal amount")
    if currency is not None and quantize(number, currency) != number:
        raise invalid(f"{number} has more decimals than {currency} allows")
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            bounds = f"at least {low}"
        else:
            bounds = f"at most {high}" if low is None else f"between {low} and {high}"
        raise invalid(f"must be {bounds}")
    return number


def line_net(*, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, currency: str) -> Decimal:
    """A line's net amount, rounded half-up to the currency's minor unit."""
    return quantize(quantity * unit_price * (1 - discount_percent / HUNDRED), currency)


def combined_discount(line_discount: Decimal, order_discount: Decimal) -> Decimal:
    """A line's own discount and its document's discount as one percentage (exact)."""
    return HUNDRED - (HUNDRED - line_discount) * (HUNDRED - order_discount) / HUNDRED


class TaxedLine(Protocol):
    """What the rounding rule reads of a document line (an order line or an invoice line)."""

    tax_category: str
    tax_rate: Decimal
    net_amount: Decimal
    tax_note: str


@dataclass(frozen=True)
class TaxGroup:
    """One VAT group of a document: its category code and rate, net, tax and exemption wording."""

    tax_category: str
    tax_rate: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal
    exemption_reason: str = ""


def tax_groups(lines: Iterable[TaxedLine], currency: str) -> list[TaxGroup]:
    """The tax breakdown of a document's lines: tax computed per category and rate on the group's net,
    rounded half-up once per group; highest rate first."""
    nets: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
    reasons: dict[tuple[str, Decimal], str] = {}
    for line in lines:
        key = (line.tax_category, Decimal(line.tax_rate))
        nets[key] += line.net_amount
        reasons.setdefault(key, line.tax_note)
    return [
        TaxGroup(category, rate, net, quantize(net * rate / HUNDRED, currency), reasons[(category, rate)])
        for (category, rate), net in sorted(nets.items(), key=lambda item: (-item[0][1], item[0][0]))
    ]


def line_tax_shares(lines: Sequence[TaxedLine], groups: Iterable[TaxGroup], currency: str) -> list[Decimal]:
    """Each line's share of its group's tax, in proportion to its net, rounded so that the shares of a
    group add up to the group's tax exactly (for per-line display and pro-rata figures only)."""
    shares = [Decimal(0)] * len(lines)
    for group in groups:
        members = [
            index
            for index, line in enumerate(lines)
            if (line.tax_category, Decimal(line.tax_rate)) == (group.tax_category, group.tax_rate)
        ]
        running, allocated = Decimal(0), Decimal(0)
        for index in members:
            running += lines[index].net_amount
            upto = quantize(group.tax_amount * running / group.taxable_amount, currency) if running else allocated
            shares[index], allocated = upto - allocated, upto
    return shares


def validate_currency(value: str) -> None:
    if value not in CURRENCIES:
        raise ValidationError(
            "%(value)s is not a supported ISO 4217 currency code.",
            code="invalid_currency",
            params={"value": value},
        )


class MoneyField(models.DecimalField):
    """An amount; the currency lives in a sibling field of the same row."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 19)
        kwargs.setdefault("decimal_places", 4)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("choices", CURRENCY_CHOICES)
        kwargs.setdefault("validators", [validate_currency])
        super().__init__(*args, **kwargs)
