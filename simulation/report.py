"""The figures a simulated run ends with: what finance, sales and operations would look at."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum

from analytics.selectors.receivables import Period, days_sales_outstanding
from invoicing.models import Invoice
from otc.money import quantize
from payments.models import DunningLetter
from simulation.business import Tally
from simulation.channels import Requests


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def kpis(tally: Tally, *, start: date, end: date) -> dict[str, str]:
    period = Period(max(start, end - timedelta(days=89)), end)
    dso = days_sales_outstanding(period=period)
    letters = dict(DunningLetter.objects.values_list("level").annotate(n=Count("id")).order_by("level"))
    open_total = Invoice.objects.filter(open_amount__gt=0).aggregate(total=Sum("open_amount"))["total"]
    return {
        f"DSO, standard ({period.start} to {period.end})": f"{dso.standard} days",
        "DSO, count-back": f"{dso.count_back} days",
        "Orders taken": str(tally.orders),
        "Orders held for credit / released / cancelled": (
            f"{tally.orders_held} / {tally.holds_released} / {tally.holds_cancelled}"
        ),
        "Orders shipped within two days": _percent(tally.shipped_within_two_days, tally.orders_shipped),
        "Shipments invoiced": str(tally.invoices),
        "Stock receipts": str(tally.stock_receipts),
        "Bank lines": str(tally.bank_lines),
        "Touchless cash application": _percent(tally.applied_automatically, tally.bank_lines),
        "Lines applied by the clerk": str(tally.applied_by_clerk),
        "Lines applied to the wrong invoice": str(tally.applied_wrongly),
        "Dunning letters per level": ", ".join(f"level {level}: {n}" for level, n in letters.items()) or "none",
        "Disputes opened / resolved": f"{tally.disputes_opened} / {tally.disputes_resolved}",
        "Orders by door": ", ".join(f"{door}: {n}" for door, n in sorted(tally.orders_by_door.items())) or "none",
        "Service desk tickets opened / solved": f"{tally.tickets_opened} / {tally.tickets_solved}",
        "Surveys sent / answered": f"{tally.surveys_sent} / {len(tally.csat_scores)}",
        "CSAT (answers of 4 or 5)": _percent(sum(score >= 4 for score in tally.csat_scores), len(tally.csat_scores)),
        "Emails sent (confirmations, shipments, invoices, letters)": str(tally.emails),
        "Receivables open at the end": f"{quantize(open_total or Decimal(0), 'EUR')} EUR",
    }


def throughput(tally: Tally, requests: Requests) -> list[str]:
    """Seconds per stage over the run, the slowest single days of a stage, and the slowest requests."""
    lines = [
        f"{name:40} {tally.stage_calls[name]:5} days {seconds:8.1f} s  {seconds / tally.stage_calls[name]:6.3f} s/day"
        for name, seconds in tally.stage_seconds.most_common()
    ]
    lines += [f"slowest: {name} on {day}, {seconds:.2f} s" for seconds, name, day in tally.slowest]
    lines += [f"requests served: {door} {n}" for door, n in sorted(requests.served.items())]
    lines += [f"slowest request: {what}, {seconds * 1000:.0f} ms" for seconds, what in requests.slowest]
    return lines
