"""The locks are what installs (Makefile, Dockerfile): every dependency pyproject.toml declares is pinned
there with hashes, so a dependency added without `make lock` fails here rather than on a new machine."""

import re
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", re.MULTILINE)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {normalised(re.match(r"[A-Za-z0-9._-]+", requirement).group()) for requirement in requirements}


def pinned(lock: str) -> dict[str, str]:
    return {normalised(name): version for name, version in PIN.findall((ROOT / "requirements" / lock).read_text())}


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("production.lock", PROJECT["dependencies"]),
        ("development.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_declared_dependency_is_pinned_in_the_lock(lock, requirements):
    assert declared(requirements) - set(pinned(lock)) == set()


@pytest.mark.parametrize("lock", ["production.lock", "development.lock"])
def test_every_pinned_package_carries_its_hashes(lock):
    text = (ROOT / "requirements" / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1])
    packages = [entry for entry in entries if "==" in entry.split("\n")[0]]
    assert len(packages) == len(pinned(lock)) > 50
    assert [entry.split(" ")[0] for entry in packages if "--hash=sha256:" not in entry] == []


def test_production_pins_the_same_versions_as_development():
    production, development = pinned("production.lock"), pinned("development.lock")
    assert {name: version for name, version in production.items() if development.get(name) != version} == {}
