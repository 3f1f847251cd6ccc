"""The whole ledger check, at the top of the layers: the ledger's own invariants, and the figures
other apps keep beside it (invoices' open amounts, payments' unapplied amounts), each checked by
the app that owns them and combined here with plain imports, so none can be left out unnoticed."""

from invoicing.selectors import open_amount_problems
from ledger import selectors as ledger
from payments.money.selectors import unapplied_payment_problems


def ledger_problems() -> list[str]:
    """Everything that breaks the ledger's invariants; an empty list means the ledger verifies.

    1. Trial balance zero, every entry balanced, every receivable line on an open item (ledger).
    2. Each invoice's open amount equals what the ledger has open on it, and each customer's
       receivable equals the sum of their open items (invoicing).
    3. Each customer's unapplied payments equal what their payments have left (payments).
    """
    return [*ledger.ledger_problems(), *open_amount_problems(), *unapplied_payment_problems()]
