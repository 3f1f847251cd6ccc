"""Check the receivables ledger: trial balance zero, every entry balanced, each customer's
receivable equal to their open items, and unapplied payments equal to what payments have left.
Exits 1 on any problem, so cron and CI can alert on it."""

import sys

from django.core.management.base import BaseCommand

from ledger.selectors import trial_balance
from workflows.verification import ledger_problems


class Command(BaseCommand):
    help = "Verify the receivables ledger (exit 1 on any problem)."

    def add_arguments(self, parser):
        parser.add_argument("--trial-balance", action="store_true", help="Print the trial balance too.")

    def handle(self, *args, **options):
        if options["trial_balance"]:
            for row in trial_balance():
                self.stdout.write(
                    f"{row.code} {row.name:<32} {row.currency} debit {row.debit:>16} credit {row.credit:>16}"
                )
        problems = ledger_problems()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            self.stderr.write(self.style.ERROR(f"The ledger does not verify: {len(problems)} problems."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("The ledger verifies: trial balance zero, receivables equal open items."))
