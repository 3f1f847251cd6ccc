"""Broken rules of cash application, each with a stable code."""

from otc.errors import Conflict


class StatementAlreadyImported(Conflict):
    code = "statement_already_imported"
    title = "This bank statement was imported already."


class LineAlreadyReconciled(Conflict):
    code = "line_already_reconciled"
    title = "This bank line was applied or ignored already."


class ProposalsChanged(Conflict):
    code = "proposals_changed"
    title = "The line's proposals have changed; read them again."
