"""Audit trail: Postgres triggers (django-pghistory) snapshot every tracked row change; this module
attaches who did it and why, so a service's audit entry is written in the service's transaction."""

import contextlib
import json
import uuid
from collections.abc import Iterator

import pghistory
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from pghistory.models import Events

_SET_CONTEXT = "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)"


@contextlib.contextmanager
def acting(actor, reason: str = "") -> Iterator[None]:
    """Label every row change inside the block with the actor (and reason) in the audit trail.

    The label is two transaction-local settings the pghistory triggers read, set once when the block
    starts (not re-sent with every statement) and restored when it ends, so nested blocks and the
    rest of the transaction keep their own label. Opens a transaction if the caller has none.
    """
    metadata = {"user": actor.pk if actor is not None else None, "reason": reason}
    if actor is not None:
        metadata["user_email"] = actor.email
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('pghistory.context_id', true), current_setting('pghistory.context_metadata', true)"
        )
        previous = cursor.fetchone()
        cursor.execute(_SET_CONTEXT, [str(uuid.uuid4()), json.dumps(metadata, cls=DjangoJSONEncoder)])
        yield
        # After an error the transaction or savepoint rolls back, and the settings with it.
        cursor.execute(_SET_CONTEXT, [previous[0] or "", previous[1] or ""])


def history_of(obj: models.Model) -> models.QuerySet:
    """Every audited change of this object and the rows that reference it, newest first."""
    return Events.objects.references(obj).order_by("-pgh_created_at")


def tracked(*extra_trackers) -> callable:
    """The one tracker configuration for audited models: insert, update and delete snapshots."""
    return pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), *extra_trackers)
