""" "Register payment" on an invoice: the amount starts at what is open, the payment is booked in the
invoice's currency and applied to it in one step; more than is open stays as credit; an invoice with
nothing open takes no payment and offers none."""

from decimal import Decimal

import pytest
from django.test import Client

from invoicing.models import InvoiceStatus
from payments.models import Allocation, Payment
from payments.money import services
from payments.money.errors import NothingOpen
from tests.factories import StaffFactory, allocated_payment, apply, manual_invoice

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def register_url(invoice) -> str:
    return f"/admin/payments/payment/register/{invoice.pk}/"


@pytest.fixture
def invoice(customer, clerk):
    return manual_invoice(customer, clerk, ("1", "100.00", "19"))  # 119.00 open


def test_a_payment_registered_on_an_invoice_is_applied_to_it_and_the_rest_stays_as_credit(invoice, clerk):
    payment = services.register_invoice_payment(invoice=invoice, amount=Decimal("150.00"), method="card", actor=clerk)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, Decimal("0.00"))
    assert (payment.currency, payment.reference, payment.amount) == ("EUR", invoice.number, Decimal("150.00"))
    assert list(Allocation.objects.values_list("invoice", "amount")) == [(invoice.pk, Decimal("119.00"))]
    payment.refresh_from_db()
    assert payment.unallocated_amount == Decimal("31.00")


def test_an_invoice_with_nothing_open_takes_no_payment_and_nothing_is_written(invoice, customer, clerk):
    allocated_payment(customer, clerk, apply(invoice, "119.00"))

    with pytest.raises(NothingOpen):
        services.register_invoice_payment(invoice=invoice, amount=Decimal("10.00"), method="card", actor=clerk)

    assert (Payment.objects.count(), Allocation.objects.count()) == (1, 1)


def test_the_clerk_registers_a_part_payment_from_the_invoice_page(invoice, clerk):
    client = signed_in(clerk)
    page = client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    assert f'href="{register_url(invoice)}"' in page

    form = client.get(register_url(invoice))
    assert form.context["form"].initial["amount"] == Decimal("119.00")
    assert form.context["form"].initial["reference"] == invoice.number

    done = client.post(
        register_url(invoice), {"amount": "100.00", "received_on": "2026-12-01", "method": "bank_transfer"}
    )

    assert done.status_code == 302
    assert done["Location"] == f"/admin/invoicing/invoice/{invoice.pk}/change/"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PARTIALLY_PAID, Decimal("19.00"))
    assert Payment.objects.get().received_on.isoformat() == "2026-12-01"


def test_a_bad_amount_is_shown_on_the_form_and_writes_nothing(invoice, clerk):
    response = signed_in(clerk).post(
        register_url(invoice), {"amount": "0", "received_on": "2026-12-01", "method": "bank_transfer"}
    )

    assert response.status_code == 200
    assert "amount" in response.content.decode().lower()
    assert Payment.objects.count() == 0


def test_the_link_shows_only_while_something_is_open_and_only_to_who_may_record_payments(invoice, customer, clerk):
    sales = StaffFactory(groups=["sales"], totp=False)
    assert (
        register_url(invoice)
        not in signed_in(sales).get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    )
    assert signed_in(sales).get(register_url(invoice)).status_code == 403

    allocated_payment(customer, clerk, apply(invoice, "119.00"))
    page = signed_in(clerk).get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    assert register_url(invoice) not in page
