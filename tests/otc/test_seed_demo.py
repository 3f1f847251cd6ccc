"""The demo data obeys the rules the product keeps for real data, whatever the seed happens to create."""

import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum

from customers.models import ChangeRequest, Contact, Customer, CustomerStatus
from inventory.selectors import stock_discrepancies
from invoicing.models import DocumentKind, Invoice, InvoiceStatus
from invoicing.selectors import is_on_hold, overdue_condition
from ledger.models import ItemKind, JournalLine
from ledger.selectors import item_for_document
from orders.models import Order, OrderStatus, Shipment
from orders.selectors import backordered_condition
from otc.models import User
from payments.cash_application.selectors import queue_condition
from payments.models import (
    Allocation,
    BankStatementLine,
    DunningLetter,
    DunningPolicy,
    DunningRun,
    InvoiceDunningState,
    Payment,
    PromiseStatus,
    PromiseToPay,
    StatementLineStatus,
)
from service.models import Dispute, DisputeStatus
from workflows.management.commands.seed_demo import DEMO_PASSWORD, PORTAL_USER, STAFF
from workflows.models import EventStatus, OutboxEvent
from workflows.verification import ledger_problems

pytestmark = pytest.mark.django_db
ZERO = Decimal("0")
SEEDED = (
    Customer,
    Contact,
    User,
    ChangeRequest,
    Order,
    Shipment,
    Invoice,
    Payment,
    Allocation,
    JournalLine,
    DunningRun,
    DunningLetter,
    PromiseToPay,
    Dispute,
    BankStatementLine,
)


def seed() -> None:
    """The demo loaded as `make run` loads it."""
    call_command("seed_demo", stdout=io.StringIO())


def rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in SEEDED}


def states_of_what_moves() -> dict[str, list]:
    """The fields a rerun could change without adding a row: statuses, open amounts, dunning levels."""
    return {
        "orders": list(Order.objects.order_by("pk").values_list("status", flat=True)),
        "invoices": list(Invoice.objects.order_by("pk").values_list("status", "open_amount")),
        "customers": list(Customer.objects.order_by("pk").values_list("status", flat=True)),
        "dunning": list(InvoiceDunningState.objects.order_by("invoice_id").values_list("invoice_id", "level")),
        "bank lines": list(BankStatementLine.objects.order_by("pk").values_list("status", flat=True)),
    }


def test_seed_demo_keeps_every_rule_real_data_keeps(settings, django_capture_on_commit_callbacks):
    """Seeded once (it takes a while), then each rule in turn; a second run adds nothing, and changes
    nothing it finds."""
    settings.DEBUG = True
    with django_capture_on_commit_callbacks(execute=True):
        seed()
    seeded, states = rows(), states_of_what_moves()
    seed()

    assert rows() == seeded
    assert states_of_what_moves() == states
    every_event_was_handled_without_error()
    assert ledger_problems() == []
    every_document_is_posted_as_it_stands()
    document_numbers_are_gapless_per_series_and_year()
    payments_never_apply_more_than_they_bring()
    every_customer_can_be_reached_and_shipped_to()
    shipments_are_invoiced_unless_their_customer_is_invoiced_monthly()
    stock_agrees_with_its_moves_and_held_orders_say_why()
    the_demo_shows_each_case_a_new_user_should_meet()
    the_history_leaves_something_on_every_collections_and_cash_screen()
    the_logins_the_readme_prints_work()


def every_event_was_handled_without_error() -> None:
    """Emails, documents, e-invoices and webhooks of the whole history went out: nothing failed or waits."""
    assert OutboxEvent.objects.exists()
    unhandled = OutboxEvent.objects.exclude(status=EventStatus.DONE, last_error="")
    assert list(unhandled.values_list("event_type", "last_error")) == []


def every_document_is_posted_as_it_stands() -> None:
    documents = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).prefetch_related("lines", "tax_breakdown")
    assert documents.filter(kind=DocumentKind.INVOICE).exists()
    for document in documents:
        item_kind = ItemKind.CREDIT_NOTE if document.kind == DocumentKind.CREDIT_NOTE else ItemKind.INVOICE
        item = item_for_document(kind=item_kind, document_id=document.pk)
        on_item = JournalLine.objects.filter(item=item).aggregate(total=Sum("amount"))["total"]
        sign = -1 if document.kind == DocumentKind.CREDIT_NOTE else 1
        assert (document.number, sign * (on_item or ZERO)) == (document.number, document.open_amount)
        assert ZERO <= document.open_amount <= document.gross_total
        assert sum(line.net_amount for line in document.lines.all()) == document.net_total
        assert sum(group.tax_amount for group in document.tax_breakdown.all()) == document.tax_total
        assert document.net_total + document.tax_total == document.gross_total


