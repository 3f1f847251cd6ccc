"""Read side of invoicing: lists at a constant query cost, open items, the customer's receivable
exposure, and the ledger's own checks (trial balance, subledger against open items)."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from customers.models import Customer, InvoicingSchedule, Preferences
from invoicing.models import (
    AccountRole,
    CompanyProfile,
    DocumentKind,
    Invoice,
    InvoiceHold,
    InvoiceLine,
    JournalEntry,
    JournalLine,
)
from otc.errors import Conflict
from otc.exchange_rates import convert

ZERO = Decimal("0")


class CompanyProfileMissing(Conflict):
    code = "company_profile_missing"
    title = "The company profile (name, address, VAT ID, bank details) is not set up."


def company_profile() -> CompanyProfile:
    """Who issues the documents; every document needs it."""
    profile = CompanyProfile.objects.filter(pk=1).first()
    if profile is None:
        raise CompanyProfileMissing("Set up the company profile under Invoicing → Company profile first.")
    return profile


def invoice_list() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("customer", "credited_invoice")


def invoice_detail(*, pk: int) -> Invoice:
    return (
        Invoice.objects.select_related("customer", "credited_invoice", "order", "return_order", "issued_by")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.select_related("product", "shipment_line__shipment")),
            "tax_breakdown",
            "credit_notes",
            "shipments__shipment",
            "deliveries",
            "documents",
        )
        .get(pk=pk)
    )


def overdue_condition() -> Q:
    """An invoice past its due date with money still open (credit notes are never overdue)."""
    return Q(kind=DocumentKind.INVOICE, open_amount__gt=0, due_date__lt=timezone.localdate())


def open_items(*, customer: Customer) -> QuerySet[Invoice]:
    """What the customer owes (invoices) and has in credit (credit notes), oldest due first."""
    return Invoice.objects.filter(customer=customer, open_amount__gt=0).order_by("due_date", "pk")


def open_balances(*, customer: Customer) -> dict[str, Decimal]:
    """Per currency: open invoices less unused credit notes, in one grouped query."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT currency, SUM(CASE WHEN kind = %s THEN -open_amount ELSE open_amount END)
              FROM invoicing_invoice
             WHERE customer_id = %s AND open_amount > 0
             GROUP BY currency
            """,
            [DocumentKind.CREDIT_NOTE, customer.pk],
        )
        return dict(cursor.fetchall())


def open_receivables(customer: Customer, currency: str) -> Decimal:
    """The customer's open balances, converted into `currency` at today's rates."""
    today = timezone.localdate()
    return sum(
        (
            convert(amount, from_currency=code, to_currency=currency, on=today)
            for code, amount in open_balances(customer=customer).items()
        ),
        ZERO,
    )


def invoices_each_shipment(customer_id: int) -> bool:
    """Whether the customer's shipments are invoiced one by one as they leave (not consolidated)."""
    schedule = Preferences.objects.filter(customer_id=customer_id).values_list("invoicing_schedule", flat=True).first()
    return schedule in (None, InvoicingSchedule.PER_SHIPMENT)


def journal(*, invoice: Invoice | None = None) -> QuerySet[JournalEntry]:
    entries = JournalEntry.objects.select_related("created_by", "invoice").prefetch_related(
        Prefetch("lines", queryset=JournalLine.objects.select_related("account", "customer"))
    )
    return entries.filter(invoice=invoice) if invoice is not None else entries


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
              FROM invoicing_journalline l JOIN invoicing_ledgeraccount a ON a.id = l.account_id
             GROUP BY a.code, a.name, l.currency
             ORDER BY a.code, l.currency
            """
        )
        return [TrialBalanceRow(*row) for row in cursor.fetchall()]


# Higher apps (payments) add checks of the accounts they post to, from their AppConfig.ready.
LEDGER_CHECKS: list[Callable[[], list[str]]] = []


def register_ledger_check(check: Callable[[], list[str]]) -> None:
    """`check()` returns the problems it finds; verify_ledger reports them with its own."""
    if check not in LEDGER_CHECKS:
        LEDGER_CHECKS.append(check)


def ledger_problems() -> list[str]:
    """Everything that breaks the ledger's invariants; an empty list means the ledger verifies.

    1. The trial balance is zero, per currency and in the company currency.
    2. Every entry balances (a deferred trigger enforces it; this checks the data as it stands).
    3. Each customer's receivable, per currency, equals the sum of their open items.
    4. The registered checks of higher apps (payments: unapplied payments equal what payments have left).
    """
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT currency, SUM(amount) FROM invoicing_journalline GROUP BY currency HAVING SUM(amount) <> 0"
        )
        problems += [f"Trial balance in {currency} is {total}, not 0." for currency, total in cursor.fetchall()]
        cursor.execute("SELECT COALESCE(SUM(amount_company), 0) FROM invoicing_journalline")
        (company_total,) = cursor.fetchone()
        if company_total != 0:
            problems.append(f"Trial balance in the company currency is {company_total}, not 0.")
        cursor.execute(
            """
            SELECT entry_id, SUM(amount), SUM(amount_company) FROM invoicing_journalline
             GROUP BY entry_id HAVING SUM(amount) <> 0 OR SUM(amount_company) <> 0 ORDER BY entry_id LIMIT 50
            """
        )
        problems += [f"JE-{entry} does not balance ({total}, {company})." for entry, total, company in cursor]
        cursor.execute(
            """
            WITH ledger AS (
                SELECT l.customer_id, l.currency, SUM(l.amount) AS balance
                  FROM invoicing_journalline l JOIN invoicing_ledgeraccount a ON a.id = l.account_id
                 WHERE a.role = %s
                 GROUP BY l.customer_id, l.currency
            ), items AS (
                SELECT customer_id, currency,
                       SUM(CASE WHEN kind = %s THEN -open_amount ELSE open_amount END) AS balance
                  FROM invoicing_invoice WHERE open_amount > 0
                 GROUP BY customer_id, currency
            )
            SELECT COALESCE(ledger.customer_id, items.customer_id), COALESCE(ledger.currency, items.currency),
                   COALESCE(ledger.balance, 0), COALESCE(items.balance, 0)
              FROM ledger FULL JOIN items
                ON items.customer_id = ledger.customer_id AND items.currency = ledger.currency
             WHERE COALESCE(ledger.balance, 0) <> COALESCE(items.balance, 0)
             ORDER BY 1, 2 LIMIT 50
            """,
            [AccountRole.RECEIVABLE, DocumentKind.CREDIT_NOTE],
        )
        problems += [
            f"Customer {customer}: receivable {ledger} {currency} but open items {items} {currency}."
            for customer, currency, ledger, items in cursor.fetchall()
        ]
    for check in LEDGER_CHECKS:
        problems += check()
    return problems


def active_holds() -> QuerySet[InvoiceHold]:
    return InvoiceHold.objects.filter(released_at__isnull=True)


def without_active_hold(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """The invoices no active hold protects: what dunning and reminders may touch."""
    return invoices.exclude(Exists(active_holds().filter(invoice=OuterRef("pk"))))


def active_hold(*, source: str) -> InvoiceHold | None:
    """The active hold that `source` ("dispute:12") placed, if any."""
    return active_holds().filter(source=source).first()


def is_on_hold(invoice: Invoice) -> bool:
    return active_holds().filter(invoice=invoice).exists()
