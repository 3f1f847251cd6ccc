"""Broken rules of cash application, each with a stable code."""

from otc.errors import Conflict, InvalidInput


class StatementAlreadyImported(Conflict):
    code = "statement_already_imported"
    title = "This bank statement was imported already."


class LineAlreadyReconciled(Conflict):
    code = "line_already_reconciled"
    title = "This bank line was applied or ignored already."


class ProposalsChanged(Conflict):
    code = "proposals_changed"
    title = "The line's proposals have changed; read them again."


class NotOurBankAccount(InvalidInput):
    code = "not_our_bank_account"
    title = "The statement is not of one of the company's bank accounts."

    def __init__(self, message: str):
        super().__init__(message, fields={"file": [message]})
