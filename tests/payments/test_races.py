"""Two clerks at once, on real connections: the invariants hold whatever the interleaving."""

from decimal import Decimal

import pytest

from payments.models import Allocation, Payment
from payments.money import services
from payments.money.errors import OverAllocation
from tests.factories import apply
from tests.support.races import race

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def test_two_clerks_allocating_one_payment_at_once_cannot_apply_it_twice(buyer, clerk, approver, invoices):
    first, second = invoices
    payment = services.record_payment(
        customer=buyer, amount=D("238.00"), currency="EUR", method="bank_transfer", source="staff", actor=clerk
    )

    results = race(
        lambda: services.allocate_payment(payment=payment, applications=[apply(second, "238.00")], actor=clerk),
        lambda: services.allocate_payment(payment=payment, applications=[apply(first, "119.00")], actor=approver),
    )

    payment.refresh_from_db()
    assert sum(isinstance(result, OverAllocation) for result in results) == 1
    assert payment.allocated_amount in {D("238.00"), D("119.00")}
    assert Allocation.objects.count() == 1


def test_two_payments_racing_for_one_invoice_never_take_it_below_zero(buyer, clerk, approver, invoices):
    first = invoices[0]
    payments = [
        services.record_payment(
            customer=buyer, amount=D("119.00"), currency="EUR", method="bank_transfer", source="staff", actor=clerk
        )
        for _ in range(2)
    ]

    results = race(
        *[
            lambda payment=payment, actor=actor: services.allocate_payment(
                payment=payment, applications=[apply(first, "119.00")], actor=actor
            )
            for payment, actor in zip(payments, [clerk, approver], strict=True)
        ]
    )

    first.refresh_from_db()
    assert first.open_amount == D("0")
    assert sum(isinstance(result, OverAllocation) for result in results) == 1
    assert sum(p.allocated_amount for p in Payment.objects.all()) == D("119.00")
