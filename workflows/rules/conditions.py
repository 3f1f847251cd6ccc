"""A rule's condition tree, as data: {"all": [...]}, {"any": [...]}, {"not": {...}} and leaves
{"field": ..., "op": ..., "value": ...}. `check_conditions` refuses a tree that names an unknown field
or operator, or a value that does not fit the field's type, naming the path; `evaluate` answers it for
an event with a trace of each leaf it looked at. Nothing here evaluates code."""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.rules.fields import ORDERED, Field, FieldType, Subject, fields_for

OPERATORS = {
    "eq": "equals",
    "ne": "does not equal",
    "in": "is one of (a list)",
    "not_in": "is none of (a list)",
    "gt": "greater than",
    "gte": "greater than or equal to",
    "lt": "less than",
    "lte": "less than or equal to",
    "between": "between [low, high], both included",
    "contains": "contains (text: a substring; list: a member)",
    "is_empty": "is empty (true) or is not empty (false)",
}
ORDER_OPERATORS = {"gt", "gte", "lt", "lte", "between"}
SCALAR_OPERATORS = {"eq", "ne", "in", "not_in"}
MAX_DEPTH = 10


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def operators_for(field: Field) -> list[str]:
    if field.type == FieldType.LIST:
        return ["contains", "is_empty"]
    ops = [*SCALAR_OPERATORS, "is_empty"]
    if field.type in ORDERED:
        ops += sorted(ORDER_OPERATORS)
    if field.type == FieldType.STRING:
        ops.append("contains")
    return [op for op in OPERATORS if op in ops]


# --- Typed values -------------------------------------------------------------------------------------


class BadValue(ValueError):
    pass


def typed(field: Field, raw: Any) -> Any:
    """`raw` (from the rule's JSON) as a value of the field's type, or BadValue saying why not."""
    kind = field.type
    if kind == FieldType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise BadValue(f"{raw!r} is not a whole number")
        return raw
    if kind == FieldType.DECIMAL:
        if isinstance(raw, bool) or not isinstance(raw, int | str | float):
            raise BadValue(f"{raw!r} is not a number")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise BadValue(f"{raw!r} is not a number") from None
        if not value.is_finite():
            raise BadValue(f"{raw!r} is not a number")
        return value
    if kind == FieldType.BOOLEAN:
        if not isinstance(raw, bool):
            raise BadValue(f"{raw!r} is not true or false")
        return raw
    if not isinstance(raw, str):
        raise BadValue(f"{raw!r} is not text")
    parse = {
        FieldType.DATE: date.fromisoformat,
        FieldType.DATETIME: datetime.fromisoformat,
        FieldType.TIME: time.fromisoformat,
    }
    if kind in parse:
        try:
            return parse[kind](raw)
        except ValueError:
            expected = {
                FieldType.DATE: "YYYY-MM-DD",
                FieldType.DATETIME: "an ISO date and time",
                FieldType.TIME: "HH:MM",
            }
            raise BadValue(f"{raw!r} is not a {kind} ({expected[kind]})") from None
    if field.choices and raw not in field.choices and kind != FieldType.LIST:
        shown = ", ".join(field.choices[:12]) + (" ..." if len(field.choices) > 12 else "")
        raise BadValue(f"{raw!r} is not one of {shown}")
    return raw


def _operand(field: Field, op: str, raw: Any) -> Any:
    """The leaf's value, typed for its operator."""
    if op == "is_empty":
        if not isinstance(raw, bool):
            raise BadValue("is_empty takes true or false")
        return raw
    if op in ("in", "not_in"):
        if not isinstance(raw, list) or not raw:
            raise BadValue(f"{op} takes a non-empty list")
        return [typed(field, item) for item in raw]
    if op == "between":
        if not isinstance(raw, list) or len(raw) != 2:
            raise BadValue("between takes a list of two values [low, high]")
        low, high = typed(field, raw[0]), typed(field, raw[1])
        if low > high:
            raise BadValue(f"between: {raw[0]!r} is above {raw[1]!r}")
        return [low, high]
    if op == "contains":
        if not isinstance(raw, str) or not raw:
            raise BadValue("contains takes a non-empty text")
        return raw
    return typed(field, raw)


# --- Checking a tree ----------------------------------------------------------------------------------


def check_conditions(tree: Any, event_type: str, path: str = "conditions") -> list[Problem]:
    """Every problem of the tree for a rule on `event_type` ({} is fine: it matches every event)."""
    if tree == {} or tree is None:
        return []
    return _check(tree, fields_for(event_type), event_type, path, 0)


