"""Paying invoices online from the portal: a checkout for the chosen invoices, the test provider's
hosted page posting its signed notification, and the webhook booking one payment allocated to the
invoices exactly once, however often the notification comes; a ZIP of several invoices."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.test import Client

from customers import services as customer_services
from customers.models import PortalRole
from invoicing import services as invoicing
from invoicing.models import DocumentFormat, InvoiceStatus, StoredDocument
from payments.models import Allocation, Checkout, CheckoutStatus, Payment, PaymentSource
from payments.money import webhooks
from payments.money.providers import TestProvider
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
WEBHOOK = "/api/v1/webhooks/payments/test/"


def invoice_for(customer, clerk, amount: str):
    line = invoicing.ManualLine(description="Service", quantity=D("1"), unit_price=D(amount), tax_rate=D("19"))
    return invoicing.create_manual_invoice(customer=customer, lines=[line], actor=clerk)


@pytest.fixture
def payable(clerk):
    mine = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", tax_id="DE811907980")
    theirs = CustomerFactory(actor=clerk, legal_name="Konkurrenz AG")
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=mine, actor=clerk, email="ap@nordwind.example", roles=[PortalRole.ACCOUNTS_PAYABLE]
        )
    )
    first, second = invoice_for(mine, clerk, "100.00"), invoice_for(mine, clerk, "50.00")
    return client, mine, first, second, invoice_for(theirs, clerk, "70.00")


def post_notification(body: bytes, headers: dict[str, str]):
    return Client().post(
        WEBHOOK,
        body,
        content_type="application/json",
        HTTP_X_OTC_TIMESTAMP=headers["X-OTC-Timestamp"],
        HTTP_X_OTC_SIGNATURE=headers["X-OTC-Signature"],
    )


def test_pay_two_invoices_through_the_test_provider_once(payable):
    client, mine, first, second, _ = payable

    started = client.post("/portal/pay/", {"invoices": [first.pk, second.pk]})

    checkout = Checkout.objects.get()
    assert started["Location"] == f"/portal/pay/test-provider/{checkout.token}/"
    assert (checkout.amount, checkout.currency, checkout.status) == (D("178.50"), "EUR", CheckoutStatus.OPEN)
    assert client.get(started["Location"]).status_code == 200

    paid = client.post(started["Location"])

    assert paid["Location"] == "/portal/invoices/"
    payment = Payment.objects.get()
    assert (payment.customer, payment.amount, payment.source) == (mine, D("178.50"), PaymentSource.PROVIDER)
    allocations = sorted(Allocation.objects.values_list("invoice_id", "amount"))
    assert allocations == [(first.pk, D("119.00")), (second.pk, D("59.50"))]
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert (invoice.open_amount, invoice.status) == (D("0.00"), InvoiceStatus.PAID)
    checkout.refresh_from_db()
    assert (checkout.status, checkout.payment) == (CheckoutStatus.PAID, payment)

    # The provider retries its webhook, and sends a second event for the same checkout: nothing more.
    body, headers = TestProvider().signed_notification(checkout)
    assert post_notification(body, headers).status_code == 200
    assert post_notification(body, headers).json()["number"] == payment.number
    assert client.post(started["Location"]).status_code == 200
    assert Payment.objects.count() == 1
    assert Allocation.objects.count() == 2


def test_the_webhook_books_a_checkout_and_refuses_a_bad_signature_or_amount(payable, clerk):
    client, _mine, first, _, _ = payable
    client.post("/portal/pay/", {"invoices": [first.pk]})
    checkout = Checkout.objects.get()
    body, headers = TestProvider().signed_notification(checkout)

    forged = post_notification(body, {**headers, "X-OTC-Signature": "0" * 64})
    tampered = json.loads(body) | {"amount": "1.00"}
    raw = json.dumps(tampered).encode()
    wrong_amount = post_notification(
        raw,
        {
            "X-OTC-Timestamp": headers["X-OTC-Timestamp"],
            "X-OTC-Signature": webhooks.sign(
                secret="test-provider-secret", timestamp=headers["X-OTC-Timestamp"], body=raw
            ),
        },
    )

    assert forged.status_code == 401
    assert wrong_amount.status_code == 409
    assert not Payment.objects.exists()
    booked = post_notification(body, headers)
    assert booked.status_code == 200
    assert Payment.objects.get().amount == D("119.00")


def test_only_own_open_invoices_can_be_paid(payable, clerk):
    client, _, first, _, foreign = payable

    refused = client.post("/portal/pay/", {"invoices": [first.pk, foreign.pk]})

    assert refused.status_code == 200
    assert not Checkout.objects.exists()
    theirs = Client()
    theirs.force_login(
        customer_services.grant_portal_access(
            customer=foreign.customer, actor=clerk, email="ap@konkurrenz.example", roles=[PortalRole.ACCOUNTS_PAYABLE]
        )
    )
    client.post("/portal/pay/", {"invoices": [first.pk]})
    checkout = Checkout.objects.get()
    assert theirs.get(f"/portal/pay/test-provider/{checkout.token}/").status_code == 404
    assert theirs.post(f"/portal/pay/test-provider/{checkout.token}/").status_code == 404
    assert not Payment.objects.exists()


def test_download_several_invoices_as_a_zip(payable, company):
    client, _, first, second, foreign = payable

    response = client.get(f"/portal/invoices/download/?format=ubl&invoice={first.pk}&invoice={second.pk}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert sorted(names) == sorted(f"{invoice.number}.xml" for invoice in (first, second))
    assert client.get(f"/portal/invoices/download/?invoice={first.pk}&invoice={foreign.pk}").status_code == 404


def test_an_e_invoice_that_cannot_be_made_is_explained_not_a_server_error(clerk, company):
    without_address = CustomerFactory(actor=clerk, legal_name="Ohne Adresse KG")
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=without_address, actor=clerk, email="ap@ohne.example", roles=[PortalRole.ACCOUNTS_PAYABLE]
        )
    )
    invoice = invoice_for(without_address, clerk, "100.00")

    single = client.get(f"/portal/invoices/{invoice.pk}/ubl/", follow=True)
    several = client.get(f"/portal/invoices/download/?format=ubl&invoice={invoice.pk}", follow=True)

    for response, page in ((single, f"/portal/invoices/{invoice.pk}/"), (several, "/portal/invoices/")):
        assert response.redirect_chain == [(page, 302)]
        assert "PEPPOL-EN16931-R010" in response.content.decode()
        assert "Download the PDF instead" in response.content.decode()
    assert not StoredDocument.objects.filter(invoice=invoice, format=DocumentFormat.UBL).exists()
