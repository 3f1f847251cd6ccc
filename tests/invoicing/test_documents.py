import hashlib
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfReader
from stdnum import iso11649

from customers.models import Preferences
from invoicing import services
from invoicing.documents import services as documents
from invoicing.documents.errors import DocumentNotIssued
from invoicing.documents.render import invoice_html, render_invoice_pdf
from invoicing.documents.statements import Aging, statement_of_account
from invoicing.models import DocumentFormat, DocumentKind, StoredDocument
from invoicing.selectors import document_by_number
from otc.document_numbers import creditor_reference
from otc.errors import InvalidInput
from payments.models import PaymentMethod, PaymentSource
from payments.money import services as payments

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "company")]
D = Decimal
# The smallest valid PNG: one transparent pixel.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
    "c0f01f0005000201ffa6d5a5b00000000049454e44ae426082"
)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def manual_invoice(clerk, customer, *, net: str, on: date, rate: str = "19", issue: bool = True, **line):
    return services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        lines=[services.ManualLine("Consulting", D("1"), D(net), tax_rate=D(rate), **line)],
        issue=issue,
        issue_date=on,
    )


def test_an_issued_invoice_pdf_carries_what_finance_needs(clerk, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    text = pdf_text(render_invoice_pdf(invoice))

    assert f"Invoice {invoice.number}" in text
    for expected in (
        "Hanse Werkzeug GmbH",
        "DE123456789",
        "Amtsgericht Hamburg HRB 12345",
        "Nordwind Handel GmbH",
        invoice.customer_snapshot["number"],
        "PO-4711",
        "100.55",  # widget line net
        "58.77",  # manual line net
        "159.32 EUR",
        "23.21 EUR",
        "182.53 EUR",
        "Amount due: 182.53 EUR",
        "DE89 3704 0044 0532 0130 00",
        "HASPDEHHXXX",
        f"Payment reference: {iso11649.format(creditor_reference(invoice.number))} (invoice {invoice.number})",
        "Please quote the invoice number with your payment.",
        "Managing director: Hanna Hanse",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    # The VAT breakdown: 19 % on 100.55 and 7 % on 58.77.
    assert "19 100.55 19.10" in text
    assert "7 58.77 4.11" in text
    assert "DRAFT" not in text


def test_a_draft_is_watermarked_and_a_credit_note_names_the_invoice_it_credits(clerk, customer):
    draft = manual_invoice(clerk, customer, net="100.00", on=date(2026, 3, 2), issue=False)
    assert "DRAFT – not a valid invoice" in pdf_text(render_invoice_pdf(draft))

    invoice = services.issue_invoice(invoice=draft, actor=clerk, issue_date=date(2026, 3, 2))
    note = services.issue_credit_note(invoice=invoice, actor=clerk, reason="Price agreed too high")
    text = pdf_text(render_invoice_pdf(note))

    assert f"Credit note {note.number}" in text
    assert f"This credit note credits invoice {invoice.number}" in text
    assert "Reason: Price agreed too high" in text
    assert "Total credited 119.00 EUR" in text
    assert "DRAFT" not in text


def test_the_layout_chooses_the_template_and_the_detailed_one_shows_order_shipment_sku_and_gtin(
    clerk, customer, shipment
):
    Preferences.objects.filter(customer=customer).update(document_layout="detailed")
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    text = pdf_text(render_invoice_pdf(invoice))

    assert f"Order {shipment.order.number} · Shipment {shipment.number} · SKU WIDGET" in text
    assert "SKU MANUAL" in text
    invoice.layout = "standard"
    assert "SKU WIDGET" not in invoice_html(invoice)
    invoice.layout = "compact"
    assert "font-size: 7.5pt; line-height: 1.2" in invoice_html(invoice)


def test_a_reverse_charge_line_prints_the_legal_wording_and_the_logo_is_embedded(clerk, customer, company):
    company.logo.save("logo.png", ContentFile(PIXEL_PNG))
    invoice = manual_invoice(clerk, customer, net="500.00", on=date(2026, 3, 2), rate="0", tax_category="AE")

    html = invoice_html(invoice)

    assert "Reverse charge: the recipient is liable for the VAT" in html
    assert 'src="data:image/png;base64,' in html
    assert "http://" not in html
    assert "https://" not in html


def test_the_statement_shows_opening_movements_closing_and_aging_to_the_cent(
    clerk, customer, django_assert_num_queries
):
    # Payment terms are 30 days; gross = net + 19 %.
    manual_invoice(clerk, customer, net="300.00", on=date(2025, 11, 1))  # 357.00, due 2025-12-01
    manual_invoice(clerk, customer, net="100.00", on=date(2026, 1, 10))  # 119.00, due 2026-02-09
    february = manual_invoice(clerk, customer, net="200.00", on=date(2026, 2, 15))  # 238.00, due 2026-03-17
    services.issue_credit_note(
        invoice=february,
        actor=clerk,
        reason="goodwill",
        lines=[services.CreditLine(february.lines.get(), net_amount=D("20.00"))],
        issue_date=date(2026, 3, 1),
    )  # 23.80
    march = manual_invoice(clerk, customer, net="10.00", on=date(2026, 3, 20))  # 11.90, due 2026-04-19
    april = manual_invoice(clerk, customer, net="50.00", on=date(2026, 4, 20))  # 59.50, due 2026-05-20
    manual_invoice(clerk, customer, net="70.00", on=date(2026, 5, 5))  # after the period

    with django_assert_num_queries(3):
        statement = statement_of_account(customer=customer, start=date(2026, 2, 1), end=date(2026, 4, 30))

    (account,) = statement.accounts
    assert account.currency == "EUR"
    assert account.opening_balance == D("476.00")
    assert [(m.posted_on, m.document, m.kind, m.debit, m.credit, m.balance) for m in account.movements] == [
        (date(2026, 2, 15), february.number, "invoice", D("238.00"), D("0"), D("714.00")),
        (date(2026, 3, 1), "CN-2026-000001", "credit_note", D("0"), D("23.80"), D("690.20")),
        (date(2026, 3, 20), march.number, "invoice", D("11.90"), D("0"), D("702.10")),
        (date(2026, 4, 20), april.number, "invoice", D("59.50"), D("0"), D("761.60")),
    ]
    assert (account.total_debit, account.total_credit, account.closing_balance) == (
        D("309.40"),
        D("23.80"),
        D("761.60"),
    )
    assert account.aging == Aging(
        not_due=D("59.50"),
        days_1_30=D("11.90"),
        days_31_60=D("214.20"),
        days_61_90=D("119.00"),
        over_90=D("357.00"),
        unapplied_credit=D("0"),
    )
    assert account.aging.total == account.closing_balance

    rendered = documents.statement_pdf(customer=customer, start=date(2026, 2, 1), end=date(2026, 4, 30))
    text = pdf_text(rendered.content)
    assert "Statement of account" in text
    assert "Opening balance 476.00 EUR" in text
    assert "761.60 EUR" in text
    assert "59.50 11.90 214.20 119.00 357.00 0.00 761.60 EUR" in text


def test_a_statement_period_must_not_end_before_it_starts(customer):
    with pytest.raises(InvalidInput) as error:
        statement_of_account(customer=customer, start=date(2026, 5, 1), end=date(2026, 4, 30))
    assert "start" in error.value.fields


def test_a_document_is_stored_once_and_served_from_storage_after(clerk, shipment, monkeypatch):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    stored = documents.document_for(invoice=invoice, format=DocumentFormat.PDF)

    content = stored.file.read()
    assert (stored.filename, stored.content_type, stored.customer_id) == (
        f"{invoice.number}.pdf",
        "application/pdf",
        invoice.customer_id,
    )
    assert (stored.sha256, stored.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert f"Invoice {invoice.number}" in pdf_text(content)

    monkeypatch.setattr(documents, "render_invoice_pdf", lambda invoice: pytest.fail("rendered again"))
    again = documents.document_for(invoice=invoice, format=DocumentFormat.PDF)

    assert again.pk == stored.pk
    assert again.file.name == stored.file.name
    assert again.file.read() == content


def test_when_two_store_a_document_at_once_the_loser_returns_the_winners_row(clerk, customer, media_root, monkeypatch):
    invoice = manual_invoice(clerk, customer, net="100.00", on=date(2026, 3, 2))
    winner = StoredDocument(customer=customer, invoice=invoice, format=DocumentFormat.PDF, sha256="w", size=1)

    def render_while_another_stores(invoice, format):
        winner.file.save("winner.pdf", ContentFile(b"%PDF winner"), save=True)
        return b"%PDF loser"

    monkeypatch.setattr(documents, "_rendered", render_while_another_stores)

    assert documents.document_for(invoice=invoice, format=DocumentFormat.PDF).pk == winner.pk
    assert StoredDocument.objects.filter(invoice=invoice).count() == 1
    assert [path.name for path in media_root.rglob("*.pdf")] == [winner.file.name.rsplit("/", 1)[-1]]


def test_drafts_are_neither_stored_nor_resent(clerk, customer):
    draft = manual_invoice(clerk, customer, net="100.00", on=date(2026, 3, 2), issue=False)

    with pytest.raises(DocumentNotIssued):
        documents.document_for(invoice=draft, format=DocumentFormat.PDF)
    with pytest.raises(DocumentNotIssued):
        documents.request_resend(invoice=draft, actor=clerk, reason="lost it")
    issued = services.issue_invoice(invoice=draft, actor=clerk)
    with pytest.raises(InvalidInput):
        documents.request_resend(invoice=issued, actor=clerk, reason="  ")
    assert not StoredDocument.objects.exists()


def test_statements_are_rendered_on_request_and_never_stored(clerk, customer, media_root):
    manual_invoice(clerk, customer, net="100.00", on=date(2026, 3, 2))
    stored_before = StoredDocument.objects.filter(customer=customer).count()

    months = [
        documents.statement_pdf(customer=customer, start=date(2026, m, 1), end=date(2026, m, 28)) for m in (1, 2, 3)
    ]

    assert months[2].filename == f"statement-{customer.number}-20260301-20260328.pdf"
    assert months[2].content.startswith(b"%PDF")
    assert StoredDocument.objects.filter(customer=customer).count() == stored_before
    assert not [path for path in media_root.rglob("statement-*")]


def test_the_statement_ages_what_was_open_at_its_end_not_what_is_open_today(clerk, customer):
    """Regression: an invoice open at the period's end and paid afterwards was aged as it is today (0)."""
    invoice = manual_invoice(clerk, customer, net="100.00", on=date(2026, 1, 10))  # 119.00, due 2026-02-09
    payment = payments.record_payment(
        customer=customer,
        amount=D("119.00"),
        currency="EUR",
        method=PaymentMethod.BANK_TRANSFER,
        source=PaymentSource.STAFF,
        actor=clerk,
        received_on=date(2026, 3, 2),
    )
    payments.allocate_payment(
        payment=payment, applications=[payments.Application(invoice, D("119.00"))], actor=clerk
    )  # allocated today, long after the period
    invoice.refresh_from_db()
    assert invoice.open_amount == D("0")

    (account,) = statement_of_account(customer=customer, start=date(2026, 2, 1), end=date(2026, 2, 28)).accounts

    assert account.closing_balance == D("119.00")
    assert account.aging == Aging(days_1_30=D("119.00"))
    assert account.aging.total == account.closing_balance


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Beschreibung", "Einzelpreis", "Summe brutto", "Steuerschuldnerschaft des Leistungsempfängers"]),
        ("fr", ["Description", "Prix unitaire", "Total TTC", "Autoliquidation"]),
    ],
)
def test_an_invoice_prints_in_the_customers_language(clerk, customer, language, words):
    customer.language = language
    customer.save(update_fields=["language"])
    invoice = manual_invoice(clerk, customer, net="500.00", on=date(2026, 3, 2), rate="0", tax_category="AE")

    html = invoice_html(invoice)

    assert [word for word in words if word not in html] == []
    assert "Reverse charge" not in html


def test_a_document_of_another_app_is_stored_through_invoicing_with_what_identifies_it(customer):
    """Dunning letters are payments'; the stored file is invoicing's row, written by its service."""
    content = b"%PDF-1.7 letter"
    document = documents.store_customer_document(
        customer=customer, format=DocumentFormat.PDF, filename="DUN-20260301-K1-EUR.pdf", content=content
    )
    stored = StoredDocument.objects.get(pk=document.pk)
    assert (stored.customer_id, stored.invoice_id, stored.filename) == (customer.pk, None, "DUN-20260301-K1-EUR.pdf")
    assert (stored.content_type, stored.size, stored.sha256) == (
        "application/pdf",
        len(content),
        hashlib.sha256(content).hexdigest(),
    )
    assert stored.file.read() == content


def test_a_document_is_found_by_its_number_and_kind_only(clerk, customer):
    invoice = manual_invoice(clerk, customer, net="100.00", on=date(2026, 1, 10))
    assert document_by_number(kind=DocumentKind.INVOICE, number=f" {invoice.number} ") == invoice
    assert document_by_number(kind=DocumentKind.CREDIT_NOTE, number=invoice.number) is None
