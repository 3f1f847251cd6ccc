"""The audit trail as a History page shows it: pghistory's events turned into rows of who, when, what,
why, and each field's value before and after. Used by every admin page's History."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import DateTimeField, DecimalField, Model
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.timezone import localtime

from otc.models import User

# Bookkeeping columns, secrets (even encrypted) and the ids that tie a row to its customer.
HIDDEN_FIELDS = {
    "id",
    "customer_id",
    "name_key",
    "created_at",
    "updated_at",
    "iban",
    "iban_fingerprint",
    "proposed_iban",
    "requested_at",
}
VERBS = {"insert": "added", "update": "changed", "delete": "removed"}

# What a row is, in a few words, for the models whose rows need naming (a contact, an address).
Subject = Callable[[dict], str]


def audit_entries(
    events: Iterable, *, order: Sequence[str] = (), subjects: Mapping[str, Subject] | None = None
) -> list[dict[str, Any]]:
    """Rows of who, when, what, why and each field's before and after, newest first. Changes made in
    one transaction share a time: they are shown in the `order` of their models ("app.Model")."""
    events = list(events)
    user_ids = {event.pgh_context.get("user") for event in events if event.pgh_context}
    for event in events:
        for name, value in (event.pgh_data or {}).items():
            if _user_field(event, name) is not None:
                user_ids.add(value)
        for name, pair in (event.pgh_diff or {}).items():
            if _user_field(event, name) is not None:
                user_ids.update(pair)
    users = User.objects.in_bulk({pk for pk in user_ids if isinstance(pk, int)})
    rank = {label: index for index, label in enumerate(order)}
    events.sort(key=lambda event: rank.get(event.pgh_obj_model, len(rank)))
    events.sort(key=lambda event: event.pgh_created_at, reverse=True)
    return [_audit_entry(event, users, subjects or {}) for event in events]


def _audit_entry(event, users: dict[int, User], subjects: Mapping[str, Subject]) -> dict[str, Any]:
    model = apps.get_model(event.pgh_obj_model)
    context = event.pgh_context or {}
    data = event.pgh_data or {}
    if event.pgh_label == "update":
        pairs = event.pgh_diff or {}
    elif event.pgh_label == "delete":
        pairs = {name: [value, None] for name, value in data.items()}
    else:
        pairs = {name: [None, value] for name, value in data.items()}
    changes = [
        (_field_label(model, name), _shown(model, name, before, users), _shown(model, name, after, users))
        for name, (before, after) in pairs.items()
        if name not in HIDDEN_FIELDS and (before not in (None, "", []) or after not in (None, "", []))
    ]
    actor = users.get(context.get("user"))
    subject = subjects.get(event.pgh_obj_model)
    return {
        "when": event.pgh_created_at,
        "who": str(actor) if actor else context.get("user_email") or "system",
        "what": f"{model._meta.verbose_name.capitalize()} {VERBS.get(event.pgh_label, event.pgh_label)}",
        "subject": subject(data) if subject else "",
        "reason": context.get("reason", ""),
        "changes": changes,
    }


def _field(model: type[Model], name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _user_field(event, name: str):
    field = _field(apps.get_model(event.pgh_obj_model), name)
    return field if field is not None and field.is_relation and field.related_model is User else None


def _field_label(model: type[Model], name: str) -> str:
    field = _field(model, name)
    return capfirst(field.verbose_name) if field is not None else capfirst(name.replace("_", " "))


def _shown(model: type[Model], name: str, value, users: dict[int, User]) -> str:
    if value in (None, "", []):
        return "—"
    field = _field(model, name)
    if field is not None and field.is_relation and field.related_model is User:
        user = users.get(value)
        return str(user) if user else f"user {value}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(field, DecimalField):
        return f"{Decimal(str(value)):,.2f}"
    if isinstance(field, DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        return date_format(localtime(moment), "Y-m-d H:i") if moment else value
    if isinstance(value, dict):
        return ", ".join(f"{key}: {item}" for key, item in value.items())
    choices = dict(getattr(getattr(field, "base_field", field), "flatchoices", None) or [])
    if isinstance(value, list):
        return ", ".join(str(choices.get(item, item)) for item in value)
    return str(choices.get(value, value))
