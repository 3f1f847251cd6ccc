"""The Peppol rules ship compiled: the committed stylesheet matches the bundled schematron, and a changed
schematron (or a missing stylesheet) makes `compile_einvoice_rules --check` fail until it is recompiled."""

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from invoicing.einvoice.compiled_rules import COMPILED, PEPPOL_SCHEMATRON


def _check(source, output) -> None:
    call_command("compile_einvoice_rules", "--check", "--source", str(source), "--output", str(output))


def test_the_committed_stylesheet_is_up_to_date_and_records_its_source(capsys):
    call_command("compile_einvoice_rules", "--check")

    assert "is up to date" in capsys.readouterr().out
    record = json.loads((COMPILED / "SOURCE.json").read_text())
    assert record["source"] == "PEPPOL-EN16931-UBL.sch"
    assert record["source_commit"] == "c00e4a8fcfe43781e94ca8d222c9eadaf23834f9"
    assert record["compiler"].startswith("invoicing.einvoice.schematron, saxonche ")


def test_a_changed_schematron_fails_the_check_until_it_is_recompiled(tmp_path):
    source, output = tmp_path / PEPPOL_SCHEMATRON.name, tmp_path / "compiled"
    shutil.copytree(COMPILED, output)
    source.write_bytes(PEPPOL_SCHEMATRON.read_bytes().replace(b"PEPPOL-EN16931-R001", b"PEPPOL-EN16931-R001X", 1))

    with pytest.raises(CommandError, match=r"PEPPOL-EN16931-UBL\.xslt is stale"):
        _check(source, output)

    call_command("compile_einvoice_rules", "--source", str(source), "--output", str(output))
    _check(source, output)
    assert b"PEPPOL-EN16931-R001X" in (output / "PEPPOL-EN16931-UBL.xslt").read_bytes()
    assert (COMPILED / "PEPPOL-EN16931-UBL.xslt").read_bytes() != (output / "PEPPOL-EN16931-UBL.xslt").read_bytes()


def test_a_missing_or_edited_stylesheet_fails_the_check(tmp_path):
    with pytest.raises(CommandError, match=r"PEPPOL-EN16931-UBL\.xslt, SOURCE\.json missing"):
        _check(PEPPOL_SCHEMATRON, tmp_path)

    shutil.copytree(COMPILED, tmp_path / "compiled")
    stylesheet = tmp_path / "compiled" / "PEPPOL-EN16931-UBL.xslt"
    stylesheet.write_bytes(stylesheet.read_bytes().replace(b"PEPPOL-EN16931-R001", b"PEPPOL-EN16931-R999", 1))
    with pytest.raises(CommandError, match="was changed after compiling"):
        _check(PEPPOL_SCHEMATRON, tmp_path / "compiled")
