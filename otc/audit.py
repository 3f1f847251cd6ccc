"""Audit trail: Postgres triggers (django-pghistory) snapshot every tracked row change; this module
attaches who did it and why, so a service's audit entry is written in the service's transaction."""

import contextlib
from collections.abc import Iterator

import pghistory
from django.db import models
from pghistory.models import Events


@contextlib.contextmanager
def acting(actor, reason: str = "") -> Iterator[None]:
    """Label every row change inside the block with the actor (and reason) in the audit trail."""
    metadata = {"user": actor.pk if actor is not None else None, "reason": reason}
    if actor is not None:
        metadata["user_email"] = actor.email
    with pghistory.context(**metadata):
        yield


def history_of(obj: models.Model) -> models.QuerySet:
    """Every audited change of this object and the rows that reference it, newest first."""
    return Events.objects.references(obj).order_by("-pgh_created_at")


def tracked(*extra_trackers, exclude: list[str] | None = None) -> callable:
    """The one tracker configuration for audited models: insert, update and delete snapshots, without
    the `exclude`d columns (secrets, counters that change on every use)."""
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), *extra_trackers, exclude=exclude
    )
