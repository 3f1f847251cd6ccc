"""Broken rules of document storage and delivery, each with a stable code."""

from otc.errors import Conflict


class DocumentNotIssued(Conflict):
    code = "document_not_issued"
    title = "Only issued invoices and credit notes are stored and sent; a draft is a preview."
