import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.models import ChangeRequest, Customer, CustomerStatus
from inventory.selectors import stock_discrepancies
from invoicing.models import Invoice
from orders.models import Order, Shipment
from otc.models import User
from payments.models import DunningPolicy, Payment

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_goes_through_the_rules(settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    counts = (Customer.objects.count(), User.objects.count(), ChangeRequest.objects.count(), Invoice.objects.count())
    call_command("seed_demo", stdout=io.StringIO())

    # Shipments of per-shipment customers were invoiced by the outbox handler; monthly ones wait.
    invoiced = Invoice.objects.filter(kind="invoice", shipments__isnull=False).distinct().count()
    monthly = Shipment.objects.filter(order__customer__preferences__invoicing_schedule="monthly").count()
    assert invoiced == Shipment.objects.count() - monthly
    assert invoiced > 0
    assert Invoice.objects.filter(kind="credit_note", reason__startswith="Goodwill").count() == 1
    assert counts == (16, 7, 17, invoiced + 2)  # staff, portal user and the automation account
    assert Invoice.objects.count() == counts[3]
    assert DunningPolicy.objects.get(is_default=True).levels.count() == 3
    (payment,) = Payment.objects.all()
    assert (payment.allocated_amount, payment.allocations.get().invoice.status) == (Decimal("300.00"), "partially_paid")
    assert (Customer.objects.count(), User.objects.count(), ChangeRequest.objects.count()) == counts[:3]
    assert Customer.objects.filter(status=CustomerStatus.ON_HOLD).count() == 1
    assert sorted(Order.objects.values_list("status", flat=True)) == [
        "completed",
        "completed",
        "confirmed",
        "confirmed",
        "on_credit_hold",
        "on_credit_hold",
        "on_credit_hold",
        "partially_shipped",
        "partially_shipped",
        "partially_shipped",
    ]
    assert stock_discrepancies() == []
    assert ChangeRequest.objects.filter(status="pending").count() == 4
    assert User.objects.get(email="buyer@nordwind.example").portal_membership.customer.legal_name == (
        "Nordwind Handel GmbH"
    )


def test_seed_demo_refuses_outside_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not Customer.objects.exists()
