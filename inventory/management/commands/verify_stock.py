"""Check that every stock level equals the sums of its moves; exit 1 if any does not.

With --rebuild, rewrite the disagreeing levels from the move ledger (the ledger is the truth).
"""

import sys

from django.core.management.base import BaseCommand

from inventory.selectors import stock_discrepancies
from inventory.services import rebuild_stock_levels
from otc.models import User


class Command(BaseCommand):
    help = "Verify stock levels against the move ledger (exit 1 on any difference)."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="Rewrite differing levels from the moves.")
        parser.add_argument("--actor", default="", help="Email of the staff user recorded in the audit trail.")

    def handle(self, *args, rebuild: bool = False, actor: str = "", **options):
        differences = stock_discrepancies()
        for row in differences:
            self.stdout.write(
                f"product {row['product_id']} warehouse {row['warehouse_id']}: level {row['level_on_hand']} on hand "
                f"/ {row['level_reserved']} reserved, moves say {row['moves_on_hand']} / {row['moves_reserved']}"
            )
        if differences and rebuild:
            user = User.objects.filter(email=actor).first() if actor else None
            changed = rebuild_stock_levels(actor=user)
            self.stdout.write(self.style.WARNING(f"Rebuilt {changed} levels from the moves."))
            return
        if differences:
            self.stderr.write(self.style.ERROR(f"{len(differences)} stock levels disagree with the move ledger."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS("Stock levels agree with the move ledger."))
