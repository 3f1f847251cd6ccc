"""Consolidated invoicing: one invoice per customer and period for customers billed on a schedule."""

from collections import defaultdict
from datetime import date, timedelta

from django.utils import timezone

from customers.models import InvoicingSchedule
from invoicing.errors import (
    AlreadyInvoiced,
)
from invoicing.models import (
    Invoice,
)
from invoicing.services.drafting import invoice_shipments
from orders.models import Shipment
from otc.models import User


def consolidation_cutoff(schedule: str, today: date) -> date:
    """Shipments dispatched before this day are due on a consolidated invoice."""
    if schedule == InvoicingSchedule.WEEKLY:
        return today - timedelta(days=today.weekday())
    return today.replace(day=1)


def invoice_consolidated_shipments(*, actor: User, today: date | None = None) -> list[Invoice]:
    """The daily job: one invoice per customer and currency for the shipments of the period that
    ended, for customers invoiced weekly or monthly; and, for everyone else, any shipment of an
    earlier day still uninvoiced (its customer was switched from a consolidated schedule, or its
    event failed). Running it again finds nothing new."""
    today = today or timezone.localdate()
    groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    uninvoiced = Shipment.objects.filter(invoicing__isnull=True).order_by("dispatched_at", "pk")
    for schedule in (InvoicingSchedule.WEEKLY, InvoicingSchedule.MONTHLY):
        due = uninvoiced.filter(
            order__customer__preferences__invoicing_schedule=schedule,
            dispatched_at__date__lt=consolidation_cutoff(schedule, today),
        ).values_list("order__customer_id", "order__currency", "pk")
        for customer_id, currency, shipment_id in due:
            groups[(customer_id, currency, schedule)].append(shipment_id)
    stranded = uninvoiced.filter(dispatched_at__date__lt=today).exclude(
        order__customer__preferences__invoicing_schedule__in=[InvoicingSchedule.WEEKLY, InvoicingSchedule.MONTHLY]
    )
    for shipment_id in stranded.values_list("pk", flat=True):
        groups[(shipment_id, "", InvoicingSchedule.PER_SHIPMENT)].append(shipment_id)
    invoices = []
    for shipment_ids in groups.values():
        try:
            invoices.append(
                invoice_shipments(shipments=list(Shipment.objects.filter(pk__in=shipment_ids)), actor=actor)
            )
        except AlreadyInvoiced:
            continue  # the dispatch handler got there first
    return invoices
