"""Write docs/events.md from the event definitions, or check that it is current."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from otc.events import CATALOGUE_DOCUMENT, catalogue, catalogue_markdown


class Command(BaseCommand):
    help = "Write the domain event catalogue (type, version, summary, JSON Schema) to docs/events.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if docs/events.md is not current.")

    def handle(self, *args, check: bool = False, **options) -> None:
        path = Path(settings.BASE_DIR) / CATALOGUE_DOCUMENT
        wanted = catalogue_markdown()
        if check:
            if not path.exists() or path.read_text() != wanted:
                raise CommandError(f"{CATALOGUE_DOCUMENT} is not current: run `manage.py event_catalogue`.")
            self.stdout.write(f"{CATALOGUE_DOCUMENT} is current.")
            return
        path.write_text(wanted)
        self.stdout.write(f"Wrote {len(catalogue())} event types to {CATALOGUE_DOCUMENT}.")
