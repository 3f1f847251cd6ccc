"""Staff-written templates run in Jinja2's immutable sandbox over plain, read-only data.

A notice's context holds model instances; a staff template never sees them. `plain_context` turns the
context into JSON-able data (a model instance becomes a mapping of its concrete field values and the
display values of its choices, followed into related objects only where FOLLOW says so; a queryset
becomes a list of such mappings; money, quantities and dates are formatted text), which is stored on
the Delivery. `render` wraps that data in read-only Records, so a template reaches no method, manager,
setting or other customer. `check_template` refuses, on save, what the sandbox would refuse (or
silently print empty) at render time: syntax errors, unknown variables and unsafe access, each with
its line number.
"""

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import formats, timezone
from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from otc.money import MoneyField, quantize
from workflows.errors import NotificationTemplateInvalid

FOLLOW: dict[str, frozenset[str]] = {
    "orders.orderline": frozenset({"product"}),
    "orders.shipmentline": frozenset({"order_line"}),
    "service.dispute": frozenset({"invoice", "ticket"}),
    "service.survey": frozenset({"contact", "team", "agent"}),
    "service.ticket": frozenset({"team", "assignee"}),
}
"""Related objects a template may reach, per model (`app_label.model`): each is the same customer's
record (or a staff member's name), shown one level deep. Any other relation shows only its name."""

PROPERTIES: dict[str, tuple[str, ...]] = {"customers.customer": ("display_name",)}
"""Computed values (pure properties) a template may use besides the fields, per model."""

SENSITIVE_FIELD = re.compile(r"password|secret|token|nonce|hash|iban|bic|api_key|idempotency|encrypted", re.IGNORECASE)
"""Fields never copied into a template's data, whatever the model."""

DISPLAY = "_display"
"""The key under which a record keeps its display text (what `{{ customer }}` prints)."""

BLOCKED_NAMES = frozenset({"self", "cycler", "joiner", "namespace", "lipsum", "range", "dict", "caller", "varargs"})
BLOCKED_ATTRIBUTES = frozenset(
    {"objects", "mro", "self", "func_globals", "globals", "gi_frame", "f_globals", "f_locals", "format_map"}
)
BLOCKED_FILTERS = frozenset({"attr", "map", "selectattr", "rejectattr", "groupby", "sort", "unique", "min", "max"})
"""Filters that take an attribute name as text, which would let a template build a name the check
cannot see; with the plain data there is nothing to reach, but the check stays simple and strict."""
MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})


class Record(Mapping):
    """A read-only mapping that prints as its display text; `order.number` reads `order["number"]`."""

    __slots__ = ("_data", "_text")

    def __init__(self, data: Mapping[str, Any]):
        self._text = str(data.get(DISPLAY, ""))
        self._data = {key: value for key, value in data.items() if key != DISPLAY}

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __str__(self) -> str:
        return self._text


def _plain_value(value: Any, *, follow: bool) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if isinstance(value, float):
        return formats.number_format(Decimal(str(value)), use_l10n=True, force_grouping=True)
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, models.Model):
        return _plain_record(value, follow=follow)
    if isinstance(value, models.QuerySet | list | tuple):
        return [_plain_value(item, follow=follow) for item in value]
    if isinstance(value, Mapping):
        return {
            str(key): _plain_value(item, follow=follow) for key, item in value.items() if not str(key).startswith("_")
        }
    if isinstance(value, models.Manager) or callable(value):
        return None
    return str(value)


