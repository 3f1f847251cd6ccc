"""Read the service desk's IMAP mailbox (settings OTC_IMAP_*) into tickets; schedule it every minute
or two where mail is not posted by a provider."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from otc.errors import DomainError
from service.services.inbound_mail import fetch_mailbox, imap_mailbox


class Command(BaseCommand):
    help = "Take the unread messages of the service desk's IMAP mailbox into tickets and mark them read."

    def add_arguments(self, parser):
        parser.add_argument("--folder", default=None, help="Mailbox folder (default: settings.OTC_IMAP_FOLDER).")
        parser.add_argument("--limit", type=int, default=200, help="At most this many messages per run.")

    def handle(self, *args, folder: str | None, limit: int, **options):
        if not settings.OTC_IMAP_HOST:
            raise CommandError("OTC_IMAP_HOST is not set: no mailbox to read.")
        mailbox = imap_mailbox()
        try:
            run = fetch_mailbox(mailbox=mailbox, folder=folder or settings.OTC_IMAP_FOLDER, limit=limit)
        except DomainError as error:
            raise CommandError(str(error)) from error
        finally:
            mailbox.logout()
        outcomes: dict[str, int] = {}
        for record in run.records:
            outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "nothing new"
        self.stdout.write(f"{run.fetched} fetched: {summary}.")
        for line in run.failed:
            self.stderr.write(f"failed, left unread: {line}")
