"""Every index earns its upkeep: none repeats another's columns, operator classes, expressions and
condition (Django already gives each unique CharField a varchar_pattern_ops index for LIKE 'abc%')."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

DUPLICATES = """
    SELECT indrelid::regclass::text, array_agg(indexrelid::regclass::text ORDER BY indexrelid::regclass::text)
      FROM pg_index
      JOIN pg_class ON pg_class.oid = indrelid
      JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace AND nspname = current_schema()
     GROUP BY indrelid, indkey::text, indclass::text, pg_get_expr(indexprs, indrelid), pg_get_expr(indpred, indrelid)
    HAVING count(*) > 1
"""


def test_no_index_repeats_another():
    with connection.cursor() as cursor:
        cursor.execute(DUPLICATES)
        assert cursor.fetchall() == []