def _plain_record(instance: models.Model, *, follow: bool) -> dict[str, Any]:
    """The instance's own field values and choice labels; related objects one level deep where FOLLOW
    allows, else their display text when already loaded (never a query for a name)."""
    follows = FOLLOW.get(instance._meta.label_lower, frozenset()) if follow else frozenset()
    record: dict[str, Any] = {DISPLAY: str(instance), "pk": _plain_value(instance.pk, follow=False)}
    for field in instance._meta.concrete_fields:
        if SENSITIVE_FIELD.search(field.name):
            continue
        if field.is_relation:
            if field.name in follows:
                related = getattr(instance, field.name)
                record[field.name] = None if related is None else _plain_record(related, follow=False)
            elif field.is_cached(instance):
                related = getattr(instance, field.name)
                record[field.name] = None if related is None else str(related)
            continue
        value = getattr(instance, field.attname)
        if isinstance(field, MoneyField) and value is not None and isinstance(getattr(instance, "currency", None), str):
            value = quantize(value, instance.currency)  # amounts in the currency's minor units, as documents show them
        record[field.name] = _plain_value(value, follow=False)
        if field.choices and not isinstance(value, list | tuple):
            record[f"{field.name}_display"] = str(dict(field.flatchoices).get(value, value) or "")
    for name in PROPERTIES.get(instance._meta.label_lower, ()):
        record[name] = _plain_value(getattr(instance, name), follow=False)
    return record


def plain_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The notice's context as JSON-able plain data; call under the notice's language."""
    return {
        str(name): _plain_value(value, follow=True) for name, value in context.items() if not str(name).startswith("_")
    }


def _records(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Record({key: _records(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_records(item) for item in value)
    return value


def _environment(*, html: bool) -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(autoescape=html, keep_trailing_newline=True)
    environment.globals.clear()
    return environment


TEXT_ENVIRONMENT = _environment(html=False)
HTML_ENVIRONMENT = _environment(html=True)


def render(source: str, data: Mapping[str, Any], *, html: bool = False) -> str:
    """Render a staff template over plain data (as `plain_context` made it)."""
    environment = HTML_ENVIRONMENT if html else TEXT_ENVIRONMENT
    return environment.from_string(source).render({name: _records(value) for name, value in data.items()})


# --- Checking a template before it is saved ---------------------------------------------------------

UNKNOWN = object()
"""The shape of a value the check cannot know (a loop variable over an unknown list, a {% set %})."""


def variables_schema(samples: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The variables the samples (real contexts of one key) offer, merged: a mapping's keys map to their
    own schema, a list to [element schema], a value to None."""
    schema: dict[str, Any] = {}
    for sample in samples:
        schema = _merge(schema, _schema_of(sample))
    return schema


def _schema_of(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _schema_of(item) for key, item in value.items() if key != DISPLAY}
    if isinstance(value, list):
        element: Any = {}
        for item in value:
            element = _merge(element, _schema_of(item))
        return [element]
    return None


def _merge(left: Any, right: Any) -> Any:
    if isinstance(left, dict) and isinstance(right, dict):
        return {key: _merge(left.get(key), right.get(key)) for key in {*left, *right}}
    if isinstance(left, list) and isinstance(right, list):
        return [_merge(left[0], right[0])]
    return right if left is None or left == {} else left


