"""Read side of the ledger: the journal, the trial balance, and each customer's receivable as of
any date (balance, open items, aging), read from the dated lines, never from a document's cached
open amount; and the ledger's own consistency checks."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet, Sum

from customers.models import Customer
from ledger.models import AccountRole, ItemKind, JournalEntry, JournalLine, OpenItem
from otc.money import quantize

ZERO = Decimal("0")


def journal(*, item: OpenItem | None = None) -> QuerySet[JournalEntry]:
    entries = JournalEntry.objects.select_related("created_by", "item").prefetch_related(
        Prefetch("lines", queryset=JournalLine.objects.select_related("account", "customer"))
    )
    return entries.filter(item=item) if item is not None else entries


def item_for_document(*, kind: str, document_id: int) -> OpenItem | None:
    """The open item the ledger keeps for a document; None until the document is issued."""
    return OpenItem.objects.filter(kind=kind, document_id=document_id).first()


def items_for_documents(*, kind: str, document_ids: list[int]) -> dict[int, OpenItem]:
    """The open items of several documents of one kind, by document id, in one query."""
    return {
        item.document_id: item for item in OpenItem.objects.filter(kind=kind, document_id__any=document_ids).order_by()
    }


def item_ids_for_documents(*, kind: str, document_ids: list[int]) -> dict[int, int]:
    """The ids of several documents' open items, by document id, for set-based postings that only point
    to them."""
    return dict(
        OpenItem.objects.filter(kind=kind, document_id__any=document_ids).order_by().values_list("document_id", "pk")
    )


def receivable_lines(*, customer: Customer) -> QuerySet[JournalLine]:
    return JournalLine.objects.filter(customer=customer, account__role=AccountRole.RECEIVABLE)


def receivable_balances(*, customer: Customer, on: date | None = None) -> dict[str, Decimal]:
    """Per currency: what the customer owes less their unused credit notes, as posted by `on`
    (all postings when None). Written out in SQL: every credit check reads it."""
    posted_by = "AND l.posted_on <= %(on)s" if on is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT l.currency, SUM(l.amount) FROM ledger_journalline l
                  JOIN ledger_ledgeraccount a ON a.id = l.account_id
                 WHERE l.customer_id = %(customer)s AND a.role = %(role)s {posted_by}
                 GROUP BY l.currency ORDER BY l.currency""",  # noqa: S608 - a fixed condition, no input
            {"customer": customer.pk, "role": AccountRole.RECEIVABLE.value, "on": on},
        )
        return dict(cursor.fetchall())


@dataclass(frozen=True)
class ItemBalance:
    """An open item and what was open on it on the date asked (negative: a credit)."""

    item: OpenItem
    open_amount: Decimal


def not_settled_on(on: date) -> QuerySet[OpenItem]:
    """The items that may have money open on `on`: those not settled by then."""
    return OpenItem.objects.filter(Q(settled_on__isnull=True) | Q(settled_on__gt=on))


def item_balances(*, on: date) -> QuerySet[OpenItem]:
    """Every item with money open on `on`, from the receivable lines posted by then, annotated with
    `open_amount` (document currency) and `open_amount_company` (company currency, at the rates the
    lines were posted with). One grouped query over all customers: reports build on it. Only items
    not settled by `on` are read (see `OpenItem.settled_on`): the rest have nothing open then."""
    return (
        not_settled_on(on)
        .filter(lines__posted_on__lte=on)
        .annotate(open_amount=Sum("lines__amount"), open_amount_company=Sum("lines__amount_company"))
        .exclude(open_amount=0)
    )


def open_items(*, customer: Customer, on: date) -> list[ItemBalance]:
    """Every item of the customer with money open on `on`, from the lines posted by then; oldest due first."""
    items = item_balances(on=on).filter(customer=customer).order_by("due_on", "pk")
    return [ItemBalance(item=item, open_amount=item.open_amount) for item in items]


@dataclass(frozen=True)
class Aging:
    """Open items on a date by days past due; unused credit notes count negative."""

    not_due: Decimal = ZERO
    days_1_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    over_90: Decimal = ZERO
    unapplied_credit: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.not_due + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90 + self.unapplied_credit


def _bucket(item: OpenItem, open_amount: Decimal, on: date) -> str:
    if item.kind == ItemKind.CREDIT_NOTE or open_amount < ZERO:
        return "unapplied_credit"
    days = (on - item.due_on).days
    if days <= 0:
        return "not_due"
    if days <= 30:
        return "days_1_30"
    if days <= 60:
        return "days_31_60"
    return "days_61_90" if days <= 90 else "over_90"


