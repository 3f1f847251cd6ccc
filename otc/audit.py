"""Audit trail: Postgres triggers (django-pghistory) snapshot every tracked row change; this module
attaches who did it and why, so a service's audit entry is written in the service's transaction."""

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator

import pghistory
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from pghistory.models import Events
from pghistory.runtime import _tracker as pghistory_tracker

_labels = threading.local()


@contextlib.contextmanager
def acting(actor, reason: str = "") -> Iterator[None]:
    """Label every row change inside the block with the actor (and reason) in the audit trail.

    Inside a transaction the label is set once, as transaction-local settings the audit triggers read,
    instead of being sent again with every statement (pghistory's way, kept for autocommit and for
    code already inside a pghistory context). A nested block adds its metadata to the same label, as
    pghistory's nesting does; the settings live until the transaction ends, as pghistory's do."""
    metadata = {"user": actor.pk if actor is not None else None, "reason": reason}
    if actor is not None:
        metadata["user_email"] = actor.email
    if not connection.in_atomic_block or hasattr(pghistory_tracker, "value"):
        with pghistory.context(**metadata):
            yield
        return
    outer = getattr(_labels, "value", None)
    label = (outer[0], {**outer[1], **metadata}) if outer else (str(uuid.uuid4()), metadata)
    _label_transaction(*label)
    _labels.value = label
    try:
        yield
    finally:
        if outer is None:
            del _labels.value
        else:
            _labels.value = (outer[0], label[1])


def _label_transaction(context_id: str, metadata: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)",
            [context_id, json.dumps(metadata, cls=DjangoJSONEncoder)],
        )


def history_of(obj: models.Model) -> models.QuerySet:
    """Every audited change of this object and the rows that reference it, newest first."""
    return Events.objects.references(obj).order_by("-pgh_created_at")


def tracked(*extra_trackers, exclude: list[str] | None = None) -> callable:
    """The one tracker configuration for audited models: insert, update and delete snapshots, without
    the `exclude`d columns (secrets, counters that change on every use)."""
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), *extra_trackers, exclude=exclude
    )
