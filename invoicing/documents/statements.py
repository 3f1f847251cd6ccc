"""Statements of account (read side), built from the receivables ledger so that every posting
(invoices, credit notes, and later payments, write-offs, refunds) shows up without changes here.

Three queries whatever the number of rows: opening balances, the period's receivable lines, and the
aging of open items, each aggregated or listed per currency.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, Sum

from customers.models import Customer
from invoicing.models import AccountRole, DocumentKind, EntryKind, Invoice, InvoiceStatus, JournalLine
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
class Aging:
    """Open items as of the statement's end by days past due; unused credit notes count negative."""

    not_due: Decimal = ZERO
    days_1_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    over_90: Decimal = ZERO
    unapplied_credit: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.not_due + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90 + self.unapplied_credit


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


def _receivable_lines(customer: Customer):
    return JournalLine.objects.filter(customer=customer, account__role=AccountRole.RECEIVABLE)


def _aging_by_currency(customer: Customer, end: date) -> dict[str, Aging]:
    """Open amounts of documents issued by `end`, in buckets of days past due on `end`."""
    invoice = Q(kind=DocumentKind.INVOICE)
    buckets = {
        "not_due": invoice & Q(due_date__gte=end),
        "days_1_30": invoice & Q(due_date__lt=end, due_date__gte=end - timedelta(days=30)),
        "days_31_60": invoice & Q(due_date__lt=end - timedelta(days=30), due_date__gte=end - timedelta(days=60)),
        "days_61_90": invoice & Q(due_date__lt=end - timedelta(days=60), due_date__gte=end - timedelta(days=90)),
        "over_90": invoice & Q(due_date__lt=end - timedelta(days=90)),
        "unapplied_credit": Q(kind=DocumentKind.CREDIT_NOTE),
    }
    rows = (
        Invoice.objects.filter(customer=customer, open_amount__gt=0, issue_date__lte=end)
        .exclude(status=InvoiceStatus.DRAFT)
        .values("currency")
        .annotate(**{name: Sum("open_amount", filter=condition, default=ZERO) for name, condition in buckets.items()})
        .order_by("currency")
    )
    return {
        row["currency"]: Aging(
            **{
                name: quantize(-row[name] if name == "unapplied_credit" else row[name], row["currency"])
                for name in buckets
            }
        )
        for row in rows
    }


def statement_of_account(*, customer: Customer, start: date, end: date) -> Statement:
    """The customer's receivable account from `start` to `end` (both included), per currency."""
    if start > end:
        raise InvalidInput("The statement must start on or before its end.", fields={"start": ["After the end."]})
    opening = dict(
        _receivable_lines(customer)
        .filter(entry__posted_on__lt=start)
        .values("currency")
        .annotate(balance=Sum("amount"))
        .values_list("currency", "balance")
        .order_by("currency")
    )
    lines = (
        _receivable_lines(customer)
        .filter(entry__posted_on__gte=start, entry__posted_on__lte=end)
        .select_related("entry__invoice")
        .order_by("entry__posted_on", "entry_id", "pk")
    )
    movements: dict[str, list[JournalLine]] = {}
    for line in lines:
        movements.setdefault(line.currency, []).append(line)
    aging = _aging_by_currency(customer, end)
    accounts = []
    for currency in sorted(set(opening) | set(movements) | set(aging)):
        balance = quantize(opening.get(currency, ZERO), currency)
        opening_balance, rows = balance, []
        for line in movements.get(currency, []):
            entry, posted = line.entry, quantize(line.amount, line.currency)
            balance += posted
            rows.append(
                Movement(
                    posted_on=entry.posted_on,
                    document=entry.invoice.number if entry.invoice_id else entry.memo,
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
                aging=aging.get(currency, Aging()),
            )
        )
    return Statement(customer=customer, start=start, end=end, accounts=tuple(accounts))
