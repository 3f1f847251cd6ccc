"""Every kind of document the suite issues passes the XSD, the CEN EN 16931 rules and (UBL) the Peppol
BIS Billing 3.0 rules, in UBL and in CII, with no error-level rule broken."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from customers.models import Customer
from invoicing import services
from invoicing.einvoice.cii import invoice_cii
from invoicing.einvoice.ubl import invoice_ubl
from invoicing.einvoice.validation import validate_einvoice
from invoicing.models import Invoice
from otc.models import ExchangeRate
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("company")]
D = Decimal
FRENCH_ADDRESS = {"kind": "billing", "line1": "12 rue de la République", "postal_code": "69002", "city": "Lyon"}


def _customer(request, **fields):
    defaults = {
        "actor": request.getfixturevalue("clerk"),
        "legal_name": "Käufer GmbH",
        "country": "DE",
        "contacts": [{"name": "Accounts Payable", "email": "ap@buyer.example", "roles": ["billing"]}],
        "addresses": [{"kind": "billing", "line1": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin"}],
    }
    fields = {**defaults, **fields}
    fields["addresses"] = [{"country": fields["country"], **address} for address in fields["addresses"]]
    return CustomerFactory(**fields)


def _manual(request, customer, *lines: services.ManualLine, **kwargs) -> Invoice:
    return services.create_manual_invoice(
        customer=customer, actor=request.getfixturevalue("clerk"), lines=list(lines), **kwargs
    )


def _line(price: str, rate: str = "19", category: str = "", note: str = "", **kwargs) -> services.ManualLine:
    return services.ManualLine(
        description=f"Item at {price}",
        quantity=kwargs.pop("quantity", D("2")),
        unit_price=D(price),
        tax_rate=D(rate),
        tax_category=category,
        tax_note=note,
        **kwargs,
    )


def _german_buyer(request):
    return _customer(request, tax_id="DE811128135")


def two_rates_with_line_discounts(request) -> Invoice:
    """The order fixtures' shipment: 19 % and 7 %, line and order discounts; the buyer has only a GLN."""
    customer = request.getfixturevalue("customer")
    Customer.objects.filter(pk=customer.pk).update(peppol_scheme="0088", peppol_id="4012345000009")
    shipment = request.getfixturevalue("shipment")
    return services.invoice_shipments(shipments=[shipment], actor=request.getfixturevalue("clerk"))


def one_rate_without_discount(request) -> Invoice:
    return _manual(request, _german_buyer(request), _line("100.00"))


def manual_line_discount(request) -> Invoice:
    return _manual(request, _german_buyer(request), _line("33.33", discount_percent=D("12.5"), quantity=D("7")))


def partial_credit_note(request) -> Invoice:
    invoice = one_rate_without_discount(request)
    line = invoice.lines.get()
    return services.issue_credit_note(
        invoice=invoice,
        actor=request.getfixturevalue("clerk"),
        reason="One returned",
        lines=[services.CreditLine(line, quantity=D("1"))],
    )


def full_credit_note(request) -> Invoice:
    invoice = manual_line_discount(request)
    return services.issue_credit_note(invoice=invoice, actor=request.getfixturevalue("clerk"), reason="Cancelled")


def price_reduction_credit_note(request) -> Invoice:
    invoice = one_rate_without_discount(request)
    line = invoice.lines.get()
    return services.issue_credit_note(
        invoice=invoice,
        actor=request.getfixturevalue("clerk"),
        reason="Late delivery",
        lines=[services.CreditLine(line, net_amount=D("15.00"))],
    )


def reverse_charge(request) -> Invoice:
    buyer = _german_buyer(request)
    return _manual(request, buyer, _line("250.00", "0", "AE", "Reverse charge, § 13b UStG"))


def intra_community_with_shipping_address(request) -> Invoice:
    buyer = _customer(
        request,
        legal_name="Mistral Distribution SARL",
        country="FR",
        tax_id="FR40303265045",
        addresses=[
            FRENCH_ADDRESS,
            {"kind": "shipping", "line1": "Zone Portuaire 4", "postal_code": "13002", "city": "Marseille"},
        ],
    )
    return _manual(request, buyer, _line("40.00", "0", "K", "Intra-community supply"))


def intra_community_without_shipping_address(request) -> Invoice:
    buyer = _customer(
        request, legal_name="Mistral SARL", country="FR", tax_id="FR40303265045", addresses=[FRENCH_ADDRESS]
    )
    return _manual(request, buyer, _line("40.00", "0", "K", "Intra-community supply"))


def export(request) -> Invoice:
    buyer = _customer(
        request,
        legal_name="Prairie Supply Inc.",
        country="US",
        peppol_scheme="0060",
        peppol_id="150483782",
        addresses=[{"kind": "billing", "line1": "500 Main St", "postal_code": "68102", "city": "Omaha"}],
    )
    return _manual(request, buyer, _line("125.50", "0", "G", "Export outside the EU"))


def zero_rated(request) -> Invoice:
    return _manual(request, _german_buyer(request), _line("80.00", "0", "Z"))


def exempt(request) -> Invoice:
    return _manual(request, _german_buyer(request), _line("500.00", "0", "E", "Exempt under § 4 Nr. 14 UStG"))


def not_subject_to_vat(request) -> Invoice:
    return _manual(request, _german_buyer(request), _line("300.00", "0", "O", "Outside the scope of VAT"))


def mixed_categories(request) -> Invoice:
    return _manual(
        request,
        _german_buyer(request),
        _line("100.00"),
        _line("10.00", "7"),
        _line("60.00", "0", "E", "Exempt under § 4 Nr. 14 UStG"),
    )


def foreign_currency(request) -> Invoice:
    ExchangeRate.objects.create(currency="USD", rate_date=date(2020, 1, 1), rate=D("0.9"))
    return _manual(request, _german_buyer(request), _line("80.00", quantity=D("7.5")), currency="USD")


def belgian_buyer(request) -> Invoice:
    buyer = _customer(
        request,
        legal_name="Brabant Handel NV",
        country="BE",
        tax_id="BE0403170701",
        addresses=[{"kind": "billing", "line1": "Grote Markt 1", "postal_code": "1000", "city": "Brussel"}],
    )
    return _manual(request, buyer, _line("64.00", "0", "K", "Intra-community supply"))


KINDS: dict[str, Callable] = {
    kind.__name__: kind
    for kind in (
        two_rates_with_line_discounts,
        one_rate_without_discount,
        manual_line_discount,
        partial_credit_note,
        full_credit_note,
        price_reduction_credit_note,
        reverse_charge,
        intra_community_with_shipping_address,
        intra_community_without_shipping_address,
        export,
        zero_rated,
        exempt,
        not_subject_to_vat,
        mixed_categories,
        foreign_currency,
        belgian_buyer,
    )
}
WRITERS = {"ubl": (invoice_ubl, ("XSD", "cen-ubl", "peppol-ubl")), "cii": (invoice_cii, ("XSD", "facturx-en16931"))}


@pytest.mark.parametrize("syntax", WRITERS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_document_kind_passes_every_rule_set(request, kind: str, syntax: str):
    document = KINDS[kind](request)
    write, rule_sets = WRITERS[syntax]
    xml = write(Invoice.objects.select_related("customer", "credited_invoice").get(pk=document.pk))

    report = validate_einvoice(xml)

    assert report.rule_sets == rule_sets
    assert [str(error) for error in report.errors] == [], xml.decode()
