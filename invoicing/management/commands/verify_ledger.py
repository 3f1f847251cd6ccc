"""Check the receivables ledger: trial balance zero, every entry balanced, and each customer's
receivable equal to their open items. Exits 1 on any problem, so cron and CI can alert on it."""

import sys

from django.core.management.base import BaseCommand

from invoicing import selectors


class Command(BaseCommand):
    help = "Verify the receivables ledger (exit 1 on any problem)."

    def add_arguments(self, parser):
        parser.add_argument("--trial-balance", action="store_true", help="Print the trial balance too.")

    def handle(self, *args, **options):
        if options["trial_balance"]:
            for row in selectors.trial_balance():
                self.stdout.write(
                    f"{row.code} {row.name:<32} {row.currency} debit {row.debit:>16} credit {row.credit:>16}"
                )
        problems = selectors.ledger_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            self.stderr.write(self.style.ERROR(f"The ledger does not verify: {len(problems)} problems."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("The ledger verifies: trial balance zero, receivables equal open items."))
