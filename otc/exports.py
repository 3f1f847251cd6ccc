"""Spreadsheet exports that cannot run code on the reader's machine (CSV/formula injection).

A cell of text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `@SUM(...)`, DDE payloads), and an XLSX
written through openpyxl stores it as a live formula. Every CSV and XLSX export passes its cells
through `neutralize_formula`, which makes such text plain by a leading apostrophe (OWASP's advice);
numbers, dates and text that is itself a number ("-12.50") stay as they are.
"""

import re
from typing import Any

from import_export import resources

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralize_formula(value: Any) -> Any:
    """The cell's value, with text that a spreadsheet would evaluate turned into plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


class FormulaSafeResource(resources.ModelResource):
    """Base of every django-import-export resource: the admin's CSV/XLSX exports are formula-safe."""

    def export_field(self, field, instance, **kwargs):
        return neutralize_formula(super().export_field(field, instance, **kwargs))
