"""Helpers for putting a service call behind a form, shared by the admin, the import resources and the
customer portal."""

from django import forms
from django.db.models import Model

from otc.errors import DomainError


def apply_domain_error(form: forms.BaseForm, error: DomainError, *, field_map: dict[str, str] | None = None) -> None:
    """Show a refused service call on a form: field problems at their fields, the rest on top."""
    field_map = field_map or {}
    if not error.fields:
        form.add_error(None, error.message)
        return
    for name, problems in error.fields.items():
        target = field_map.get(name, name)
        if target in form.fields:
            form.add_error(target, list(problems))
        else:
            form.add_error(None, [f"{name.replace('_', ' ')}: {problem}" for problem in problems])


def adopt_saved_row(obj: Model, saved: Model) -> None:
    """Make a form's (or an import row's) unsaved instance the row the service created or saved, so the
    admin's redirect, log entry and related saves see the real row."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db
