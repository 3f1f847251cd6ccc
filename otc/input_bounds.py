"""Plausible bounds for what people and partner systems type: amounts, quantities, dates.

The database would hold more (an amount column has 15 integer digits), but an invoice for 10^14 EUR
or a delivery date in the year 9999 is a typo or an attack, and its arithmetic (a line's net, a due
date 30 days later) overflows into a server error. The bounds are settings (OTC_INPUT_*), checked by
the API's input serializers (`StrictSerializer`) and by `otc.money.parse_decimal` for forms and files.
"""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework import serializers

NUMBER_FIELDS = (serializers.IntegerField, serializers.DecimalField, serializers.FloatField)


def has_separators(text: str) -> bool:
    """Python reads "1_000" as 1000; a person or a partner meant something else, or nothing."""
    return "_" in text


def separated_numbers(fields: Mapping[str, serializers.Field], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Errors for number fields given as text with "_" in it."""
    errors = {}
    for name, field in fields.items():
        raw = data.get(name)
        if isinstance(field, NUMBER_FIELDS) and not field.read_only and isinstance(raw, str) and has_separators(raw):
            errors[name] = [f"{raw!r} is not a number: write the digits without separators."]
    return errors


def bound_for(name: str) -> Decimal:
    """The largest magnitude a number field may take: quantities by their own setting, others as amounts."""
    return settings.OTC_INPUT_MAX_QUANTITY if "quantity" in name else settings.OTC_INPUT_MAX_AMOUNT


def date_problem(value: date) -> str | None:
    earliest, latest = settings.OTC_INPUT_EARLIEST_DATE, settings.OTC_INPUT_LATEST_DATE
    if not earliest <= value <= latest:
        return f"{value.isoformat()} is not a plausible date: give one between {earliest} and {latest}."
    return None


def number_problem(name: str, value: Decimal | int | float) -> str | None:
    bound, number = bound_for(name), Decimal(value)
    if abs(number) > bound:
        return f"{number.normalize():f} is beyond the plausible {bound:,} for {name.replace('_', ' ')}."
    return None


def implausible_values(fields: Mapping[str, serializers.Field], values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Errors for dates and numbers of a validated body that lie beyond the configured bounds."""
    errors = {}
    for name, field in fields.items():
        if field.read_only or field.source == "*":
            continue
        value = values.get(field.source)
        problem = None
        if isinstance(value, datetime):
            problem = date_problem(value.date())
        elif isinstance(value, date):
            problem = date_problem(value)
        elif (
            isinstance(field, NUMBER_FIELDS)
            and isinstance(value, Decimal | int | float)
            and not isinstance(value, bool)
        ):
            problem = number_problem(name, value)
        if problem:
            errors[name] = [problem]
    return errors
