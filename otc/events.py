"""Domain events as contracts: each event is a frozen dataclass with a type, a version and a payload
whose JSON Schema is generated from its fields, so what a service publishes is what partners and
the outbox's handlers read.

A service calls `publish(SomeEvent(...))` inside its transaction. The payload is validated at once
(a payload that does not match its schema is a bug and raises), then sent on the one kernel signal
`events_published`; workflows, at the top, records it in the outbox in the same transaction. Lower
apps never import workflows, and a missing listener is an error rather than a lost event.

Each app defines its events in `<app>/events.py`; `catalogue()` finds them by importing those
modules, so the catalogue is the definitions themselves, not a list kept beside them.
"""

import dataclasses
import importlib
import json
import types
import typing
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self, get_args, get_origin, get_type_hints

import fastjsonschema
from django.apps import apps
from django.dispatch import Signal
from django.utils.module_loading import module_has_submodule

from otc.money import quantize

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"

# Field types with a constraint of their own; the dict is merged into the field's schema.
Currency = Annotated[str, {"pattern": "^[A-Z]{3}$", "description": "ISO 4217 code"}]
Amount = Annotated[Decimal, {"description": 'Decimal amount as a string, e.g. "119.00"'}]

events_published = Signal()
"""Sent with `events` (a list of validated `PublishedEvent`), inside the publishing transaction."""


class InvalidEvent(ValueError):
    """An event whose type is not in the catalogue or whose payload does not match its schema."""


class UnrecordedEvent(RuntimeError):
    """Nothing listens for published events, so this one would be lost."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every domain event; subclasses are frozen keyword-only dataclasses."""

    type: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def summary(cls) -> str:
        """The first line of the event's docstring: what happened."""
        return (cls.__doc__ or "").strip().splitlines()[0]

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON Schema of the payload, generated from the fields' type hints."""
        return _event_schema(cls)

    def payload(self) -> dict[str, Any]:
        """The JSON-ready body: decimals and dates as strings, nested records as objects."""
        return _to_json(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Self:
        """The event a recorded payload describes (what handlers read), validated first."""
        _validate(cls, payload)
        return _from_json(cls, payload)


@dataclasses.dataclass(frozen=True)
class PublishedEvent:
    """What the kernel signal carries: a validated event's type, version and payload."""

    type: str
    version: int
    payload: dict[str, Any]


def publish(event: DomainEvent) -> None:
    """Validate `event` and hand it to the outbox; call inside the transaction that made the change."""
    publish_many([event])


def publish_many(events: Iterable[DomainEvent]) -> None:
    """Validate many events (a bulk run's) and hand them over at once: one outbox insert, one task."""
    published = [_published(event) for event in events]
    if not published:
        return
    if not events_published.has_listeners():
        raise UnrecordedEvent(f"nothing records {published[0].type}: is workflows installed?")
    events_published.send(sender=DomainEvent, events=published)


def _published(event: DomainEvent) -> PublishedEvent:
    event_class = type(event)
    if catalogue().get(getattr(event_class, "type", "")) is not event_class:
        raise InvalidEvent(f"{event_class.__name__} is not in the event catalogue (define it in an app's events.py)")
    payload = event.payload()
    _validate(event_class, payload)
    return PublishedEvent(type=event_class.type, version=event_class.version, payload=payload)


def _validate(event_class: type[DomainEvent], payload: dict[str, Any]) -> None:
    try:
        _validator(event_class)(payload)
    except fastjsonschema.JsonSchemaValueException as error:
        where = "/".join(str(part) for part in error.path[1:]) or "(payload)"
        detail = error.message.removeprefix(error.name).strip()
        raise InvalidEvent(f"{event_class.type} v{event_class.version}: {where}: {detail}") from error


@cache
def _validator(event_class: type[DomainEvent]) -> Callable[[dict[str, Any]], Any]:
    """The event's schema compiled once into Python code: a bulk run validates thousands of payloads of
    one class, and interpreting the schema for each (jsonschema) cost ~20x as much. Formats stay
    annotations, as before (the patterns check dates and times); nothing is filled in from defaults."""
    return fastjsonschema.compile(event_class.schema(), use_default=False, use_formats=False)


@cache
def catalogue() -> dict[str, type[DomainEvent]]:
    """Every domain event by type, from each installed app's `events` module, sorted by type."""
    modules = {
        f"{config.name}.events"
        for config in apps.get_app_configs()
        if _is_project_app(config.path) and module_has_submodule(config.module, "events")
    }
    for module in sorted(modules):
        importlib.import_module(module)
    found: dict[str, type[DomainEvent]] = {}
    for event_class in _subclasses(DomainEvent):
        if event_class.__module__ not in modules or "type" not in event_class.__dict__:
            continue
        if event_class.type in found:
            raise TypeError(f"{event_class.type} is defined twice: {found[event_class.type]} and {event_class}")
        found[event_class.type] = event_class
    return dict(sorted(found.items()))


def _is_project_app(path: str) -> bool:
    """Third-party apps are installed packages; an `events` module of theirs is not one of ours."""
    return not {"site-packages", "dist-packages"} & set(Path(path).parts)


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in (direct, *_subclasses(direct))]


# --- Schema from type hints --------------------------------------------------------------------------


