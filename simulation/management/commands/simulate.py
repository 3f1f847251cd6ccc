"""Run the business as if live against an empty database: `manage.py simulate --customers 50 --days 60`."""

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from simulation.business import InvariantBroken, Simulation
from simulation.report import kpis, throughput
from simulation.training import NotATrainingSandbox, wipe_business_records_of_sandbox


class Command(BaseCommand):
    help = "Simulate customers ordering, shipping, invoicing, paying and dunning day by day, checking every invariant."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50)
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--end", type=date.fromisoformat, default=None, help="Last day (default yesterday).")
        parser.add_argument("--json", dest="results", type=Path, default=None, help="Also write the figures here.")
        parser.add_argument(
            "--training",
            action="store_true",
            help="Reset the training company: wipe its business records first (only where TRAINING_SANDBOX is on).",
        )

    def handle(
        self,
        *args,
        customers: int,
        days: int,
        seed: int,
        end: date | None,
        results: Path | None,
        training: bool = False,
        **options,
    ):
        if customers < 1 or days < 1:
            raise CommandError("--customers and --days must be at least 1.")
        if training:
            try:
                wipe_business_records_of_sandbox()
            except NotATrainingSandbox as refused:
                raise CommandError(str(refused)) from refused
        elif (existing := Customer.objects.count()) > 0:
            raise CommandError(
                f"simulate runs against an empty database; this one has {existing} customers. "
                "Point DATABASE_URL at a new database and migrate it first, or reset a training sandbox "
                "with --training."
            )
        simulation = Simulation(customers=customers, days=days, seed=seed, end=end, progress=self._progress)
        try:
            tally = simulation.run()
        except InvariantBroken as broken:
            raise CommandError(f"Invariant broken on {broken}") from broken
        figures = kpis(tally, start=simulation.start, end=simulation.end)
        self.stdout.write(self.style.SUCCESS(f"Simulated {days} days of {customers} customers: every check held."))
        for name, value in figures.items():
            self.stdout.write(f"  {name:48} {value}")
        for line in throughput(tally, simulation.channels.requests):
            self.stdout.write(f"  {line}")
        if results is not None:
            summary = {"customers": customers, "days": days, "seed": seed, "figures": figures}
            results.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")

    def _progress(self, text: str) -> None:
        self.stdout.write(text)
