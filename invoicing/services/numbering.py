"""Gapless document numbers per series and year, taken under the series row's lock (otc.numbering)."""

from invoicing.models import DocumentKind, NumberSeries
from otc.numbering import take_gapless_numbers

SERIES_PREFIX = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


def take_numbers(*, kind: str, year: int, count: int = 1) -> list[str]:
    """The next `count` numbers of the kind's series and year, gapless: a rolled-back issue gives its
    numbers back."""
    return take_gapless_numbers(series=NumberSeries, code=SERIES_PREFIX[kind], year=year, count=count)
