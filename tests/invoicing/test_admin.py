"""Invoicing in the admin: the list at a constant query cost and without a full-table COUNT, the
read-only document page, manual entry, issuing, crediting in full or in part and sending again through
the services, refusals for roles without the right, the journal and the trial balance, the company
profile and exchange rates."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from invoicing import services
from invoicing.models import Invoice, InvoiceStatus, StoredDocument
from ledger.models import JournalEntry
from otc.models import CompanyProfile, ExchangeRate, User
from tests.factories import StaffFactory, manual_invoice
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db

INVOICES = "/admin/invoicing/invoice/"
JOURNAL = "/admin/ledger/journalentry/"
D = Decimal


@pytest.fixture
def seller(db) -> User:
    return StaffFactory(email="sam@otc.test", full_name="Sam Sales", groups=["sales"])


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def bulk(client: Client, action: str, invoices, **extra):
    selected = [invoice.pk for invoice in invoices]
    return client.post(INVOICES, {"action": action, "_selected_action": selected, **extra}, follow=True)


def entry_form(customer, *lines: dict, **overrides) -> dict:
    data = {
        "customer": customer.pk,
        "currency": "",
        "po_number": "PO-12",
        "notes": "",
        "issue": "on",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, line in enumerate(lines):
        defaults = {"product": "", "discount_percent": "", "tax_category": ""}
        data |= {f"lines-{index}-{name}": value for name, value in (defaults | line).items()}
    return data | overrides


# -- the list ---------------------------------------------------------------------------------------------


def test_the_invoice_list_costs_the_same_queries_for_2_or_12_and_never_counts_the_table(clerk, customer):
    client = signed_in(clerk)
    for _ in range(2):
        manual_invoice(customer, clerk, ("1", "10", "19"))
    client.get(INVOICES)  # warm caches

    with CaptureQueriesContext(connection) as two:
        response = client.get(INVOICES)
    assert response.status_code == 200
    for _ in range(10):
        manual_invoice(customer, clerk, ("1", "10", "19"))
    with CaptureQueriesContext(connection) as twelve:
        response = client.get(INVOICES)

    assert response.content.decode().count("11.90 EUR") >= 2 * 12  # gross and open
    assert len(twelve) == len(two)
    counts = [query["sql"] for query in twelve.captured_queries if "COUNT(" in query["sql"].upper()]
    assert not [sql for sql in counts if "invoicing_invoice" in sql]


def test_the_list_filters_overdue_invoices_and_searches_po_numbers(clerk, customer):
    client = signed_in(clerk)
    overdue = manual_invoice(customer, clerk, ("1", "100", "19"), issue_date=date(2024, 1, 2), po_number="PO-OLD")
    current = manual_invoice(customer, clerk, ("1", "50", "19"), po_number="PO-NEW")

    overdue_page = client.get(INVOICES, {"overdue": "yes"}).content.decode()
    search_page = client.get(INVOICES, {"q": "PO-NEW"}).content.decode()

    assert overdue.number in overdue_page
    assert current.number not in overdue_page
    assert current.number in search_page
    assert overdue.number not in search_page


# -- the document page ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("company")
def test_the_invoice_page_shows_lines_vat_shipments_credit_notes_postings_and_files(clerk, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)
    note = services.issue_credit_note(
        invoice=invoice,
        actor=clerk,
        reason="2 scratched",
        lines=[services.CreditLine(invoice.lines.get(line_no=1), quantity=D("2"))],
    )
    client = signed_in(clerk)
    pdf = client.get(f"{INVOICES}{invoice.pk}/preview/")
    document = StoredDocument.objects.get(invoice=invoice)

    page = client.get(f"{INVOICES}{invoice.pk}/change/").content.decode()

    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    for text in [
        invoice.number,
        "Product WIDGET",
        "VAT breakdown",
        "100.55",
        "19.10",
        shipment.number,
        note.number,
        f"JE-{JournalEntry.objects.filter(item__document_id=invoice.pk).get().pk}",
        "Trade receivables",
        document.filename,
        f"{INVOICES}{invoice.pk}/preview/",
    ]:
        assert text in page, text
    assert 'name="_save"' not in page
    download = client.get(f"{INVOICES}{invoice.pk}/documents/{document.pk}/")
    assert b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.usefixtures("company")
def test_a_draft_previews_as_html(clerk, customer):
    draft = manual_invoice(customer, clerk, ("1", "100", "19"), issue=False)

    response = signed_in(clerk).get(f"{INVOICES}{draft.pk}/preview/")

    assert response.status_code == 200
    assert "Service 1" in response.content.decode()
    assert not StoredDocument.objects.exists()


# -- manual entry -----------------------------------------------------------------------------------------


def test_a_manual_invoice_entered_in_the_admin_is_priced_and_issued_by_the_service(clerk, customer, widget):
    response = signed_in(clerk).post(
        f"{INVOICES}add/",
        entry_form(
            customer,
            {"description": "Installation", "quantity": "3", "unit_price": "33.33", "tax_rate": "19"},
            {"description": "Widget", "product": widget.pk, "quantity": "2", "unit_price": "10", "tax_rate": ""},
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    invoice = Invoice.objects.get()
    assert response["Location"] == f"{INVOICES}{invoice.pk}/change/"
    assert (invoice.status, invoice.po_number, invoice.created_by) == (InvoiceStatus.ISSUED, "PO-12", clerk)
    # 99.99 + 20.00 = 119.99 net, 19 % on each group: 19.00 + 3.80
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("119.99"), D("22.80"), D("142.79"))
    assert invoice.lines.get(line_no=2).sku == "WIDGET"


def test_a_manual_invoice_the_service_refuses_shows_why_and_writes_nothing(clerk, customer):
    response = signed_in(clerk).post(
        f"{INVOICES}add/",
        entry_form(customer, {"description": "Consulting", "quantity": "1", "unit_price": "100", "tax_rate": ""}),
    )

    assert response.status_code == 200
    assert "A line without a product needs a tax rate." in response.content.decode()
    assert not Invoice.objects.exists()


# -- actions ----------------------------------------------------------------------------------------------


def test_issuing_selected_drafts_numbers_and_posts_them(clerk, customer):
    drafts = [manual_invoice(customer, clerk, ("1", "10", "19"), issue=False) for _ in range(2)]

    response = bulk(signed_in(clerk), "issue_selected", drafts)

    assert "Issued 2 invoice(s)." in messages_of(response)
    assert {invoice.status for invoice in Invoice.objects.all()} == {InvoiceStatus.ISSUED}
    assert all(invoice.number for invoice in Invoice.objects.all())


def test_crediting_in_full_asks_for_a_reason_and_credits_through_the_service(clerk, customer):
    invoice = manual_invoice(customer, clerk, ("2", "50", "19"))
    client = signed_in(clerk)
    url = f"{INVOICES}{invoice.pk}/credit/"

    assert "reason" in client.get(url).content.decode()
    assert client.post(url, {"reason": ""}).status_code == 200  # the reason is required
    response = client.post(url, {"reason": "contract cancelled"}, follow=True)

    assert "Credit note for" in " ".join(messages_of(response))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount, invoice.credited_amount) == (InvoiceStatus.CREDITED, 0, D("119.00"))
    assert invoice.credit_notes.get().reason == "contract cancelled"


def test_bulk_credit_in_full_credits_each_and_reports_refusals(clerk, customer):
    issued = manual_invoice(customer, clerk, ("1", "10", "19"))
    draft = manual_invoice(customer, clerk, ("1", "10", "19"), issue=False)
    client = signed_in(clerk)

    asked = bulk(client, "credit_selected", [issued, draft])
    response = bulk(client, "credit_selected", [issued, draft], apply="1", reason="duplicate")

    assert "reason" in asked.content.decode()
    texts = messages_of(response)
    assert "Issued 1 credit note(s)." in texts
    assert any("cannot be credited" in text for text in texts)
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.CREDITED
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_a_partial_credit_note_by_quantity_and_amount_and_an_over_credit_refused(clerk, customer):
    invoice = manual_invoice(customer, clerk, ("4", "25", "19"), ("1", "80", "7"))
    first, second = invoice.lines.order_by("line_no")
    client = signed_in(clerk)
    url = f"{INVOICES}{invoice.pk}/credit-note/"

    too_much = client.post(url, {"reason": "returned", f"quantity_{first.pk}": "5"}, follow=True)
    assert any("left to credit" in text for text in messages_of(too_much))
    assert not Invoice.objects.filter(kind="credit_note").exists()

    client.post(url, {"reason": "one back, discount", f"quantity_{first.pk}": "1", f"amount_{second.pk}": "10"})

    note = Invoice.objects.get(kind="credit_note")
    assert (note.net_total, note.tax_total, note.gross_total) == (D("35.00"), D("5.45"), D("40.45"))
    invoice.refresh_from_db()
    assert invoice.open_amount == D("164.15")


@pytest.mark.usefixtures("company")
def test_sending_again_records_the_request_for_the_outbox(clerk, customer):
    invoice = manual_invoice(customer, clerk, ("1", "10", "19"))

    response = signed_in(clerk).post(f"{INVOICES}{invoice.pk}/resend/", {"reason": "lost in spam"}, follow=True)

    assert f"{invoice} will be sent again." in messages_of(response)
    event = OutboxEvent.objects.get(event_type="invoice.resend_requested")
    assert (event.payload["invoice_id"], event.payload["reason"]) == (invoice.pk, "lost in spam")


def test_sales_may_read_invoices_but_not_issue_or_credit_them(seller, clerk, customer):
    invoice = manual_invoice(customer, clerk, ("1", "10", "19"))
    draft = manual_invoice(customer, clerk, ("1", "10", "19"), issue=False)
    client = signed_in(seller)

    assert client.get(INVOICES).status_code == 200
    assert client.get(f"{INVOICES}{invoice.pk}/change/").status_code == 200
    assert client.post(f"{INVOICES}{invoice.pk}/credit/", {"reason": "x"}).status_code == 403
    assert client.post(f"{INVOICES}{draft.pk}/issue/").status_code == 403
    assert client.get(f"{INVOICES}add/").status_code == 403
    bulk(client, "issue_selected", [draft])
    assert client.get(f"{JOURNAL}trial-balance/").status_code == 403

    draft.refresh_from_db()
    invoice.refresh_from_db()
    assert (draft.status, invoice.status) == (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED)


# -- the ledger -------------------------------------------------------------------------------------------


def test_the_journal_lists_entries_with_constant_queries_and_the_trial_balance_verifies(clerk, customer):
    client = signed_in(clerk)
    invoice = manual_invoice(customer, clerk, ("1", "100", "19"))
    client.get(JOURNAL)
    with CaptureQueriesContext(connection) as one:
        client.get(JOURNAL)
    for _ in range(5):
        manual_invoice(customer, clerk, ("1", "10", "19"))
    with CaptureQueriesContext(connection) as six:
        page = client.get(JOURNAL).content.decode()

    assert len(six) == len(one)
    assert invoice.number in page
    assert "119.00 EUR" in page
    balance = client.get(f"{JOURNAL}trial-balance/").content.decode()
    assert "The ledger verifies." in balance
    assert "1200 Trade receivables" in balance
    assert "178.50" in balance  # 119.00 + 5 × 11.90


# -- settings ---------------------------------------------------------------------------------------------


def test_the_company_profile_is_added_once_and_then_only_changed(clerk):
    client = signed_in(clerk)
    assert client.get("/admin/otc/companyprofile/")["Location"] == "/admin/otc/companyprofile/add/"
    form = {
        "legal_name": "OTC Supplies GmbH",
        "line1": "Speicherstadt 1",
        "line2": "",
        "postal_code": "20457",
        "city": "Hamburg",
        "country": "DE",
        "tax_id": "DE123456789",
        "registration": "",
        "peppol_scheme": "",
        "peppol_id": "",
        "contact_name": "Debitorenbuchhaltung",
        "email": "billing@otc.example",
        "phone": "",
        "website": "",
        "bank_name": "Hamburger Sparkasse",
        "iban": "DE89370400440532013000",
        "bic": "",
        "legal_text": "",
        "payment_instructions": "",
        "_save": "Save",
    }

    refused = client.post("/admin/otc/companyprofile/add/", form | {"peppol_scheme": "0088", "peppol_id": "1"})
    assert "1 is not a GLN (13 digits with a GS1 check digit)." in refused.content.decode()
    assert client.post("/admin/otc/companyprofile/add/", form | {"peppol_scheme": "9930"}).status_code == 302

    assert CompanyProfile.objects.values_list("pk", "peppol_scheme", "peppol_id", "contact_name").get() == (
        1,
        "9930",
        "DE123456789",
        "Debitorenbuchhaltung",
    )
    assert client.get("/admin/otc/companyprofile/")["Location"] == "/admin/otc/companyprofile/1/change/"
    assert client.get("/admin/otc/companyprofile/add/").status_code == 403


def test_exchange_rates_must_be_positive(clerk):
    client = signed_in(clerk)
    form = {"currency": "USD", "rate_date": "2025-01-02", "rate": "-0.9", "source": "ECB", "_save": "Save"}

    refused = client.post("/admin/otc/exchangerate/add/", form)
    accepted = client.post("/admin/otc/exchangerate/add/", form | {"rate": "0.91234567"})

    assert "A rate must be more than zero." in refused.content.decode()
    assert accepted.status_code == 302
    assert ExchangeRate.objects.get().rate == D("0.91234567")


# -- e-invoices ---------------------------------------------------------------------------------------------


def test_issuing_warns_when_the_e_invoice_cannot_name_the_buyer_on_peppol(clerk, customer, company):
    draft = manual_invoice(customer, clerk, ("1", "100", "19"), issue=False)

    response = signed_in(clerk).post(f"{INVOICES}{draft.pk}/issue/", {}, follow=True)

    draft.refresh_from_db()
    assert draft.status == InvoiceStatus.ISSUED
    assert f"{customer} has neither a Peppol ID nor a VAT ID to derive one from" in " ".join(messages_of(response))
    assert "PEPPOL-EN16931-R010" in response.content.decode()  # the invoice page says it too


def test_checking_the_e_invoice_lists_each_broken_rule_and_passes_once_fixed(clerk, customer, company):
    invoice = manual_invoice(customer, clerk, ("1", "100", "19"))
    client = signed_in(clerk)

    refused = messages_of(client.get(f"{INVOICES}{invoice.pk}/check-einvoice/", follow=True))
    Customer.objects.filter(pk=customer.pk).update(peppol_scheme="0088", peppol_id="4012345000009")
    passed = messages_of(client.get(f"{INVOICES}{invoice.pk}/check-einvoice/", follow=True))

    assert refused[0] == "UBL breaks: [PEPPOL-EN16931-R010] Buyer electronic address MUST be provided"
    assert refused[1].startswith("CII passes XSD, facturx-en16931 (")
    assert passed[0].startswith("UBL passes XSD, cen-ubl, peppol-ubl (")
    assert not StoredDocument.objects.filter(invoice=invoice).exists()


def test_an_issued_invoice_downloads_as_pdf_ubl_and_factur_x_whatever_the_customer_receives(clerk, customer, company):
    invoice = manual_invoice(customer, clerk, ("1", "100.00", "19"))
    draft = manual_invoice(customer, clerk, ("1", "100.00", "19"), issue=False)
    client = signed_in(clerk)
    page = client.get(f"{INVOICES}{invoice.pk}/change/").content.decode()
    assert all(f"{INVOICES}{invoice.pk}/download-{kind}/" in page for kind in ("pdf", "ubl", "facturx"))
    assert "download-ubl" not in client.get(f"{INVOICES}{draft.pk}/change/").content.decode()

    refused = client.get(f"{INVOICES}{invoice.pk}/download-ubl/")
    assert refused.status_code == 302
    assert "[PEPPOL-EN16931-R010] Buyer electronic address MUST be provided" in messages_of(refused)[0]
    assert not StoredDocument.objects.filter(invoice=invoice, format="ubl").exists()
    Customer.objects.filter(pk=customer.pk).update(peppol_scheme="0088", peppol_id="4035811991014")

    ubl = client.get(f"{INVOICES}{invoice.pk}/download-ubl/")
    facturx = client.get(f"{INVOICES}{invoice.pk}/download-facturx/")

    assert ubl["Content-Disposition"] == f'attachment; filename="{invoice.number}.xml"'
    assert invoice.number.encode() in b"".join(ubl.streaming_content)
    assert b"".join(facturx.streaming_content).startswith(b"%PDF")
    assert sorted(StoredDocument.objects.filter(invoice=invoice).values_list("format", flat=True)) == [
        "facturx",
        "ubl",
    ]
