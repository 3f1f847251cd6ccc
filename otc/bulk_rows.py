"""Writing many rows of a model with PostgreSQL's COPY, for the set-based paths (bulk invoicing and
its ledger postings): one round trip, no SQL text to build and parse, and the same row triggers
(audit, immutability, balance) as INSERT."""

from datetime import datetime
from operator import attrgetter

from django.db import connection, models
from psycopg.types.json import Jsonb


def copy_rows(model: type[models.Model], objs: list[models.Model], *, now: datetime) -> None:
    """Write the objects with COPY. The columns come from the model, so a new field is written without
    a change here; `auto_now` fields get `now`; a primary key is written when the objects carry one."""
    if not objs:
        return
    fields = [field for field in model._meta.concrete_fields if not (field.primary_key and objs[0].pk is None)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = attrgetter(*(field.attname for field in fields))
    stamped = [
        i
        for i, field in enumerate(fields)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    documents = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    with connection.cursor() as cursor, cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for obj in objs:
            row = list(values(obj))
            for i in stamped:
                row[i] = now
            for i in documents:
                row[i] = Jsonb(row[i])
            copy.write_row(row)
