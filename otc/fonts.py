"""The fonts a document style may use: a fixed list of families known to render well in WeasyPrint,
offered only where this machine has them installed (fontconfig), so a PDF never falls back silently."""

import subprocess
from functools import cache

from django.core.exceptions import ValidationError

KNOWN_SAFE_FAMILIES = (
    "DejaVu Sans",
    "DejaVu Serif",
    "Liberation Sans",
    "Liberation Sans Narrow",
    "Liberation Serif",
    "Noto Sans",
    "Noto Serif",
    "Open Sans",
    "Roboto",
    "Source Sans 3",
)


@cache
def installed_families() -> frozenset[str]:
    """Every font family fontconfig knows on this machine (each name of a family counts)."""
    try:
        command = ["fc-list", ":", "family"]  # a fixed command without input, fontconfig from PATH
        listing = subprocess.run(command, capture_output=True, text=True, check=True, timeout=10).stdout  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(name.strip() for line in listing.splitlines() for name in line.split(",") if name.strip())


def available_families() -> list[str]:
    """The safe families installed here, in a stable order: what staff may choose."""
    installed = installed_families()
    return [family for family in KNOWN_SAFE_FAMILIES if family in installed]


def validate_font_family(value: str) -> None:
    if value not in available_families():
        raise ValidationError(
            f"{value!r} is not an installed document font; choose one of: {', '.join(available_families())}.",
            code="unknown_font",
        )
