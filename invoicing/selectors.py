"""Read side of invoicing: lists at a constant query cost, open items, and the check that the
invoices' cached open amounts equal what the ledger has open on their items."""

from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from customers.models import Customer, InvoicingSchedule, Preferences
from customers.selectors import CUSTOMER_SEARCH
from invoicing.einvoice import common as einvoice
from invoicing.models import DocumentKind, Invoice, InvoiceHold, InvoiceLine, InvoiceStatus
from ledger.models import AccountRole
from otc.document_numbers import citations
from otc.models import CompanyProfile
from otc.search import SearchSpec

ZERO = Decimal("0")


def peppol_endpoint_problems(invoice: Invoice) -> list[str]:
    """Why the document's e-invoice cannot name a Peppol participant for the seller or the buyer, which
    every access point refuses (PEPPOL-EN16931-R020/R010): said when it is issued, not first when sent."""
    problems = []
    company = CompanyProfile.objects.filter(pk=1).first()
    if company is None or einvoice.seller_endpoint(company) is None:
        problems.append(
            "The company profile has no Peppol ID and its VAT ID gives none: set one under Company profile "
            "(PEPPOL-EN16931-R020)."
        )
    if einvoice.buyer_endpoint(invoice) is None:
        problems.append(
            f"{invoice.customer} has neither a Peppol ID nor a VAT ID to derive one from: its e-invoice is "
            "refused (PEPPOL-EN16931-R010) and waits until a Peppol ID is set on the customer."
        )
    return problems


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


def invoices_each_shipment(customer_id: int) -> bool:
    """Whether the customer's shipments are invoiced one by one as they leave (not consolidated)."""
    schedule = Preferences.objects.filter(customer_id=customer_id).values_list("invoicing_schedule", flat=True).first()
    return schedule in (None, InvoicingSchedule.PER_SHIPMENT)


def open_amount_problems() -> list[str]:
    """The invoices' open amounts are a cached figure: each issued document's equals what the ledger
    has open on its item, and each customer's receivable, per currency, equals the sum of them."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH ledger AS (
                SELECT i.document_id, SUM(l.amount) AS balance
                  FROM ledger_openitem i JOIN ledger_journalline l ON l.item_id = i.id
                 GROUP BY i.document_id
            )
            SELECT d.number, d.currency, d.open_amount,
                   COALESCE(CASE WHEN d.kind = %s THEN -ledger.balance ELSE ledger.balance END, 0)
              FROM invoicing_invoice d LEFT JOIN ledger ON ledger.document_id = d.id
             WHERE d.status <> 'draft'
               AND d.open_amount <> COALESCE(CASE WHEN d.kind = %s THEN -ledger.balance ELSE ledger.balance END, 0)
             ORDER BY d.id LIMIT 50
            """,
            [DocumentKind.CREDIT_NOTE, DocumentKind.CREDIT_NOTE],
        )
        problems += [
            f"{number}: open {open_amount} {currency} but the ledger has {ledger} {currency} open on it."
            for number, currency, open_amount, ledger in cursor.fetchall()
        ]
        cursor.execute(
            """
            WITH ledger AS (
                SELECT l.customer_id, l.currency, SUM(l.amount) AS balance
                  FROM ledger_journalline l JOIN ledger_ledgeraccount a ON a.id = l.account_id
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


# Invoices and credit notes by number (whole or its start), PO number, or their customer's number or name.
INVOICE_SEARCH = SearchSpec(prefix=("number",), exact=("po_number",), related=(("customer", CUSTOMER_SEARCH),))

# What a document's state allows; the services refuse the rest, the admin offers only these.
PAYABLE_STATUSES = frozenset({InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID})
CREDITABLE_STATUSES = frozenset({InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID})


def is_draft(invoice: Invoice) -> bool:
    return invoice.status == InvoiceStatus.DRAFT


def is_issued(invoice: Invoice) -> bool:
    return invoice.status != InvoiceStatus.DRAFT


def is_payable(invoice: Invoice) -> bool:
    """An issued invoice (not a credit note) with something open."""
    return not invoice.is_credit_note and invoice.status in PAYABLE_STATUSES and invoice.open_amount > 0


def is_creditable(invoice: Invoice) -> bool:
    """An issued invoice not yet credited in full; a credit note is never credited."""
    return not invoice.is_credit_note and invoice.status in CREDITABLE_STATUSES


def document_by_number(*, kind: str, number: str) -> Invoice | None:
    """The issued invoice or credit note people name by its number (surrounding blanks ignored)."""
    return Invoice.objects.filter(kind=kind, number=number.strip()).first()


def open_invoice_by_typed_number(text: str, *, currency: str) -> Invoice | None:
    """Any customer's open invoice in `currency` by its number as a clerk types it: whole
    ("INV-2026-000412", "inv 2026/412") or its sequence alone ("412", "000412") when exactly one open
    invoice has that sequence."""
    payable = Invoice.objects.filter(
        kind=DocumentKind.INVOICE, currency=currency, status__in=PAYABLE_STATUSES, open_amount__gt=0
    ).select_related("customer")
    cited = citations(text, "typed", min_sequence=1)
    if cited:
        year, sequence = cited[0].digits[:4], cited[0].digits[4:]
        matches = payable.filter(number__endswith=f"-{year}-{int(sequence):06d}")
    elif (digits := "".join(filter(str.isdigit, text))) and len(digits) <= 6:
        matches = payable.filter(number__endswith=f"-{int(digits):06d}")
    else:
        return None
    found = list(matches[:2])
    return found[0] if len(found) == 1 else None


def numbers_of(invoice_ids: list[int]) -> list[str]:
    """The numbers of these invoices and credit notes, in the order given (one query)."""
    numbers = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "number"))
    return [numbers[invoice_id] for invoice_id in invoice_ids]
