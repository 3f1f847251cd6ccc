from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing import services
from invoicing.errors import NotCreditable, OverCredit
from invoicing.models import Invoice, InvoiceStatus
from ledger import services as ledger
from ledger.models import AccountRole, ItemKind, JournalLine
from ledger.selectors import item_for_document
from orders import services as orders
from orders.selectors import customer_exposure
from otc.errors import InvalidInput

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def invoice(clerk, shipment):
    return services.invoice_shipments(shipments=[shipment], actor=clerk)


def lines_by_sku(invoice):
    return {line.sku: line for line in invoice.lines.all()}


def test_a_full_credit_note_cancels_the_invoice_and_its_posting(clerk, customer, invoice):
    note = services.issue_credit_note(invoice=invoice, actor=clerk, reason="Wrong customer")

    invoice.refresh_from_db()
    assert note.number == f"CN-{timezone.localdate().year}-000001"
    assert (note.kind, note.credited_invoice, note.gross_total, note.open_amount) == (
        "credit_note",
        invoice,
        D("182.53"),
        D("0"),
    )
    assert (note.status, invoice.status, invoice.open_amount, invoice.credited_amount) == (
        InvoiceStatus.SETTLED,
        InvoiceStatus.CREDITED,
        D("0"),
        D("182.53"),
    )
    note_lines = JournalLine.objects.filter(entry__item__document_id=note.pk)
    assert dict(note_lines.values_list("account__role", "amount")) == {
        AccountRole.RECEIVABLE: D("-182.53"),
        AccountRole.TAX_PAYABLE: D("23.21"),
        AccountRole.REVENUE: D("159.32"),
    }
    assert customer_exposure(customer=customer).open_receivables == D("0")
    with pytest.raises(OverCredit, match="fully credited"):
        services.issue_credit_note(invoice=invoice, actor=clerk, reason="again")


def test_partial_credits_by_quantity_and_by_amount_never_exceed_the_invoice(clerk, invoice):
    widget = lines_by_sku(invoice)["WIDGET"]  # 12 at 9.00 −6.9% = 100.55, 19%

    first = services.issue_credit_note(
        invoice=invoice, actor=clerk, reason="2 damaged", lines=[services.CreditLine(widget, quantity=D("2"))]
    )
    second = services.issue_credit_note(
        invoice=invoice, actor=clerk, reason="goodwill", lines=[services.CreditLine(widget, net_amount=D("10.00"))]
    )
    with pytest.raises(OverCredit, match="10 left to credit"):
        services.issue_credit_note(
            invoice=invoice, actor=clerk, reason="too many", lines=[services.CreditLine(widget, quantity=D("11"))]
        )
    rest = services.issue_credit_note(
        invoice=invoice, actor=clerk, reason="the rest", lines=[services.CreditLine(widget, quantity=D("10"))]
    )

    # 2 × 9.00 × 0.931 = 16.758 -> 16.76 (tax 3.18); goodwill 10.00 (tax 1.90); the rest takes what is left.
    assert (first.net_total, first.tax_total) == (D("16.76"), D("3.18"))
    assert (second.net_total, second.tax_total, second.lines.get().description) == (
        D("10.00"),
        D("1.90"),
        "Price reduction: Product WIDGET",
    )
    assert (rest.net_total, rest.tax_total) == (D("73.79"), D("14.02"))
    credited_net = first.net_total + second.net_total + rest.net_total
    credited_tax = first.tax_total + second.tax_total + rest.tax_total
    assert (credited_net, credited_tax) == (D("100.55"), D("19.10"))
    invoice.refresh_from_db()
    assert (invoice.open_amount, invoice.credited_amount, invoice.status) == (
        D("62.88"),
        D("119.65"),
        InvoiceStatus.ISSUED,
    )


def ledger_item(invoice):
    return item_for_document(kind=ItemKind.INVOICE, document_id=invoice.pk)


def test_a_credit_larger_than_what_is_open_becomes_the_customers_credit_balance(clerk, customer, invoice):
    Invoice.objects.filter(pk=invoice.pk).update(open_amount=D("50.00"))  # as if 132.53 had been paid
    ledger.post_entry(
        kind="payment",
        posted_on=timezone.localdate(),
        memo="payment received",
        postings=[
            ledger.Posting(AccountRole.CASH, D("132.53")),
            ledger.Posting(AccountRole.RECEIVABLE, D("-132.53"), customer.pk, ledger_item(invoice).pk),
        ],
        currency="EUR",
        actor=clerk,
    )

    note = services.issue_credit_note(invoice=invoice, actor=clerk, reason="Returned in full")

    invoice.refresh_from_db()
    assert (invoice.open_amount, invoice.status) == (D("0"), InvoiceStatus.CREDITED)
    assert (note.open_amount, note.status) == (D("132.53"), InvoiceStatus.ISSUED)
    assert customer_exposure(customer=customer).open_receivables == D("-132.53")


def test_bad_credit_requests_are_refused_and_write_nothing(clerk, customer, invoice):
    widget = lines_by_sku(invoice)["WIDGET"]
    draft = services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        issue=False,
        lines=[services.ManualLine(description="Fee", quantity=D("1"), unit_price=D("5"), tax_rate=D("19"))],
    )
    refusals = [
        (InvalidInput, dict(invoice=invoice, reason=" ")),
        (NotCreditable, dict(invoice=draft, reason="draft")),
        (InvalidInput, dict(invoice=invoice, reason="both", lines=[services.CreditLine(widget, D("1"), D("1"))])),
        (OverCredit, dict(invoice=invoice, reason="net", lines=[services.CreditLine(widget, net_amount=D("100.56"))])),
        (InvalidInput, dict(invoice=invoice, reason="zero", lines=[services.CreditLine(widget, quantity=D("0"))])),
    ]
    for error, arguments in refusals:
        with pytest.raises(error):
            services.issue_credit_note(actor=clerk, **arguments)

    assert not Invoice.objects.filter(kind="credit_note").exists()


def test_returned_goods_are_credited_on_the_invoice_that_billed_them(clerk, confirmed_order, invoice):
    widget_line = confirmed_order.lines.get(product__sku="WIDGET")
    returned = orders.register_return(
        order=confirmed_order, actor=clerk, reason="damaged in transit", lines=[(widget_line, D("3"), "damaged")]
    )

    (note,) = services.credit_returned_goods(return_order=returned, actor=clerk)

    # 3 × 9.00 × 0.931 = 25.137 -> 25.14, VAT 4.78
    assert (note.return_order, note.net_total, note.tax_total) == (returned, D("25.14"), D("4.78"))
    assert note.reason.startswith(f"Return {returned.number}")
    assert note.lines.get().credited_line == lines_by_sku(invoice)["WIDGET"]
