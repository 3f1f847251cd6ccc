"""Payments' models, one module per part: money received and its use (payments), bank statements
(statements), and collections (dunning, disputes' holds and promises to pay)."""

from payments.models.bank_accounts import CompanyBankAccount
from payments.models.payments import (
    PAYMENT_NUMBER_SEQUENCE,
    Allocation,
    Payment,
    PaymentMethod,
    PaymentSource,
    Refund,
    RefundStatus,
)

__all__ = [
    "PAYMENT_NUMBER_SEQUENCE",
    "Allocation",
    "CompanyBankAccount",
    "Payment",
    "PaymentMethod",
    "PaymentSource",
    "Refund",
    "RefundStatus",
]

from payments.models.statements import (
    BankStatement,
    BankStatementLine,
    BankStatementUpload,
    BankStatementUploadPart,
    StatementFormat,
    StatementLineStatus,
    UploadStatus,
)

__all__ += [
    "BankStatement",
    "BankStatementLine",
    "BankStatementUpload",
    "BankStatementUploadPart",
    "StatementFormat",
    "StatementLineStatus",
    "UploadStatus",
]

from payments.models.collections import (  # noqa: E402 (appended after the statements part)
    DunningAssignment,
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    InvoiceDunningState,
    LetterTemplate,
    PaymentPlan,
    PaymentPlanInstalment,
    PaymentReminder,
    PromiseStatus,
    PromiseToPay,
)

__all__ += [
    "DunningAssignment",
    "DunningLetter",
    "DunningLetterItem",
    "DunningLevel",
    "DunningPolicy",
    "DunningRun",
    "InvoiceDunningState",
    "LetterTemplate",
    "PaymentPlan",
    "PaymentPlanInstalment",
    "PaymentReminder",
    "PromiseStatus",
    "PromiseToPay",
]

from payments.models.checkouts import Checkout, CheckoutItem, CheckoutStatus  # noqa: E402

__all__ += ["Checkout", "CheckoutItem", "CheckoutStatus"]
