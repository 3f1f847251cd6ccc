"""Broken rules of document storage and delivery, each with a stable code."""

from otc.errors import Conflict


class DocumentNotIssued(Conflict):
    code = "document_not_issued"
    title = "Only issued invoices and credit notes are stored and sent; a draft is a preview."


class EInvoiceInvalid(Conflict):
    """The e-invoice breaks EN 16931 or Peppol rules: a receiving access point would reject it, so it is
    neither stored nor sent. `fields["rules"]` lists each broken rule with its id and text."""

    code = "einvoice_invalid"
    title = "The e-invoice breaks the EN 16931 or Peppol BIS 3 rules and is not sent."
