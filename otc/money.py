"""Money: Decimal only, one field definition, one rounding rule.

Rounding rule (used by every document): each line amount is rounded half-up to the currency's
minor unit, and totals are sums of rounded lines.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models

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


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit: the one rounding rule of the suite."""
    if isinstance(amount, float):
        raise TypeError("money is Decimal, never float")
    exponent = Decimal(1).scaleb(-minor_units(currency))
    return Decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


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