def _check(node: Any, fields: dict[str, Field], event_type: str, path: str, depth: int) -> list[Problem]:
    if depth > MAX_DEPTH:
        return [Problem(path, f"nested deeper than {MAX_DEPTH} levels")]
    if not isinstance(node, dict):
        return [Problem(path, 'a condition is an object: {"all": [...]}, {"any": [...]}, {"not": {...}} or a leaf')]
    groups = [key for key in ("all", "any", "not") if key in node]
    if groups:
        if len(node) != 1:
            return [Problem(path, f"a {groups[0]!r} group takes no other keys (found {', '.join(sorted(node))})")]
        key = groups[0]
        if key == "not":
            return _check(node["not"], fields, event_type, f"{path}.not", depth + 1)
        children = node[key]
        if not isinstance(children, list) or not children:
            return [Problem(f"{path}.{key}", "takes a non-empty list of conditions")]
        return [
            problem
            for index, child in enumerate(children)
            for problem in _check(child, fields, event_type, f"{path}.{key}[{index}]", depth + 1)
        ]
    return _check_leaf(node, fields, event_type, path)


def _check_leaf(node: dict, fields: dict[str, Field], event_type: str, path: str) -> list[Problem]:
    unknown = sorted(set(node) - {"field", "op", "value"})
    if unknown:
        return [Problem(path, f"unknown key(s) {', '.join(unknown)}; a leaf has field, op and value")]
    missing = [key for key in ("field", "op", "value") if key not in node]
    if missing:
        return [Problem(path, f"missing {', '.join(missing)}")]
    field = fields.get(node["field"]) if isinstance(node["field"], str) else None
    if field is None:
        return [Problem(f"{path}.field", f"{json_text(node['field'])} is not a field of {event_type}")]
    op = node["op"]
    if op not in operators_for(field):
        allowed = ", ".join(operators_for(field))
        return [Problem(f"{path}.op", f"{json_text(op)} does not apply to {field.name} ({field.type}); use {allowed}")]
    try:
        _operand(field, op, node["value"])
    except BadValue as error:
        return [Problem(f"{path}.value", f"{error} (field {field.name} is {field.type})")]
    return []


def json_text(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


# --- Evaluating ----------------------------------------------------------------------------------------


def evaluate(tree: dict, subject: Subject) -> tuple[bool, list[dict]]:
    """Whether the (checked) tree holds for the event, and a trace of each leaf looked at."""
    trace: list[dict] = []
    if not tree:
        return True, [{"path": "conditions", "result": True, "note": "no conditions: every event matches"}]
    result = _evaluate(tree, fields_for(subject.event.event_type), subject, "conditions", trace)
    return result, trace


def _evaluate(node: dict, fields: dict[str, Field], subject: Subject, path: str, trace: list[dict]) -> bool:
    if "all" in node:
        return all(_evaluate(child, fields, subject, f"{path}.all[{i}]", trace) for i, child in enumerate(node["all"]))
    if "any" in node:
        return any(_evaluate(child, fields, subject, f"{path}.any[{i}]", trace) for i, child in enumerate(node["any"]))
    if "not" in node:
        return not _evaluate(node["not"], fields, subject, f"{path}.not", trace)
    field = fields[node["field"]]
    actual = field.value(subject)
    result = _compare(node["op"], actual, _operand(field, node["op"], node["value"]))
    trace.append(
        {
            "path": path,
            "field": field.name,
            "op": node["op"],
            "value": node["value"],
            "actual": _shown(actual),
            "result": result,
        }
    )
    return result


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if op == "is_empty":
        return (actual is None or actual == "" or actual == []) == expected
    if op == "contains":
        return actual is not None and expected in actual
    if actual is None:
        return op in ("ne", "not_in")
    if isinstance(actual, datetime) and isinstance(expected, datetime) and expected.tzinfo is None:
        actual = actual.replace(tzinfo=None)
    comparisons = {
        "eq": lambda: actual == expected,
        "ne": lambda: actual != expected,
        "in": lambda: actual in expected,
        "not_in": lambda: actual not in expected,
        "gt": lambda: actual > expected,
        "gte": lambda: actual >= expected,
        "lt": lambda: actual < expected,
        "lte": lambda: actual <= expected,
        "between": lambda: expected[0] <= actual <= expected[1],
    }
    return comparisons[op]()


def _shown(value: Any) -> Any:
    if isinstance(value, Decimal | date | time):
        return str(value)
    return value
