"""Factur-X: the printed invoice (PDF/A-3) with its CII XML embedded, readable by people and machines."""

import facturx

from invoicing.models import Invoice


def facturx_pdf(invoice: Invoice, pdf: bytes, cii: bytes) -> bytes:
    """Embed the invoice's CII (already validated) into its rendered PDF (which should be PDF/A-3b, e.g.
    WeasyPrint's `pdf_variant="pdf/a-3b"`); the XML is checked against the Factur-X EN 16931 XSD on the way in."""
    return facturx.generate_from_binary(
        pdf,
        cii,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        lang=invoice.language,
    )
