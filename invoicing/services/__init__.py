"""Write side of invoicing: drafts from shipments or by hand, issuing (gapless number, open item and
posting in the ledger, event), credit notes, and settling and reopening invoices for payments.

Rounding: the suite's one rule (EN 16931) in `otc.money` -- line nets rounded half-up per line, tax
per VAT group (category code and rate) rounded half-up once per group, totals are sums -- the same
rule orders use, so an order and its invoice agree to the cent. A credit note's tax per group is
capped at what the invoice's group has left uncredited, and a credit note that takes the rest of a
group takes the rest of its tax, so credits never exceed what they credit, to the cent.

Tax categories are UNCL 5305 codes decided once, by `inventory.selectors.quote_taxes`, stored on the
order line and copied to the invoice line; the tax note is wording for people only.

One module per section: numbering, tax, postings (the ledger), company_profile, drafting, issuing,
holds, settlement, credit_notes, consolidated. Callers import from the package.
"""

from invoicing.services.company_profile import COMPANY_PROFILE_FIELDS, save_company_profile
from invoicing.services.consolidated import consolidation_cutoff, invoice_consolidated_shipments
from invoicing.services.credit_notes import ISSUED_STATUSES, CreditLine, credit_returned_goods, issue_credit_note
from invoicing.services.drafting import (
    UNIT_CODES,
    ManualLine,
    create_manual_invoice,
    customer_snapshot,
    discard_draft,
    invoice_shipment_if_due,
    invoice_shipments,
    save_with_lines,
    shipped_invoice_line,
)
from invoicing.services.holds import place_hold, release_hold
from invoicing.services.issuing import invoice_issued, issue_document, issue_invoice, mark_issued
from invoicing.services.numbering import SERIES_PREFIX, take_numbers
from invoicing.services.postings import document_item, document_postings, entry_memo
from invoicing.services.settlement import reopen_invoice, settle_invoice, settle_invoices, settlement_status
from invoicing.services.tax import credit_tax_groups

__all__ = [
    "COMPANY_PROFILE_FIELDS",
    "ISSUED_STATUSES",
    "SERIES_PREFIX",
    "UNIT_CODES",
    "CreditLine",
    "ManualLine",
    "consolidation_cutoff",
    "create_manual_invoice",
    "credit_returned_goods",
    "credit_tax_groups",
    "customer_snapshot",
    "discard_draft",
    "document_item",
    "document_postings",
    "entry_memo",
    "invoice_consolidated_shipments",
    "invoice_issued",
    "invoice_shipment_if_due",
    "invoice_shipments",
    "issue_credit_note",
    "issue_document",
    "issue_invoice",
    "mark_issued",
    "place_hold",
    "release_hold",
    "reopen_invoice",
    "save_company_profile",
    "save_with_lines",
    "settle_invoice",
    "settle_invoices",
    "settlement_status",
    "shipped_invoice_line",
    "take_numbers",
]
