"""Statements of account (read side), built from the receivables ledger so that every posting
(invoices, credit notes, and later payments, write-offs, refunds) shows up without changes here.

Three queries whatever the number of rows: opening balances, the period's receivable lines, and the
items open at the period's end, each aggregated or listed per currency. The aging is what the ledger
had open on the statement's last day, so it adds up to the closing balance to the cent.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from customers.models import Customer
from ledger.models import EntryKind, JournalLine
from ledger.selectors import Aging, aging, receivable_balances, receivable_lines
from otc.errors import InvalidInput
from otc.money import quantize

ZERO = Decimal("0")


@dataclass(frozen=True)
class Movement:
    """One receivable posting: debit raises what the customer owes, credit lowers it."""

    posted_on: date
    document: str
    kind: str
    kind_label: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


@dataclass(frozen=True)
class CurrencyAccount:
    """The customer's account in one currency over the period."""

    currency: str
    opening_balance: Decimal
    movements: tuple[Movement, ...]
    closing_balance: Decimal
    aging: Aging

    @property
    def total_debit(self) -> Decimal:
        return sum((movement.debit for movement in self.movements), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((movement.credit for movement in self.movements), ZERO)


@dataclass(frozen=True)
class Statement:
    customer: Customer
    start: date
    end: date
    accounts: tuple[CurrencyAccount, ...]


def statement_of_account(*, customer: Customer, start: date, end: date) -> Statement:
    """The customer's receivable account from `start` to `end` (both included), per currency."""
    if start > end:
        raise InvalidInput("The statement must start on or before its end.", fields={"start": ["After the end."]})
    opening = receivable_balances(customer=customer, on=start - timedelta(days=1))
    lines = (
        receivable_lines(customer=customer)
        .filter(entry__posted_on__gte=start, entry__posted_on__lte=end)
        .select_related("entry__item")
        .order_by("entry__posted_on", "entry_id", "pk")
    )
    movements: dict[str, list[JournalLine]] = {}
    for line in lines:
        movements.setdefault(line.currency, []).append(line)
    aged = aging(customer=customer, on=end)
    accounts = []
    for currency in sorted(set(opening) | set(movements) | set(aged)):
        balance = quantize(opening.get(currency, ZERO), currency)
        opening_balance, rows = balance, []
        for line in movements.get(currency, []):
            entry, posted = line.entry, quantize(line.amount, line.currency)
            balance += posted
            rows.append(
                Movement(
                    posted_on=entry.posted_on,
                    document=entry.item.reference if entry.item_id else entry.memo,
                    kind=entry.kind,
                    kind_label=EntryKind(entry.kind).label,
                    debit=max(posted, ZERO),
                    credit=max(-posted, ZERO),
                    balance=balance,
                )
            )
        accounts.append(
            CurrencyAccount(
                currency=currency,
                opening_balance=opening_balance,
                movements=tuple(rows),
                closing_balance=balance,
                aging=aged.get(currency, Aging()),
            )
        )
    return Statement(customer=customer, start=start, end=end, accounts=tuple(accounts))
