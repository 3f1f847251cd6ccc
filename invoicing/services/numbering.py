"""Gapless document numbers per series and year, taken under the series row's lock."""

from django.db import connection

from invoicing.models import (
    DocumentKind,
)

SERIES_PREFIX = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


def take_numbers(*, kind: str, year: int, count: int = 1) -> list[str]:
    """The next `count` numbers of the kind's series and year, gapless.

    The UPDATE holds the series row's lock until the issuing transaction ends; a rolled-back issue
    gives its numbers back, so no number is ever skipped.
    """
    code = SERIES_PREFIX[kind]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO invoicing_numberseries (code, year, last_value) VALUES (%s, %s, 0) "
            "ON CONFLICT (code, year) DO NOTHING",
            [code, year],
        )
        cursor.execute(
            "UPDATE invoicing_numberseries SET last_value = last_value + %s WHERE code = %s AND year = %s "
            "RETURNING last_value",
            [count, code, year],
        )
        (last,) = cursor.fetchone()
    return [f"{code}-{year}-{value:06d}" for value in range(last - count + 1, last + 1)]
