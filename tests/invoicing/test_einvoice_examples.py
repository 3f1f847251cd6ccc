"""The official example files of Peppol BIS Billing 3.0 and CEN EN 16931 (sources and licences in
einvoice_examples/README.md) pass the validator, and the same files with one thing broken fail with
exactly the rule that thing breaks."""

from pathlib import Path

import pytest

from invoicing.einvoice.validation import validate_einvoice

EXAMPLES = Path(__file__).parent / "einvoice_examples"
UBL_RULE_SETS = ("XSD", "cen-ubl", "peppol-ubl")
CII_RULE_SETS = ("XSD", "facturx-en16931")
GOOD = {
    "peppol-base-example.xml": UBL_RULE_SETS,
    "peppol-base-creditnote-correction.xml": UBL_RULE_SETS,
    "cen-cii-business-example-Z.xml": CII_RULE_SETS,
}
# Examples that fail as published (see the README): two are older than the check-digit rules of the
# bundled Peppol version (made-up Norwegian and Danish organisation numbers), one has its elements in
# an order the UBL 2.1 schema does not allow.
FAILING_AS_PUBLISHED = {
    "peppol-vat-category-O.xml": (UBL_RULE_SETS, ["PEPPOL-COMMON-R041"]),
    "peppol-vat-category-Z.xml": (UBL_RULE_SETS, ["PEPPOL-COMMON-R042"]),
    "peppol-vat-category-E.xml": (("XSD",), ["XSD"]),
}


def _example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


@pytest.mark.parametrize("name", GOOD)
def test_an_official_example_passes_every_rule_set(name: str):
    report = validate_einvoice(_example(name))

    assert report.rule_sets == GOOD[name]
    assert [str(error) for error in report.errors] == []


@pytest.mark.parametrize("name", FAILING_AS_PUBLISHED)
def test_an_example_that_fails_as_published_fails_only_for_the_recorded_reason(name: str):
    report = validate_einvoice(_example(name))

    assert (report.rule_sets, report.rule_ids) == FAILING_AS_PUBLISHED[name]


BASE_BUYER_REFERENCE = b"    <cbc:BuyerReference>0150abc</cbc:BuyerReference>\n"
BASE_BUYER_ENDPOINT = b'<cbc:EndpointID schemeID="0002">FR23342</cbc:EndpointID>'
BASE_PAYABLE = b'<cbc:PayableAmount currencyID="EUR">1656.25</cbc:PayableAmount>'
O_LINE_CATEGORY = b"<cbc:ID>O</cbc:ID>\n                <cac:TaxScheme>"
CII_ZERO_RATE = b"<ram:RateApplicablePercent>0.00</ram:RateApplicablePercent>"
CII_GRAND_TOTAL = b"<ram:GrandTotalAmount>11693.87</ram:GrandTotalAmount>"
BROKEN = {
    "no buyer reference nor order reference": (
        "peppol-base-example.xml",
        BASE_BUYER_REFERENCE,
        b"",
        ["PEPPOL-EN16931-R003"],
    ),
    "email address as the buyer's endpoint": (
        "peppol-base-example.xml",
        BASE_BUYER_ENDPOINT,
        b'<cbc:EndpointID schemeID="EM">lj@buyer.se</cbc:EndpointID>',
        ["PEPPOL-EN16931-CL008"],
    ),
    "amount due differs from the total with VAT": (
        "peppol-base-creditnote-correction.xml",
        BASE_PAYABLE,
        b'<cbc:PayableAmount currencyID="EUR">1656.00</cbc:PayableAmount>',
        ["BR-CO-16"],
    ),
    "a rate on a line not subject to VAT": (
        "peppol-vat-category-O.xml",
        O_LINE_CATEGORY,
        b"<cbc:ID>O</cbc:ID>\n                <cbc:Percent>0</cbc:Percent>\n                <cac:TaxScheme>",
        ["BR-O-05", "PEPPOL-COMMON-R041"],
    ),
    "a rate on a zero-rated CII line": (
        "cen-cii-business-example-Z.xml",
        CII_ZERO_RATE,
        b"<ram:RateApplicablePercent>7.00</ram:RateApplicablePercent>",
        ["BR-Z-05"],
    ),
    "a CII grand total that is not net plus VAT": (
        "cen-cii-business-example-Z.xml",
        CII_GRAND_TOTAL,
        b"<ram:GrandTotalAmount>11693.78</ram:GrandTotalAmount>",
        ["BR-CO-15", "BR-CO-16"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_an_official_example_broken_in_one_place_fails_with_the_rule_it_breaks(case: str):
    name, original, broken, rule_ids = BROKEN[case]
    xml = _example(name)
    assert xml.count(original) >= 1

    report = validate_einvoice(xml.replace(original, broken, 1))

    assert report.rule_ids == rule_ids
