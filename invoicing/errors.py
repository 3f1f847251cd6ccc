"""Broken rules of invoicing, each with a stable code."""

from otc.errors import Conflict, InvalidInput


class AlreadyInvoiced(Conflict):
    code = "already_invoiced"
    title = "The shipment is already on an invoice."


class InvoiceNotDraft(Conflict):
    code = "invoice_not_draft"
    title = "Only a draft can be changed or issued; issued documents are corrected by credit notes."


class NotCreditable(Conflict):
    code = "not_creditable"
    title = "This document cannot be credited."


class OverCredit(InvalidInput):
    code = "over_credit"
    title = "A credit note may not credit more than was invoiced and not yet credited."


class HoldAlreadyActive(Conflict):
    code = "hold_already_active"
    title = "The invoice has an active hold of this kind already."


class HoldNotActive(Conflict):
    code = "hold_not_active"
    title = "The hold was released already."


class AmountNotOpen(Conflict):
    code = "amount_not_open"
    title = "The invoice does not have this amount open (or this much settled) to change."
