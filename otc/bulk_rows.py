"""Writing many rows of a model at once, for the set-based paths: new rows with PostgreSQL's COPY (bulk
invoicing and its ledger postings: one round trip, no SQL text to build and parse, and the same row
triggers as INSERT); a few new rows, whose keys the caller needs, with one INSERT from arrays, and
changed rows with one UPDATE from arrays (order entry's lines, stock moves and reservations). The two
statements from arrays have the same text for any number of rows, built once per model: compiling
Django's INSERT or UPDATE for three order lines cost more than the database's work to write them."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from itertools import chain
from operator import attrgetter

from django.db import connection, models
from psycopg.types.json import Jsonb


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys from the model's sequence in one query, for rows written with COPY (which
    returns none) that other rows or the caller must point to."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def copy_rows(model: type[models.Model], objs: Iterable[models.Model], *, now: datetime) -> None:
    """Write the objects with COPY. The columns come from the model, so a new field is written without
    a change here; `auto_now` fields get `now`; a primary key is written when the objects carry one; a
    field of our own (an encrypted one) converts its value as it does for INSERT, Django's need none.
    The objects may come from a generator: rows stream to the server, never all in memory at once."""
    objs = iter(objs)
    first = next(objs, None)
    if first is None:
        return
    fields = [field for field in model._meta.concrete_fields if not (field.primary_key and first.pk is None)]
    values = attrgetter(*(field.attname for field in fields))
    stamped = [
        i
        for i, field in enumerate(fields)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    documents = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    converted = [
        (i, field) for i, field in enumerate(fields) if not type(field).get_prep_value.__module__.startswith("django.")
    ]

    def row(obj: models.Model) -> list:
        values_of_obj = list(values(obj))
        for i in stamped:
            values_of_obj[i] = now
        for i in documents:
            values_of_obj[i] = Jsonb(values_of_obj[i])
        for i, field in converted:
            values_of_obj[i] = field.get_db_prep_save(values_of_obj[i], connection)
        return values_of_obj

    _copy(model, fields, map(row, chain([first], objs)))


def copy_values(model: type[models.Model], field_names: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Write rows given as plain values, in the order of `field_names`, with COPY: for the hottest set-based
    paths (a bank statement's ledger postings), where building a model instance per row cost more than
    writing it. The values go as given: nothing is converted or stamped, so name every `auto_now` field
    and give it its time; a field not named is left to the database (its column default, else NULL)."""
    _copy(model, [model._meta.get_field(name) for name in field_names], rows)


def _copy(model: type[models.Model], fields: list[models.Field], rows: Iterable[Sequence]) -> None:
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert the objects (new ones, without primary keys) with one INSERT from arrays and give them their
    keys, as bulk_create does; values are prepared as a save prepares them (`auto_now_add` stamped,
    encrypted fields encrypted), generated columns left to the database."""
    if not objs:
        return
    statement, fields = _insert_statement(model)
    with connection.cursor() as cursor:
        cursor.execute(statement, [_prepared(field, objs, add=True) for field in fields])
        keys = cursor.fetchall()
    for obj, (pk,) in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def update_rows(model: type[models.Model], objs: list[models.Model], fields: list[str]) -> None:
    """Write `fields` of the objects back in one UPDATE from arrays (one per column), instead of the
    CASE WHEN per row that bulk_update builds; as `save(update_fields=...)` does, an `auto_now` field among
    `fields` is stamped."""
    if not objs:
        return
    statement, columns = _update_statement(model, tuple(fields))
    with connection.cursor() as cursor:
        cursor.execute(statement, [_prepared(field, objs, add=False) for field in columns])


def _prepared(field: models.Field, objs: list[models.Model], *, add: bool) -> list:
    return [field.get_db_prep_save(field.pre_save(obj, add), connection) for obj in objs]


def _unnest(fields: list[models.Field]) -> str:
    return ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)


@cache
def _insert_statement(model: type[models.Model]) -> tuple[str, list[models.Field]]:
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not (field.primary_key or field.generated)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    return (
        f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM unnest({_unnest(fields)}) "  # noqa: S608
        f"RETURNING {quote(meta.pk.column)}",
        fields,
    )


@cache
def _update_statement(model: type[models.Model], fields: tuple[str, ...]) -> tuple[str, list[models.Field]]:
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in columns)
    assignments = ", ".join(f"{quote(field.column)} = given.{quote(field.column)}" for field in columns[1:])
    pk = quote(meta.pk.column)
    return (
        f"UPDATE {quote(meta.db_table)} AS row SET {assignments} "  # noqa: S608 - names come from the model
        f"FROM unnest({_unnest(columns)}) AS given({names}) WHERE row.{pk} = given.{pk}",
        columns,
    )
