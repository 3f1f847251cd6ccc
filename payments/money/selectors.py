"""Read side of payments: lists, the customer's credit balance, and the ledger check that unapplied
payments in the ledger equal what the payments have left."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, QuerySet, Sum

from customers.models import Customer
from customers.selectors import CUSTOMER_SEARCH
from invoicing.selectors import open_balances
from ledger.models import AccountRole
from otc.search import SearchSpec
from payments.models import Allocation, Payment

ZERO = Decimal("0")

# Payments by number (whole or its start), the provider's id, any part of the remittance, or their
# customer's number or name.
PAYMENT_SEARCH = SearchSpec(
    prefix=("number",), exact=("external_id",), contains=("reference",), related=(("customer", CUSTOMER_SEARCH),)
)


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("customer", "created_by")


def unallocated_payments(*, customer: Customer) -> QuerySet[Payment]:
    """The customer's credit balance, payment by payment, oldest first."""
    return Payment.objects.filter(customer=customer, amount__gt=F("allocated_amount") + F("refunded_amount")).order_by(
        "received_on", "pk"
    )


def live_allocations(*, payment: Payment) -> QuerySet[Allocation]:
    return payment.allocations.filter(reversed_at__isnull=True).select_related("invoice")


def unapplied_payment_problems() -> list[str]:
    """Each customer's unapplied-payments account, per currency, equals what their payments have left."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH ledger AS (
                SELECT l.customer_id, l.currency, -SUM(l.amount) AS balance
                  FROM ledger_journalline l JOIN ledger_ledgeraccount a ON a.id = l.account_id
                 WHERE a.role = %s
                 GROUP BY l.customer_id, l.currency
            ), payments AS (
                SELECT customer_id, currency, SUM(amount - allocated_amount - refunded_amount) AS balance
                  FROM payments_payment GROUP BY customer_id, currency
            )
            SELECT COALESCE(ledger.customer_id, payments.customer_id), COALESCE(ledger.currency, payments.currency),
                   COALESCE(ledger.balance, 0), COALESCE(payments.balance, 0)
              FROM ledger FULL JOIN payments
                ON payments.customer_id = ledger.customer_id AND payments.currency = ledger.currency
             WHERE COALESCE(ledger.balance, 0) <> COALESCE(payments.balance, 0)
             ORDER BY 1, 2 LIMIT 50
            """,
            [AccountRole.CUSTOMER_CREDIT],
        )
        return [
            f"Customer {customer}: unapplied payments {ledger} {currency} in the ledger but {left} {currency} "
            "left on their payments."
            for customer, currency, ledger, left in cursor.fetchall()
        ]


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    open_receivables: Decimal
    unapplied_payments: Decimal

    @property
    def balance(self) -> Decimal:
        return self.open_receivables - self.unapplied_payments


def customer_balances(customer: Customer) -> list[CurrencyBalance]:
    """Per currency, in two grouped queries: what is open to collect and what is in credit to apply."""
    receivables = open_balances(customer=customer)
    unapplied = dict(
        unallocated_payments(customer=customer)
        .values_list("currency")
        .annotate(total=Sum(F("amount") - F("allocated_amount") - F("refunded_amount")))
        .order_by()
    )
    zero = Decimal("0")
    return [
        CurrencyBalance(currency, receivables.get(currency, zero), unapplied.get(currency, zero))
        for currency in sorted(receivables.keys() | unapplied.keys())
    ]
