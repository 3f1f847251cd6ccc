"""Electronic invoices: UBL 2.1 (Peppol BIS Billing 3.0), UN/CEFACT CII (Factur-X EN 16931), and the
Factur-X PDF/A-3 that carries the CII inside the printed invoice."""