def aging(*, customer: Customer, on: date) -> dict[str, Aging]:
    """Per currency: what was open on `on`, in buckets of days past due on that day. Every
    receivable line names its item, so the buckets add up to the balance on `on` to the cent."""
    totals: dict[str, dict[str, Decimal]] = {}
    for balance in open_items(customer=customer, on=on):
        currency = balance.item.currency
        buckets = totals.setdefault(currency, {})
        name = _bucket(balance.item, balance.open_amount, on)
        buckets[name] = buckets.get(name, ZERO) + balance.open_amount
    return {
        currency: Aging(**{name: quantize(amount, currency) for name, amount in buckets.items()})
        for currency, buckets in sorted(totals.items())
    }


@dataclass(frozen=True)
class TrialBalanceRow:
    code: str
    name: str
    currency: str
    debit: Decimal
    credit: Decimal
    balance_company: Decimal


def trial_balance() -> list[TrialBalanceRow]:
    """Per account and currency: total debits, total credits, and the balance in the company currency."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.code, a.name, l.currency,
                   SUM(GREATEST(l.amount, 0)), SUM(GREATEST(-l.amount, 0)), SUM(l.amount_company)
              FROM ledger_journalline l JOIN ledger_ledgeraccount a ON a.id = l.account_id
             GROUP BY a.code, a.name, l.currency
             ORDER BY a.code, l.currency
            """
        )
        return [TrialBalanceRow(*row) for row in cursor.fetchall()]


def ledger_problems() -> list[str]:
    """What breaks the ledger's own invariants; an empty list means they hold.

    1. The trial balance is zero, per currency and in the company currency.
    2. Every entry balances (a deferred trigger enforces it; this checks the data as it stands).
    3. Every receivable line names an open item of its customer and currency.
    4. Every line carries its entry's posting date and kind (reports read them from the line).
    5. Every item's `settled_on` agrees with its lines (reports as of a date skip items settled by then).

    The checks against other apps' figures (invoices' open amounts, payments' unapplied amounts)
    are theirs; `workflows.verification.ledger_problems` runs them all.
    """
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT currency, SUM(amount) FROM ledger_journalline GROUP BY currency HAVING SUM(amount) <> 0")
        problems += [f"Trial balance in {currency} is {total}, not 0." for currency, total in cursor.fetchall()]
        cursor.execute("SELECT COALESCE(SUM(amount_company), 0) FROM ledger_journalline")
        (company_total,) = cursor.fetchone()
        if company_total != 0:
            problems.append(f"Trial balance in the company currency is {company_total}, not 0.")
        cursor.execute(
            """
            SELECT entry_id, SUM(amount), SUM(amount_company) FROM ledger_journalline
             GROUP BY entry_id HAVING SUM(amount) <> 0 OR SUM(amount_company) <> 0 ORDER BY entry_id LIMIT 50
            """
        )
        problems += [f"JE-{entry} does not balance ({total}, {company})." for entry, total, company in cursor]
        cursor.execute(
            """
            SELECT l.id, l.entry_id FROM ledger_journalline l
              JOIN ledger_ledgeraccount a ON a.id = l.account_id
              LEFT JOIN ledger_openitem i ON i.id = l.item_id
             WHERE a.role = %s
               AND (i.id IS NULL OR i.customer_id IS DISTINCT FROM l.customer_id OR i.currency <> l.currency)
             ORDER BY l.id LIMIT 50
            """,
            [AccountRole.RECEIVABLE],
        )
        problems += [
            f"JE-{entry}: receivable line {line} names no open item of its customer and currency."
            for line, entry in cursor.fetchall()
        ]
        cursor.execute(
            """
            SELECT l.id, l.entry_id FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
             WHERE l.posted_on <> e.posted_on OR l.entry_kind <> e.kind
             ORDER BY l.id LIMIT 50
            """
        )
        problems += [
            f"JE-{entry}: line {line} does not carry its entry's posting date and kind." for line, entry in cursor
        ]
        cursor.execute(
            """
            SELECT i.reference, i.settled_on, s.settled_on FROM ledger_openitem i
              LEFT JOIN (SELECT item_id, CASE WHEN SUM(amount) = 0 THEN MAX(posted_on) END AS settled_on
                           FROM ledger_journalline WHERE item_id IS NOT NULL GROUP BY item_id) s ON s.item_id = i.id
             WHERE i.settled_on IS DISTINCT FROM s.settled_on
             ORDER BY i.id LIMIT 50
            """
        )
        problems += [f"{ref} is marked settled on {marked}, its lines say {actual}." for ref, marked, actual in cursor]
    return problems