def _event_schema(event_class: type[DomainEvent]) -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": event_class.type,
        "description": event_class.summary(),
        **_record_schema(event_class),
    }


def _record_schema(record: type) -> dict[str, Any]:
    hints = get_type_hints(record, include_extras=True)
    fields = dataclasses.fields(record)
    return {
        "type": "object",
        "properties": {field.name: _schema_of(hints[field.name]) for field in fields},
        "required": [field.name for field in fields],
        "additionalProperties": False,
    }


def _schema_of(hint: Any) -> dict[str, Any]:
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return {**_schema_of(args[0]), **args[1]}
    if origin in (types.UnionType, typing.Union):
        options = [arg for arg in args if arg is not type(None)]
        if len(options) != 1 or len(args) != 2:
            raise TypeError(f"only `X | None` unions are supported, not {hint}")
        return {"anyOf": [_schema_of(options[0]), {"type": "null"}]}
    if origin is list:
        return {"type": "array", "items": _schema_of(args[0])}
    if origin is Literal:
        return {"enum": list(args)}
    if dataclasses.is_dataclass(hint):
        return _record_schema(hint)
    simple = {
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        str: {"type": "string"},
        Decimal: {"type": "string", "pattern": DECIMAL_PATTERN},
        datetime: {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN},
        date: {"type": "string", "format": "date", "pattern": DATE_PATTERN},
    }
    if hint in simple:
        return dict(simple[hint])
    raise TypeError(f"no JSON Schema for {hint!r}: use int, str, bool, Decimal, date, datetime, lists or records")


# --- Values to JSON and back -------------------------------------------------------------------------


_PLAIN = frozenset({str, int, bool, float})


def _to_json(value: Any, currency: str | None = None) -> Any:
    """Amounts are written in their currency's minor units (the record's `currency`, else its parent's),
    so an amount read from the database ("119.0000") and one computed ("119.00") read the same. Plain
    values are passed first: `dataclasses.is_dataclass` costs more than they do (a booked batch
    converts two events per bank line)."""
    if value is None or type(value) in _PLAIN:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        currency = getattr(value, "currency", currency)
        amounts = _amount_fields(type(value))
        return {
            name: _amount(getattr(value, name), currency, name)
            if name in amounts
            else _to_json(getattr(value, name), currency)
            for name in _field_names(type(value))
        }
    if isinstance(value, list | tuple):
        return [_to_json(item, currency) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return value


def _amount(value: Any, currency: str | None, name: str) -> Any:
    if not isinstance(value, Decimal) or not value.is_finite() or not isinstance(currency, str):
        return _to_json(value)  # the schema refuses it
    rounded = quantize(value, currency)
    if rounded != value:
        raise InvalidEvent(f"{name}: {value} has more decimals than {currency} allows")
    return str(rounded)


@cache
def _field_names(record: type) -> tuple[str, ...]:
    """A record's field names, worked out once: `dataclasses.fields` costs more than the conversion of a
    small event's values (a booked batch publishes two events per bank line)."""
    return tuple(field.name for field in dataclasses.fields(record))


@cache
def _amount_fields(record: type) -> frozenset[str]:
    hints = get_type_hints(record, include_extras=True)
    return frozenset(field.name for field in dataclasses.fields(record) if hints[field.name] == Amount)


def _from_json(hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if value is None:
        return None
    if origin is Annotated:
        return _from_json(args[0], value)
    if origin in (types.UnionType, typing.Union):
        return _from_json(next(arg for arg in args if arg is not type(None)), value)
    if origin is list:
        return [_from_json(args[0], item) for item in value]
    if dataclasses.is_dataclass(hint):
        hints = get_type_hints(hint, include_extras=True)
        return hint(
            **{field.name: _from_json(hints[field.name], value[field.name]) for field in dataclasses.fields(hint)}
        )
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    return value


# --- The catalogue as a document ---------------------------------------------------------------------

CATALOGUE_DOCUMENT = "docs/events.md"


def catalogue_markdown() -> str:
    """docs/events.md: every event's type, version, summary and schema, from the definitions."""
    events = catalogue()
    parts = [
        "# Domain events\n",
        "Generated by `manage.py event_catalogue` from the event definitions in each app's `events.py`; "
        "do not edit by hand (a test fails when this file is not current). Every event the outbox records "
        "is one of these, with a payload that validates against its JSON Schema (draft 2020-12). The same "
        "catalogue is served at `GET /api/v1/events/catalogue/`. Any change to an event's fields raises its "
        "version.\n",
        "| Type | Version | Summary |\n|---|---|---|\n"
        + "".join(
            f"| [`{event.type}`](#{_anchor(event.type)}) | {event.version} | {event.summary()} |\n"
            for event in events.values()
        ),
    ]
    for event in events.values():
        schema = json.dumps(event.schema(), indent=2, ensure_ascii=False)
        parts.append(
            f"## {event.type}\n\n"
            f"Version {event.version}, defined as `{event.__module__}.{event.__name__}`. {event.summary()}\n\n"
            f"```json\n{schema}\n```\n"
        )
    return "\n".join(parts)


def _anchor(event_type: str) -> str:
    """The heading's anchor as GitHub renders it: lower case, dots dropped."""
    return event_type.replace(".", "")
