"""Regression: an order, the invoice made from its shipment and its credit note agree to the cent,
and the tax category is a code decided once, not parsed from the note.

Three lines of 0.03 EUR at 19 % have 0.0171 tax in all: rounded per line that was 0.03 on the order
and 0.02 on the invoice. One rule (per VAT group, EN 16931) gives 0.02 everywhere.
"""

from decimal import Decimal as D

import pytest

from invoicing import services as invoicing
from orders import services as orders
from orders.models import OrderLine
from tests.factories import CustomerFactory, approved_limit, make_product, placed_order, ship


@pytest.fixture
def three_cent_order(clerk, customer):
    products = [make_product(actor=clerk, sku=f"CENT-{n}", price="0.03", stock="5") for n in range(3)]
    return placed_order(customer, clerk, *[(product, "1") for product in products])


def test_order_and_its_invoice_have_the_same_tax_per_vat_group(clerk, three_cent_order):
    order = three_cent_order
    assert (order.net_total, order.tax_total, order.gross_total) == (D("0.09"), D("0.02"), D("0.11"))
    assert sum(line.tax_amount for line in order.lines.all()) == D("0.02")

    invoice = invoicing.invoice_shipments(shipments=[ship(order, clerk)], actor=clerk)

    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("0.09"), D("0.02"), D("0.11"))
    assert list(invoice.tax_breakdown.values_list("tax_category", "tax_rate", "taxable_amount", "tax_amount")) == [
        ("S", D("19.00"), D("0.09"), D("0.02"))
    ]


def test_a_full_credit_note_takes_back_exactly_what_the_order_charged(clerk, three_cent_order):
    invoice = invoicing.invoice_shipments(shipments=[ship(three_cent_order, clerk)], actor=clerk)

    note = invoicing.issue_credit_note(invoice=invoice, actor=clerk, reason="Returned")

    assert (note.net_total, note.tax_total, note.gross_total) == (D("0.09"), D("0.02"), three_cent_order.gross_total)


def test_the_tax_category_travels_as_a_code_from_the_order_line_to_the_invoice(clerk, approver, widget):
    american = CustomerFactory(actor=clerk, legal_name="Prairie Tools Inc.", country="US")
    approved_limit(american, limit="10000", clerk=clerk, approver=approver)
    order = orders.create_order(actor=clerk, customer=american, lines=[orders.LineInput(widget, D("2"))])
    line = order.lines.get()
    assert (line.tax_category, line.tax_rate, line.tax_note) == ("G", D("0.00"), "Export outside the EU, zero-rated")
    # The note is wording for people: rewording it changes nothing about the tax.
    OrderLine.objects.filter(pk=line.pk).update(tax_note="Ausfuhrlieferung, steuerfrei")
    order = orders.confirm_order(order=order, actor=clerk)

    invoice = invoicing.invoice_shipments(shipments=[ship(order, clerk)], actor=clerk)

    assert list(invoice.lines.values_list("tax_category", "tax_note")) == [("G", "Ausfuhrlieferung, steuerfrei")]
    assert list(invoice.tax_breakdown.values_list("tax_category", "taxable_amount", "tax_amount")) == [
        ("G", D("20.00"), D("0.00"))
    ]
