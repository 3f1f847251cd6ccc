"""Factur-X: the printed invoice (PDF/A-3) with its CII XML embedded, readable by people and machines."""

import facturx

from invoicing.models import Invoice


def facturx_pdf(invoice: Invoice, pdf: bytes, cii: bytes) -> bytes:
    """Embed the invoice's CII (already validated) into its rendered PDF (which should be PDF/A-3b, e.g.
    WeasyPrint's `pdf_variant="pdf/a-3b"`); the profile is read from the XML's guideline ID, the XML is
    checked against that profile's XSD on the way in, and the PDF's metadata names the profile."""
    return facturx.generate_from_binary(
        pdf,
        cii,
        flavor="factur-x",
        level="autodetect",
        check_xsd=True,
        lang=invoice.language,
    )
