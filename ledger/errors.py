"""Broken rules of the ledger, each with a stable code."""

from otc.errors import Conflict


class LedgerOutOfBalance(Conflict):
    code = "ledger_out_of_balance"
    title = "The journal entry does not balance."


class ReceivableWithoutItem(Conflict):
    code = "receivable_without_item"
    title = "A receivable posting names the open item it raises or settles."
