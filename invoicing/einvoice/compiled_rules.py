"""The Peppol schematron compiled to XSLT at build time, with a record of what it was compiled from.

`manage.py compile_einvoice_rules` writes `rules/compiled/PEPPOL-EN16931-UBL.xslt` and
`rules/compiled/SOURCE.json`; the validator only loads the stylesheet. `--check` (run by `make test`)
refuses a compiled file that is missing or no longer matches the schematron it records.
"""

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

from invoicing.einvoice.schematron import compile_schematron

RULES = Path(__file__).parent / "rules"
PEPPOL_SCHEMATRON = RULES / "PEPPOL-EN16931-UBL.sch"
COMPILED = RULES / "compiled"
RECORD_NAME = "SOURCE.json"
COMMIT = re.compile(r"commit `([0-9a-f]{40})`")


class CompiledRulesError(Exception):
    """The compiled stylesheet is missing, does not match its schematron, or does not compile."""


@dataclass(frozen=True)
class CompiledRecord:
    """Where a compiled stylesheet came from: enough to tell whether it is still the schematron's."""

    source: str
    source_sha256: str
    source_commit: str
    stylesheet: str
    stylesheet_sha256: str
    compiler: str


def compiled_path(source: Path, output: Path) -> Path:
    return output / f"{source.stem}.xslt"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source_commit(source: Path) -> str:
    """The upstream commit recorded for the schematron in the README beside it, if any."""
    readme = source.parent / "README.md"
    if not readme.exists():
        return ""
    for line in readme.read_text().splitlines():
        if source.name in line and (found := COMMIT.search(line)):
            return found.group(1)
    return ""


def _compiler() -> str:
    return f"invoicing.einvoice.schematron, saxonche {version('saxonche')}"


def compile_rules(source: Path = PEPPOL_SCHEMATRON, output: Path = COMPILED) -> CompiledRecord:
    """Compile the schematron to XSLT, make sure Saxon accepts the result, then write it (indented, so
    that a new rule release shows as a readable diff) and its record."""
    stylesheet = etree.tostring(
        etree.fromstring(compile_schematron(source.read_bytes())),
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
    )
    compiler = PySaxonProcessor(license=False).new_xslt30_processor()
    try:
        compiler.compile_stylesheet(stylesheet_text=stylesheet.decode("utf-8"))
    except PySaxonApiError as error:
        raise CompiledRulesError(f"{source.name} compiles to a stylesheet Saxon refuses: {error}") from error
    output.mkdir(parents=True, exist_ok=True)
    target = compiled_path(source, output)
    target.write_bytes(stylesheet)
    record = CompiledRecord(
        source=source.name,
        source_sha256=_sha256(source),
        source_commit=_source_commit(source),
        stylesheet=target.name,
        stylesheet_sha256=_sha256(target),
        compiler=_compiler(),
    )
    (output / RECORD_NAME).write_text(json.dumps(asdict(record), indent=2) + "\n")
    return record


def check_compiled(source: Path = PEPPOL_SCHEMATRON, output: Path = COMPILED) -> CompiledRecord:
    """The record of an up-to-date compiled stylesheet; CompiledRulesError saying what to do otherwise."""
    target, record_path = compiled_path(source, output), output / RECORD_NAME
    rerun = "run `manage.py compile_einvoice_rules` and commit rules/compiled/"
    missing = [path.name for path in (target, record_path) if not path.exists()]
    if missing:
        raise CompiledRulesError(f"{', '.join(missing)} missing in {output}: {rerun}.")
    record = CompiledRecord(**json.loads(record_path.read_text()))
    if record.source != source.name or record.source_sha256 != _sha256(source):
        raise CompiledRulesError(
            f"{target.name} is stale: it was compiled from {record.source} with sha256 {record.source_sha256}, "
            f"{source.name} now has sha256 {_sha256(source)}: {rerun}."
        )
    if record.stylesheet_sha256 != _sha256(target):
        raise CompiledRulesError(f"{target.name} was changed after compiling: {rerun}.")
    return record
