"""The one way analytics runs its SQL: named parameters in, dictionaries out."""

from typing import Any

from django.db import connection
from django.db.models import QuerySet


def fetch_all(sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return fetch_all(sql, params)[0]


def as_subquery(queryset: QuerySet, name: str) -> tuple[str, dict[str, Any]]:
    """A queryset's SQL for a WITH clause, its positional parameters renamed so the outer statement
    can use named ones (`%(name_0)s`, ...)."""
    sql, params = queryset.query.sql_with_params()
    names = [f"{name}_{index}" for index in range(len(params))]
    return sql % tuple(f"%({param})s" for param in names), dict(zip(names, params, strict=True))
