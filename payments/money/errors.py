"""Broken rules of payments, allocations and refunds, each with a stable code."""

from otc.errors import Conflict, DomainError


class OverAllocation(Conflict):
    code = "over_allocation"
    title = "The allocation exceeds what the payment has left or what the invoice has open."


class NothingOpen(Conflict):
    code = "nothing_open"
    title = "The invoice has nothing open to pay."


class DuplicatePayment(Conflict):
    code = "duplicate_payment"
    title = "A payment with this external id was recorded already."


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status = 401
    title = "The notification's signature or timestamp is not valid."
