"""Compile the bundled Peppol schematron to the XSLT the validator loads, or (--check) verify that the
committed one is there and still matches the schematron; exit 1 if not."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from invoicing.einvoice.compiled_rules import (
    COMPILED,
    PEPPOL_SCHEMATRON,
    CompiledRulesError,
    check_compiled,
    compile_rules,
)


class Command(BaseCommand):
    help = "Compile rules/PEPPOL-EN16931-UBL.sch to rules/compiled/ (--check: verify it is up to date)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only verify; exit 1 when missing or stale.")
        parser.add_argument("--source", type=Path, default=PEPPOL_SCHEMATRON, help="The schematron file.")
        parser.add_argument("--output", type=Path, default=COMPILED, help="Folder of the compiled stylesheet.")

    def handle(self, *args, check: bool, source: Path, output: Path, **options):
        try:
            record = check_compiled(source, output) if check else compile_rules(source, output)
        except CompiledRulesError as error:
            raise CommandError(str(error)) from error
        verb = "is up to date" if check else "written"
        self.stdout.write(
            self.style.SUCCESS(f"{output / record.stylesheet} {verb} (from {record.source} {record.source_sha256}).")
        )
