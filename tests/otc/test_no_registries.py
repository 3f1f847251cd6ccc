"""No registry of callables filled at start-up lets a lower app call a higher one: import-linter
cannot see such a call, and a missing registration fails silently. These checks read the source."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The layers, lowest first, as pyproject's import-linter contract names them; the top two last.
LAYERS = ["otc", "customers", "inventory", "ledger", "orders", "invoicing", "payments", "service"]
APPS = [*LAYERS, "analytics", "workflows"]
FILLING = {"append", "add", "setdefault", "update", "insert"}


def layer_of(app: str) -> int:
    return LAYERS.index(app) if app in LAYERS else len(LAYERS)


def sources() -> list[Path]:
    return [path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def _module_collections(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        empty_call = isinstance(value, ast.Call) and getattr(value.func, "id", "") in {"list", "dict", "set"}
        if isinstance(value, ast.List | ast.Dict | ast.Set) or empty_call:
            names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def registries(paths: list[Path]) -> list[str]:
    """Functions that store something in a module-level list, dict or set: a registry."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        collections = _module_collections(tree)
        for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
            for node in ast.walk(function):
                call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                if call and node.func.attr in FILLING and getattr(node.func.value, "id", "") in collections:
                    found.append(f"{path.name}:{node.lineno} {function.name} fills {node.func.value.id}")
                targets = node.targets if isinstance(node, ast.Assign) else []
                found += [
                    f"{path.name}:{node.lineno} {function.name} fills {target.value.id}"
                    for target in targets
                    if isinstance(target, ast.Subscript) and getattr(target.value, "id", "") in collections
                ]
    return found


def test_no_function_fills_a_module_level_registry():
    assert registries(sources()) == []


def test_no_app_config_imports_a_higher_app():
    offenders = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in sources()
        if path.name == "apps.py"
        for imported in re.findall(r"^\s*(?:from|import)\s+(\w+)", path.read_text(), flags=re.MULTILINE)
        if imported in APPS and layer_of(imported) > layer_of(path.relative_to(ROOT).parts[0])
    ]
    assert offenders == []


def test_a_registry_like_the_removed_ones_is_found(tmp_path):
    """The check can fail: both removed registries, as they were written, are reported."""
    planted = tmp_path / "selectors.py"
    planted.write_text(
        "SOURCES: dict = {}\nCHECKS: list = []\n\n\n"
        "def register_source(field, source):\n    SOURCES[field] = source\n\n\n"
        "def register_check(check):\n    if check not in CHECKS:\n        CHECKS.append(check)\n"
    )
    assert registries([planted]) == [
        "selectors.py:6 register_source fills SOURCES",
        "selectors.py:11 register_check fills CHECKS",
    ]
