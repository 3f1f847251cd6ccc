"""Broken rules of the service desk, each with a stable code."""

from otc.errors import Conflict, InvalidInput


class NotDisputable(Conflict):
    code = "not_disputable"
    title = "Only invoices are disputed, not credit notes."


class AlreadyDisputed(Conflict):
    code = "already_disputed"
    title = "The invoice has an open dispute already."


class NotInDispute(Conflict):
    code = "not_in_dispute"
    title = "The dispute is not open (resolved already)."


class CreditNoteMismatch(InvalidInput):
    code = "credit_note_mismatch"
    title = "The credit note must be an issued credit note of the disputed invoice."
