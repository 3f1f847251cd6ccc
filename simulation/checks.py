"""The invariants a simulated day must end with; each problem in words, none when all hold."""

from django.db import connection
from django.db.models import Count

from inventory.selectors import stock_discrepancies
from invoicing.models import Invoice, NumberSeries
from payments.models import BankStatementLine
from workflows.models import Delivery, DeliveryStatus, EventStatus, OutboxEvent
from workflows.verification import ledger_problems


def day_end_problems() -> list[str]:
    """Ledger, stock, gapless numbers, a drained outbox, and nothing done twice."""
    return [*ledger_problems(), *_stock(), *_numbering(), *_outbox(), *_doubled()]


def _stock() -> list[str]:
    return [
        f"stock of product {row['product_id']} in warehouse {row['warehouse_id']}: level {row['level_on_hand']} "
        f"on hand, moves {row['moves_on_hand']}"
        for row in stock_discrepancies()
    ]


def _numbering() -> list[str]:
    problems = []
    for series in NumberSeries.objects.all():
        prefix = f"{series.code}-{series.year}-"
        used = Invoice.objects.filter(number__startswith=prefix).count()
        if used != series.last_value:
            problems.append(f"series {prefix}: {series.last_value} numbers given, {used} documents carry one")
    return problems


def _outbox() -> list[str]:
    events = OutboxEvent.objects.exclude(status=EventStatus.DONE).values_list("status").annotate(n=Count("id"))
    unsent = {DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP}
    deliveries = Delivery.objects.filter(status__in=unsent).values_list("status").annotate(n=Count("id"))
    return [f"{n} outbox events {status}" for status, n in events] + [
        f"{n} deliveries {status}" for status, n in deliveries
    ]


# Events that announce something happening once to one document: two of them for the same document
# is a doubled publication (or a doubled action).
ONCE_PER_DOCUMENT = {
    "customer.created": "customer_id",
    "order.confirmed": "order_id",
    "shipment.dispatched": "shipment_id",
    "shipment.delivered": "shipment_id",
    "invoice.issued": "invoice_id",
    "payment.received": "payment_id",
    "dispute.opened": "dispute_id",
    "dunning.letter_issued": "letter_id",
}


def _doubled() -> list[str]:
    lines = (
        BankStatementLine.objects.filter(payment__isnull=False)
        .values_list("payment_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.event_type, e.payload ->> o.key, COUNT(*)
              FROM {OutboxEvent._meta.db_table} e
              JOIN unnest(%s::text[], %s::text[]) AS o(event_type, key) ON o.event_type = e.event_type
             GROUP BY 1, 2 HAVING COUNT(*) > 1
            """,  # noqa: S608 - table name
            [list(ONCE_PER_DOCUMENT), list(ONCE_PER_DOCUMENT.values())],
        )
        events = cursor.fetchall()
    return [f"payment {payment} booked for {n} statement lines" for payment, n in lines] + [
        f"event {event_type} published {n} times for document {document}" for event_type, document, n in events
    ]