def document_numbers_are_gapless_per_series_and_year() -> None:
    series: dict[tuple[str, str], list[int]] = defaultdict(list)
    for number in Invoice.objects.exclude(status=InvoiceStatus.DRAFT).values_list("number", flat=True):
        prefix, year, sequence = re.fullmatch(r"([A-Z]+)-(\d{4})-(\d{6})", number).groups()
        series[prefix, year].append(int(sequence))

    assert {prefix for prefix, _year in series} == {"INV", "CN"}
    for numbers in series.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def payments_never_apply_more_than_they_bring() -> None:
    payments = Payment.objects.annotate(applied=Sum("allocations__amount"))
    assert payments.exists()
    for payment in payments:
        assert payment.allocated_amount == (payment.applied or ZERO)
        assert payment.allocated_amount + payment.refunded_amount <= payment.amount
    for allocation in Allocation.objects.select_related("invoice", "payment"):
        assert allocation.invoice.customer_id == allocation.payment.customer_id


def every_customer_can_be_reached_and_shipped_to() -> None:
    assert Customer.objects.filter(contacts__isnull=True).count() == 0
    assert Customer.objects.filter(addresses__isnull=True).count() == 0


def shipments_are_invoiced_unless_their_customer_is_invoiced_monthly() -> None:
    monthly = Shipment.objects.filter(order__customer__preferences__invoicing_schedule="monthly")
    per_shipment = Shipment.objects.exclude(pk__in=monthly)

    assert per_shipment.exists()
    assert per_shipment.filter(invoicing__isnull=True).count() == 0
    assert monthly.filter(invoicing__isnull=False).count() == 0


def stock_agrees_with_its_moves_and_held_orders_say_why() -> None:
    assert stock_discrepancies() == []
    held = Order.objects.filter(status=OrderStatus.ON_CREDIT_HOLD)
    assert held.exists()
    assert held.filter(hold_reason="").count() == 0


def the_demo_shows_each_case_a_new_user_should_meet() -> None:
    """One of each: a credit note, a partly paid invoice, a customer on hold, pending requests, a
    three-level dunning policy, orders shipped in part."""
    assert Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()
    assert Invoice.objects.filter(status=InvoiceStatus.PARTIALLY_PAID).exists()
    assert Customer.objects.filter(status=CustomerStatus.ON_HOLD).exists()
    assert ChangeRequest.objects.filter(status="pending").exists()
    assert Order.objects.filter(status=OrderStatus.PARTIALLY_SHIPPED).exists()
    levels = DunningPolicy.objects.get(is_default=True).levels.order_by("level")
    assert list(levels.values_list("level", flat=True)) == [1, 2, 3]


def the_history_leaves_something_on_every_collections_and_cash_screen() -> None:
    """Whatever day the demo is loaded: an open overdue invoice at every level of the default dunning
    policy, an open dispute holding its invoice, raised on the customer's ticket, a broken promise, bank
    lines waiting in the queue beside one applied automatically, paid invoices, orders in every status,
    one of them held for credit and one waiting for stock."""
    policy_levels = set(DunningPolicy.objects.get(is_default=True).levels.values_list("level", flat=True))
    overdue = Invoice.objects.filter(overdue_condition())
    dunned = set(InvoiceDunningState.objects.filter(invoice__in=overdue).values_list("level", flat=True))
    assert dunned == policy_levels
    assert overdue.filter(dunning_state__isnull=True).exists()  # overdue, its reminder not due yet
    assert DunningLetter.objects.filter(level=max(policy_levels), customer__status=CustomerStatus.ON_HOLD).exists()

    dispute = Dispute.objects.select_related("invoice", "ticket").get(status=DisputeStatus.OPEN)
    assert is_on_hold(dispute.invoice)
    assert list(dispute.ticket.invoices.all()) == [dispute.invoice]
    assert PromiseToPay.objects.filter(status=PromiseStatus.BROKEN).exists()

    queued = BankStatementLine.objects.filter(queue_condition())
    assert queued.count() >= 2
    assert queued.filter(counterparty_name="Hans Meier").exists()  # nobody's customer: applied by hand
    assert BankStatementLine.objects.filter(status=StatementLineStatus.APPLIED, applied_automatically=True).exists()
    assert Invoice.objects.filter(status=InvoiceStatus.PAID, kind=DocumentKind.INVOICE).exists()

    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    assert Order.objects.filter(status=OrderStatus.ON_CREDIT_HOLD).exists()
    assert Order.objects.filter(backordered_condition()).exists()


def the_logins_the_readme_prints_work() -> None:
    for email, *_ in STAFF:
        assert authenticate(email=email, password=DEMO_PASSWORD) is not None, email
    buyer = authenticate(email=PORTAL_USER, password=DEMO_PASSWORD)
    assert buyer.portal_membership.customer.legal_name == "Nordwind Handel GmbH"


def test_seed_demo_refuses_outside_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Customer.objects.exists()
