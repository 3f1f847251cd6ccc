"""The one way analytics runs its SQL: named parameters in, dictionaries out (tuples for reports
of tens of thousands of rows, where building a dictionary per row shows), on the reporting database
(the read replica when one is configured: otc.databases)."""

from typing import Any

from django.db import connections

from otc.databases import reporting_database


def fetch_all(sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with connections[reporting_database()].cursor() as cursor:
        cursor.execute(sql, params or {})
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return fetch_all(sql, params)[0]


def fetch_rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    with connections[reporting_database()].cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()
