"""The figures on the admin's home page: what is waiting for finance and for sales today.

Each figure is counted with the same condition the list it links to filters by, so the number on
the card is the number of rows the clerk finds behind it. One query per table, whatever the data.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from invoicing.models import DocumentKind, Invoice
from invoicing.selectors import overdue_condition
from orders.models import Order, OrderStatus
from orders.selectors import SHIPPABLE_STATUSES, backordered_condition
from otc.money import quantize
from payments.cash_application.selectors import queue_condition
from payments.models import BankStatementLine, DunningLetter, PromiseStatus, PromiseToPay
from service.models import Dispute, DisputeStatus


@dataclass(frozen=True)
class CurrencyAmounts:
    currency: str
    open_receivables: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class FinanceFigures:
    receivables: list[CurrencyAmounts]
    bank_lines_waiting: int
    credit_holds_waiting: int
    disputes_open: int
    promises_due_today: int
    dunning_letters_ready: int


@dataclass(frozen=True)
class SalesFigures:
    orders_on_credit_hold: int
    backorders: int
    orders_to_ship: int


def open_invoice_condition() -> Q:
    """An invoice (not a credit note) the customer still owes money on."""
    return Q(kind=DocumentKind.INVOICE, open_amount__gt=0)


def finance_figures(*, today: date) -> FinanceFigures:
    """Open and overdue receivables per currency and the finance queues' lengths, in six queries."""
    receivables = [
        CurrencyAmounts(
            row["currency"],
            quantize(row["open_receivables"], row["currency"]),
            quantize(row["overdue"] or Decimal("0"), row["currency"]),
        )
        for row in Invoice.objects.filter(open_invoice_condition())
        .values("currency")
        .annotate(open_receivables=Sum("open_amount"), overdue=Sum("open_amount", filter=overdue_condition()))
        .order_by("currency")
    ]
    return FinanceFigures(
        receivables=receivables,
        bank_lines_waiting=BankStatementLine.objects.filter(queue_condition()).count(),
        credit_holds_waiting=Order.objects.filter(status=OrderStatus.ON_CREDIT_HOLD).count(),
        disputes_open=Dispute.objects.filter(status=DisputeStatus.OPEN).count(),
        promises_due_today=PromiseToPay.objects.filter(status=PromiseStatus.OPEN, promised_date=today).count(),
        dunning_letters_ready=DunningLetter.objects.filter(created_at__date=today).count(),
    )


def sales_figures() -> SalesFigures:
    """Orders waiting on finance, on stock and on the warehouse, in one query."""
    counts = Order.objects.aggregate(
        on_hold=Count("pk", filter=Q(status=OrderStatus.ON_CREDIT_HOLD)),
        backorders=Count("pk", filter=backordered_condition()),
        to_ship=Count("pk", filter=Q(status__in=SHIPPABLE_STATUSES)),
    )
    return SalesFigures(
        orders_on_credit_hold=counts["on_hold"],
        backorders=counts["backorders"],
        orders_to_ship=counts["to_ship"],
    )
