from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services as customer_services
from invoicing import services as invoicing
from invoicing.models import StoredDocument
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal


def manual_invoice(customer, clerk, amount: str, **options):
    line = invoicing.ManualLine(description="Installation", quantity=D("1"), unit_price=D(amount), tax_rate=D("19"))
    return invoicing.create_manual_invoice(customer=customer, lines=[line], actor=clerk, **options)


@pytest.fixture
def portal(client, clerk, company):
    mine = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    theirs = CustomerFactory(actor=clerk, legal_name="Konkurrenz AG")
    my_invoice = manual_invoice(mine, clerk, "100.00")
    draft = manual_invoice(mine, clerk, "55.00", issue=False)
    their_invoice = manual_invoice(theirs, clerk, "70.00")
    client.force_login(customer_services.grant_portal_access(customer=mine, actor=clerk, email="b@nordwind.example"))
    return client, my_invoice, draft, their_invoice


def test_the_portal_lists_the_customers_issued_invoices_only(portal, clerk, django_assert_max_num_queries):
    client, mine, draft, theirs = portal
    note = invoicing.issue_credit_note(invoice=mine, actor=clerk, reason="Installation cancelled")

    with django_assert_max_num_queries(8):
        response = client.get("/portal/invoices/")

    content = response.content.decode()
    assert response.status_code == 200
    assert mine.number in content
    assert note.number in content
    assert "−119.00 EUR" in content
    assert theirs.number not in content
    assert f"/portal/invoices/{draft.pk}/" not in content


def test_an_invoice_page_shows_lines_vat_and_downloads_and_others_are_404(portal):
    client, mine, draft, theirs = portal

    response = client.get(f"/portal/invoices/{mine.pk}/")

    assert response.status_code == 200
    assert "VAT 19% on 100.00" in response.content.decode()
    assert "119.00 EUR" in response.content.decode()
    assert client.get(f"/portal/invoices/{theirs.pk}/").status_code == 404
    assert client.get(f"/portal/invoices/{draft.pk}/").status_code == 404
    assert client.get(f"/portal/invoices/{theirs.pk}/pdf/").status_code == 404
    assert client.get(f"/portal/invoices/{mine.pk}/exe/").status_code == 404


def test_the_pdf_is_rendered_once_and_served_from_storage(portal):
    client, mine, _, _ = portal

    first = client.get(f"/portal/invoices/{mine.pk}/pdf/")
    second = client.get(f"/portal/invoices/{mine.pk}/pdf/")

    assert first.status_code == second.status_code == 200
    body = b"".join(first.streaming_content)
    assert body.startswith(b"%PDF")
    assert body == b"".join(second.streaming_content)
    assert first["Content-Disposition"] == f'attachment; filename="{mine.number}.pdf"'
    assert StoredDocument.objects.filter(invoice=mine, format="pdf").count() == 1


def test_the_statement_shows_the_periods_movements_and_balances(portal):
    client, mine, _, _ = portal
    today = timezone.localdate()

    response = client.get(f"/portal/statement/?start={today:%Y-%m-%d}&end={today:%Y-%m-%d}")
    backwards = client.get(f"/portal/statement/?start={today:%Y-%m-%d}&end=2000-01-01")

    content = response.content.decode()
    assert response.status_code == 200
    assert mine.number in content
    assert "119.00 EUR" in content  # closing balance
    assert "The period ends before it starts." in backwards.content.decode()
