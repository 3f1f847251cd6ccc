"""Broken rules of collections, each with a stable code."""

from otc.errors import Conflict, InvalidInput


class InvoicesNotCollectable(InvalidInput):
    code = "invoices_not_collectable"
    title = "The invoices must be open invoices of the customer, in one currency."


class PlanAmountMismatch(InvalidInput):
    code = "payment_plan_amount_mismatch"
    title = "The instalments must add up to the invoices' open total."


class AlreadyInPaymentPlan(Conflict):
    code = "already_in_payment_plan"
    title = "An invoice is in a payment plan with instalments still to pay."
