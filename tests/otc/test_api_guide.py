"""The API guide tells a developer the truth: its scope table names exactly the scopes a key can be given,
its endpoint tables list exactly the operations of the OpenAPI schema, and each row names the scope
the view's permission check actually demands (asked of the permission classes, not re-derived).

Endpoint rows are `| `METHOD /api/v1/path/` | scope | what |`: one method per row, the scope in
backticks, or `none: signed` (the request's signature is its credential) or `any key` (no scope)."""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.generators import SchemaGenerator

from otc.models import API_SCOPES, ApiKey

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api-guide.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ENDPOINT_ROW = re.compile(r"^\| `(?P<method>[A-Z]+) (?P<path>/api/[^` ]*)` \| (?P<scope>[^|]+) \|", re.MULTILINE)
NO_SCOPE_SIGNED = "none: signed"
NO_SCOPE_ANY_KEY = "any key"


def _operation(method: str, path: str) -> tuple[str, str]:
    """Path parameters compared by position: `{id}` and `{pk}` are the same slot."""
    return method, re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text()


@pytest.fixture(scope="module")
def generator() -> SchemaGenerator:
    generator = SchemaGenerator()
    generator.schema = generator.get_schema(request=None, public=True)
    return generator


def _documented_rows(guide: str) -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for match in ENDPOINT_ROW.finditer(guide):
        operation = _operation(match["method"], match["path"])
        assert operation not in rows, f"{match['method']} {match['path']} has two rows in the guide"
        rows[operation] = match["scope"].strip()
    return rows


def _scope_column(column: str) -> str:
    """The scope a row names: the first backticked scope, or the words for an operation without one."""
    named = re.findall(r"`([a-z_]+:[a-z_]+)`", column)
    return named[0] if named else column


def _passes(view, method: str, auth, user) -> bool:
    request = SimpleNamespace(method=method, auth=auth, user=user)
    return all(permission.has_permission(request, view) for permission in view.get_permissions())


def _required_scope(view, method: str) -> str:
    """Ask the view's own permission classes which single scope lets a key through."""
    if _passes(view, method, auth=None, user=AnonymousUser()):
        return NO_SCOPE_SIGNED
    if _passes(view, method, auth=ApiKey(scopes=[]), user=AnonymousUser()):
        return NO_SCOPE_ANY_KEY
    enough = [scope for scope, _ in API_SCOPES if _passes(view, method, ApiKey(scopes=[scope]), AnonymousUser())]
    assert len(enough) == 1, f"{method} {view.__class__.__name__}: scopes that each let a key through: {enough}"
    return enough[0]


def test_scope_table_names_every_scope_the_code_defines_and_no_other(guide):
    section = guide.split("\n## Scopes\n", 1)[1].split("\n## ", 1)[0]
    assert "| scope | allows |" in section
    in_table = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)

    assert len(in_table) == len(set(in_table)), "a scope has two rows"
    assert set(in_table) == {scope for scope, _ in API_SCOPES}
    assert len(in_table) == 17


def test_every_operation_of_the_schema_has_one_row_and_every_row_an_operation(guide, generator):
    in_schema = {
        _operation(method.upper(), path)
        for path, item in generator.schema["paths"].items()
        for method in item
        if method.upper() in METHODS
    }
    documented = set(_documented_rows(guide))

    assert sorted(in_schema - documented) == [], "operations the guide does not list"
    assert sorted(documented - in_schema) == [], "rows for operations the API does not have"
    assert len(in_schema) == 132


def test_each_row_names_the_scope_its_view_demands(guide, generator):
    documented = _documented_rows(guide)
    checked, wrong = 0, {}
    for path, _regex, method, callback in generator.endpoints:
        operation = _operation(method, path)
        if operation not in documented:
            continue
        required = _required_scope(generator.create_view(callback, method), method)
        if _scope_column(documented[operation]) != required:
            wrong[f"{method} {path}"] = (documented[operation], required)
        checked += 1

    assert wrong == {}, "rows naming another scope than the view demands: (guide, view)"
    assert checked == len(documented), "a row whose operation no view serves"
