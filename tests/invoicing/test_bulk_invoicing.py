"""Bulk invoicing writes, per shipment, exactly what invoicing one shipment at a time writes."""

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pghistory.models import Events

from customers.models import InvoicingSchedule, Preferences
from inventory.models import PriceList, PriceListItem
from invoicing import services
from invoicing.bulk_invoicing import invoice_shipments_in_bulk
from invoicing.models import Invoice, InvoicedShipment, InvoiceStatus
from ledger.models import JournalEntry, JournalLine
from orders import services as orders
from otc.models import ExchangeRate
from tests.factories import placed_order, ship
from tests.support.races import in_thread
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = Decimal
VOLATILE = {"id", "number", "order", "created_at", "updated_at", "issued_at"}


def confirmed(clerk, customer, widget, manual, *, currency: str | None = None):
    """The `confirmed_order` fixture's order, as many times as a test needs it."""
    return placed_order(
        customer,
        clerk,
        (widget, "3", "5"),
        (manual, "2"),
        currency=currency,
        discount_percent=D("2"),
        po_number="PO-4711",
    )


def shipments(count: int, clerk, customer, widget, manual) -> list:
    return [ship(confirmed(clerk, customer, widget, manual), clerk) for _ in range(count)]


def issued_for(shipment) -> Invoice:
    return InvoicedShipment.objects.select_related("invoice").get(shipment=shipment).invoice


def comparable(invoice: Invoice) -> dict:
    """Everything the invoice wrote, but what differs between two invoices of two identical orders."""
    return {
        "invoice": {
            k: v for k, v in Invoice.objects.values().get(pk=invoice.pk).items() if k not in VOLATILE | {"order_id"}
        },
        "lines": list(
            invoice.lines.order_by("line_no").values(
                "line_no",
                "product",
                "sku",
                "gtin",
                "description",
                "quantity",
                "unit",
                "unit_price",
                "discount_percent",
                "tax_category",
                "tax_rate",
                "tax_note",
                "net_amount",
                "order_line__line_no",
            )
        ),
        "breakdown": list(
            invoice.tax_breakdown.values("tax_category", "tax_rate", "taxable_amount", "tax_amount", "exemption_reason")
        ),
        "entries": list(
            JournalEntry.objects.filter(item__document_id=invoice.pk).values(
                "posted_on", "kind", "source", "created_by", "reverses"
            )
        ),
        "ledger": list(
            JournalLine.objects.filter(entry__item__document_id=invoice.pk)
            .order_by("pk")
            .values("account", "customer", "currency", "amount", "amount_company")
        ),
        "audit": list(
            Events.objects.tracks(invoice).order_by("pgh_created_at", "pgh_id").values_list("pgh_label", flat=True)
        ),
    }


def test_a_bulk_invoice_is_the_invoice_of_the_one_by_one_path(clerk, customer, widget, manual):
    one, other = shipments(2, clerk, customer, widget, manual)
    single = services.invoice_shipments(shipments=[one], actor=clerk)

    assert invoice_shipments_in_bulk(shipment_ids=[other.pk], actor=clerk) == 1

    bulk = issued_for(other)
    assert comparable(bulk) == comparable(single)
    assert (bulk.status, bulk.order_id, bulk.net_total, bulk.tax_total) == (
        InvoiceStatus.ISSUED,
        other.order_id,
        D("67.11"),
        D("8.05"),
    )
    assert JournalEntry.objects.filter(item__document_id=bulk.pk).get().memo == f"{bulk.number} Nordwind Handel GmbH"
    assert list(bulk.lines.values_list("shipment_line__shipment", flat=True)) == [other.pk, other.pk]
    reasons = {event.pgh_context["reason"] for event in Events.objects.tracks(bulk)}
    assert reasons == {"bulk invoicing"}


def test_numbers_are_gapless_and_follow_the_shipments_across_batches(clerk, confirmed_order):
    five = [ship(confirmed_order, clerk, WIDGET="1") for _ in range(5)]

    assert invoice_shipments_in_bulk(shipment_ids=[s.pk for s in reversed(five)], actor=clerk, batch_size=2) == 5

    year = timezone.localdate().year
    assert [issued_for(s).number for s in five] == [f"INV-{year}-{n:06d}" for n in range(1, 6)]
    assert services.take_numbers(kind="invoice", year=year) == [f"INV-{year}-000006"]


