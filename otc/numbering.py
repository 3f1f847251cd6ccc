"""Gapless number series: a counter row per (code, year), raised under its row lock.

The UPDATE holds the row's lock until the calling transaction ends, so a rolled-back document gives
its numbers back and no number is ever skipped; concurrent callers queue on the row. Each app keeps
its own series table (code, year, last_value, unique on code and year) and calls this.
"""

from django.db import connection, models


def take_gapless_numbers(*, series: type[models.Model], code: str, year: int, count: int = 1) -> list[str]:
    """The next `count` numbers of `code`'s series in `year`, formatted CODE-YYYY-000123."""
    table = connection.ops.quote_name(series._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (code, year, last_value) VALUES (%s, %s, 0) ON CONFLICT (code, year) DO NOTHING",  # noqa: S608
            [code, year],
        )
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + %s WHERE code = %s AND year = %s RETURNING last_value",  # noqa: S608
            [count, code, year],
        )
        (last,) = cursor.fetchone()
    return [f"{code}-{year}-{value:06d}" for value in range(last - count + 1, last + 1)]
