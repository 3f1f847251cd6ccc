"""The RF creditor reference (ISO 11649) and the EPC QR code on the portal's invoice page."""

from decimal import Decimal

import pytest
from django.test import Client

from customers import services as customer_services
from customers.models import PortalRole
from invoicing import services as invoicing
from invoicing.documents.payment_codes import creditor_reference, is_valid_creditor_reference
from tests.factories import CustomerFactory


def test_creditor_reference_follows_iso_11649():
    assert creditor_reference("539007547034") == "RF18539007547034"  # the standard's example
    assert creditor_reference("INV-2026-000123") == "RF98INV2026000123"
    assert is_valid_creditor_reference("RF18 5390 0754 7034")
    assert not is_valid_creditor_reference("RF19539007547034")
    assert not is_valid_creditor_reference("INV-2026-000123")


@pytest.mark.django_db
def test_the_invoice_page_shows_the_reference_and_a_girocode(clerk, company):
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    line = invoicing.ManualLine(
        description="Service", quantity=Decimal("1"), unit_price=Decimal("100"), tax_rate=Decimal("19")
    )
    invoice = invoicing.create_manual_invoice(customer=customer, lines=[line], actor=clerk)
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=customer, actor=clerk, email="ap@nordwind.example", roles=[PortalRole.ACCOUNTS_PAYABLE]
        )
    )

    page = client.get(f"/portal/invoices/{invoice.pk}/").content.decode()

    assert creditor_reference(invoice.number) in page
    assert is_valid_creditor_reference(creditor_reference(invoice.number))
    assert "DE89370400440532013000" in page
    assert 'src="data:image/svg+xml' in page
    assert "119.00 EUR" in page