def test_an_invoiced_shipment_is_skipped_not_invoiced_twice(clerk, customer, widget, manual):
    invoiced, new = shipments(2, clerk, customer, widget, manual)
    first = services.invoice_shipments(shipments=[invoiced], actor=clerk)

    assert invoice_shipments_in_bulk(shipment_ids=[invoiced.pk, new.pk], actor=clerk) == 1
    assert invoice_shipments_in_bulk(shipment_ids=[invoiced.pk, new.pk], actor=clerk) == 0

    assert issued_for(invoiced) == first
    assert Invoice.objects.count() == 2


def test_the_outbox_gets_one_invoice_issued_event_per_invoice(clerk, customer, widget, manual):
    three = shipments(3, clerk, customer, widget, manual)

    invoice_shipments_in_bulk(shipment_ids=[s.pk for s in three], actor=clerk, batch_size=2)

    events = OutboxEvent.objects.filter(event_type="invoice.issued")
    assert sorted(event.payload["invoice_id"] for event in events) == sorted(issued_for(s).pk for s in three)
    assert {event.payload["actor_id"] for event in events} == {clerk.pk}


def test_a_batch_costs_the_same_queries_for_two_shipments_as_for_six(clerk, customer, widget, manual):
    two, six = shipments(2, clerk, customer, widget, manual), shipments(6, clerk, customer, widget, manual)

    with CaptureQueriesContext(connection) as for_two:
        invoice_shipments_in_bulk(shipment_ids=[s.pk for s in two], actor=clerk)
    with CaptureQueriesContext(connection) as for_six:
        invoice_shipments_in_bulk(shipment_ids=[s.pk for s in six], actor=clerk)

    assert len(for_six) == len(for_two)
    assert Invoice.objects.count() == 8


def test_a_foreign_currency_invoice_carries_the_rate_of_the_issue_day(
    clerk, customer, widget, manual, credit_controller
):
    usd = PriceList.objects.create(name="List USD", currency="USD", valid_from=date(2020, 1, 1))
    for product, price in ((widget, "11.00"), (manual, "21.99")):
        PriceListItem.objects.create(price_list=usd, product=product, unit_price=price)
    ExchangeRate.objects.create(currency="USD", rate_date=date(2020, 1, 1), rate=D("0.91234567"))
    held = confirmed(clerk, customer, widget, manual, currency="USD")  # a foreign currency needs review
    dollars = ship(orders.release_credit_hold(order=held, actor=credit_controller, reason="paid in advance"), clerk)
    (euros,) = shipments(1, clerk, customer, widget, manual)

    invoice_shipments_in_bulk(shipment_ids=[dollars.pk, euros.pk], actor=clerk)

    invoice = issued_for(dollars)
    assert (invoice.currency, invoice.exchange_rate, invoice.company_currency) == ("USD", D("0.91234567"), "EUR")
    receivable = JournalLine.objects.filter(entry__item__document_id=invoice.pk, amount__gt=0).get()
    assert receivable.amount == invoice.gross_total
    assert receivable.amount_company == (invoice.gross_total * D("0.91234567")).quantize(D("0.01"))
    assert issued_for(euros).exchange_rate == 1


@pytest.mark.django_db(transaction=True)
def test_a_shipment_being_invoiced_by_another_transaction_is_left_to_it(clerk, customer, widget, manual):
    """The bulk claim waits for the other transaction and, once it commits, skips that shipment."""
    Preferences.objects.filter(customer=customer).update(invoicing_schedule=InvoicingSchedule.MONTHLY)
    contested, free = shipments(2, clerk, customer, widget, manual)
    invoiced, release = threading.Event(), threading.Event()

    def invoice_one_by_one() -> None:
        with transaction.atomic():
            services.invoice_shipments(shipments=[contested], actor=clerk)
            invoiced.set()
            release.wait(10)

    other = threading.Thread(target=in_thread(invoice_one_by_one))
    other.start()
    assert invoiced.wait(10)
    result: list[int] = []
    bulk = threading.Thread(
        target=in_thread(
            lambda: result.append(invoice_shipments_in_bulk(shipment_ids=[contested.pk, free.pk], actor=clerk))
        )
    )
    bulk.start()
    wait_until_blocked()
    release.set()
    other.join(10)
    bulk.join(10)

    assert result == [1]
    assert InvoicedShipment.objects.filter(shipment__in=[contested, free]).count() == 2
    assert Invoice.objects.count() == 2


def wait_until_blocked() -> None:
    """Until some backend waits for a lock: the bulk claim, waiting on the uncommitted invoice."""
    for _ in range(100):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the bulk run never waited for the other transaction")
