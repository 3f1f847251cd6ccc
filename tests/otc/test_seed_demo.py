import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.models import ChangeRequest, Customer, CustomerStatus
from inventory.selectors import stock_discrepancies
from orders.models import Order
from otc.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_goes_through_the_rules(settings):
    settings.DEBUG = True

    call_command("seed_demo", stdout=io.StringIO())
    counts = (Customer.objects.count(), User.objects.count(), ChangeRequest.objects.count())
    call_command("seed_demo", stdout=io.StringIO())

    assert counts == (16, 6, 17)
    assert (Customer.objects.count(), User.objects.count(), ChangeRequest.objects.count()) == counts
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
