"""Reading rows of several models from one written-out statement as model instances, for the hot paths
where compiling the ORM's query costs more than running it (an order locked with its customer and credit
profile at every transition of order entry: the ORM spent twice the database's time building that SQL).
The column lists and value converters come from the models, so a new field is read without a change
here; what the ORM would give is what these give: instances loaded from the database, their relations
cached as `select_related` caches them."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, models


@dataclass(frozen=True)
class ModelColumns:
    """Every concrete column of `model` under a table alias, in one fixed order."""

    model: type[models.Model]
    alias: str
    sql: str
    attnames: tuple[str, ...]
    pk_position: int
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]  # (position, converters, column expression)

    @property
    def width(self) -> int:
        return len(self.attnames)

    def instance(self, row: Sequence[Any], start: int) -> models.Model | None:
        """The instance in `row` from column `start`, or None where an outer join found no row."""
        values = list(row[start : start + self.width])
        if values[self.pk_position] is None:
            return None
        for position, converters, column in self.converters:
            for convert in converters:
                values[position] = convert(values[position], column, connection)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


@cache
def model_columns(model: type[models.Model], alias: str) -> ModelColumns:
    fields = model._meta.concrete_fields
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(alias)
        found = tuple(connection.ops.get_db_converters(column) + field.get_db_converters(connection))
        if found:
            converters.append((position, found, column))
    attnames = tuple(field.attname for field in fields)
    return ModelColumns(
        model=model,
        alias=alias,
        sql=", ".join(f"{alias}.{connection.ops.quote_name(field.column)}" for field in fields),
        attnames=attnames,
        pk_position=attnames.index(model._meta.pk.attname),
        converters=tuple(converters),
    )


def select_list(*columns: ModelColumns) -> str:
    """The SELECT list reading every model's columns, in the order `instances` reads them back."""
    return ", ".join(column.sql for column in columns)


def fetch_instances(sql: str, params: Sequence[Any], *columns: ModelColumns) -> list[list[models.Model | None]]:
    """Run `sql`, which reads `select_list(*columns)`, and give each row as one instance per model."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_instances(row, columns) for row in cursor.fetchall()]


def _instances(row: Sequence[Any], columns: Sequence[ModelColumns]) -> list[models.Model | None]:
    found, start = [], 0
    for column in columns:
        found.append(column.instance(row, start))
        start += column.width
    return found


def cache_related(instance: models.Model, name: str, value: models.Model | None) -> None:
    """Remember `value` as the instance's related object `name` (a foreign key, or the reverse side of a
    one-to-one), as `select_related` does, so reading it costs no query."""
    instance._meta.get_field(name).set_cached_value(instance, value)