def variable_names(schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted names a template may use, for the list beside the editor (`lines[]` is a list)."""
    names = []
    for key in sorted(schema):
        name = f"{prefix}{key}"
        value = schema[key]
        if isinstance(value, dict) and value:
            names.extend(variable_names(value, f"{name}."))
        elif isinstance(value, list):
            names.append(f"{name}[]")
            if isinstance(value[0], dict):
                names.extend(variable_names(value[0], f"{name}[]."))
        else:
            names.append(name)
    return names


class _Checker:
    """Walks a parsed template and collects each refused construct with its line."""

    def __init__(self, schema: Mapping[str, Any] | None):
        self.schema = schema
        self.problems: list[str] = []

    def refuse(self, node: nodes.Node, message: str) -> None:
        self.problems.append(f"line {node.lineno}: {message}")

    def walk(self, node: nodes.Node, scope: dict[str, Any]) -> None:
        if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            self.refuse(node, "a notification template cannot load other templates.")
            return
        if isinstance(node, nodes.For):
            element = self.resolve(node.iter, scope)
            inner = dict(scope, loop=UNKNOWN)
            targets = [node.target] if isinstance(node.target, nodes.Name) else list(node.target.find_all(nodes.Name))
            for target in targets:
                inner[target.name] = element[0] if isinstance(element, list) and len(targets) == 1 else UNKNOWN
            for child in [*node.body, *node.else_, *([node.test] if node.test else [])]:
                self.walk(child, inner)
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock | nodes.With | nodes.Macro):
            for target in node.find_all(nodes.Name):
                if target.ctx in ("store", "param"):
                    scope[target.name] = UNKNOWN
        if isinstance(node, nodes.Filter | nodes.Test):
            self.check_filter(node)
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            self.resolve(node, scope)
            return
        for child in node.iter_child_nodes():
            self.walk(child, scope)

    def check_filter(self, node: nodes.Filter | nodes.Test) -> None:
        if isinstance(node, nodes.Filter) and node.name in BLOCKED_FILTERS:
            self.refuse(node, f"the filter '{node.name}' is not available in notification templates.")

    def resolve(self, node: nodes.Node, scope: dict[str, Any]) -> Any:
        """The schema the expression reaches (or UNKNOWN), refusing unsafe or unknown steps."""
        if isinstance(node, nodes.Name):
            if node.name in BLOCKED_NAMES:
                self.refuse(node, f"'{node.name}' is not available in notification templates.")
                return UNKNOWN
            if node.name in scope:
                return scope[node.name]
            if self.schema is None:
                return UNKNOWN
            if node.name not in self.schema:
                self.refuse(node, f"unknown variable '{node.name}'.")
                return UNKNOWN
            return self.schema[node.name]
        if isinstance(node, nodes.Getattr):
            return self.step(node, self.resolve(node.node, scope), node.attr)
        if isinstance(node, nodes.Getitem):
            base = self.resolve(node.node, scope)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.step(node, base, node.arg.value)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, int):
                return base[0] if isinstance(base, list) else UNKNOWN
            if isinstance(node.arg, nodes.Slice):
                self.walk(node.arg, scope)
                return base
            self.refuse(node, "a computed name in [...] is not allowed; write the name out.")
            return UNKNOWN
        self.walk(node, scope)
        return UNKNOWN

    def step(self, node: nodes.Node, base: Any, name: str) -> Any:
        if name.startswith("_") or name in BLOCKED_ATTRIBUTES:
            self.refuse(node, f"'{name}' is not available in notification templates.")
            return UNKNOWN
        if base is UNKNOWN or (base is None and self.schema is None):
            return UNKNOWN
        if isinstance(base, dict):
            if name in base:
                return base[name]
            if name in MAPPING_METHODS:
                return UNKNOWN
        self.refuse(node, f"unknown variable '{_dotted(node)}'.")
        return UNKNOWN


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    return "…"


def template_problems(source: str, *, schema: Mapping[str, Any] | None, html: bool = False) -> list[str]:
    """What is wrong with one template text, each problem with its line; empty when it may be saved.
    `schema` None means no real context is known yet: only syntax and safety are checked."""
    environment = HTML_ENVIRONMENT if html else TEXT_ENVIRONMENT
    try:
        parsed = environment.parse(source)
    except TemplateSyntaxError as error:
        return [f"line {error.lineno}: {error.message}"]
    checker = _Checker(schema)
    checker.walk(parsed, {})
    if schema is not None:
        for name in sorted(meta.find_undeclared_variables(parsed) - set(schema) - BLOCKED_NAMES):
            problem = f"unknown variable '{name}'."
            if not any(found.endswith(problem) for found in checker.problems):
                checker.problems.append(problem)
    return checker.problems


def check_template(parts: Mapping[str, str], *, schema: Mapping[str, Any] | None) -> None:
    """Refuse a template whose subject, text or HTML has a problem, naming each field and line."""
    fields = {
        name: problems
        for name, source in parts.items()
        if (problems := template_problems(source, schema=schema, html=name == "body_html"))
    }
    if fields:
        summary = "; ".join(f"{name.replace('_', ' ')}: {' '.join(problems)}" for name, problems in fields.items())
        raise NotificationTemplateInvalid(f"The template cannot be saved. {summary}", fields=fields)
