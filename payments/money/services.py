"""Write side of payments: receiving money, allocating it to invoices (with write-offs within
tolerance), undoing allocations, and refunding credit balances with a second person's approval.

Postings (debit positive): receiving is bank against unapplied customer payments (and bank fees);
allocating moves the amount from unapplied payments to the invoice's receivable, a write-off from
the write-off expense; refunding pays unapplied payments back out of the bank. Rows are locked in
one order (payment, then invoices by id) so concurrent clerks serialise instead of deadlocking.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Customer
from invoicing import selectors as invoice_selectors
from invoicing.models import DocumentKind, Invoice, InvoiceStatus
from invoicing.services import reopen_invoice, settle_invoice
from ledger.models import AccountRole, EntryKind, ItemKind, OpenItem
from ledger.selectors import items_for_documents
from ledger.services import Posting, post_entry, reverse_entry
from otc.audit import acting
from otc.errors import Conflict, InvalidInput, PermissionDenied, field_checked
from otc.events import publish
from otc.exchange_rates import rate_on
from otc.models import User
from otc.money import parse_decimal, validate_currency
from payments.events import AppliedInvoice, PaymentAllocated, PaymentReceived
from payments.models import (
    PAYMENT_NUMBER_SEQUENCE,
    Allocation,
    Payment,
    PaymentMethod,
    PaymentSource,
    Refund,
    RefundStatus,
)
from payments.money.errors import DuplicatePayment, NothingOpen, OverAllocation

ZERO = Decimal("0")


def payment_numbers(year: int, count: int) -> list[str]:
    """The next `count` payment numbers of the year, from their sequence in one query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [PAYMENT_NUMBER_SEQUENCE, count])
        return [f"PAY-{year}-{value:06d}" for (value,) in cursor.fetchall()]


def received_postings(*, amount: Decimal, bank_fee: Decimal, customer_id: int) -> list[Posting]:
    """Money received: the bank (less its fee) against the customer's unapplied payments."""
    return [
        Posting(AccountRole.CASH, amount - bank_fee),
        Posting(AccountRole.BANK_FEES, bank_fee),
        Posting(AccountRole.CUSTOMER_CREDIT, -amount, customer_id),
    ]


def allocation_postings(*, customer_id: int, item_id: int, amount: Decimal, write_off: Decimal) -> list[Posting]:
    """Applying money: from the customer's unapplied payments (and the write-off) to the invoice's item."""
    return [
        Posting(AccountRole.CUSTOMER_CREDIT, amount, customer_id),
        Posting(AccountRole.WRITE_OFF, write_off),
        Posting(AccountRole.RECEIVABLE, -(amount + write_off), customer_id, item_id),
    ]


def allocation_entry_kind(amount: Decimal) -> str:
    return EntryKind.WRITE_OFF if amount == ZERO else EntryKind.ALLOCATION


def allocation_memo(payment_number: str, invoice_number: str, write_off: Decimal) -> str:
    return f"{payment_number} → {invoice_number}" + (f", {write_off} written off" if write_off else "")


def received_memo(payment_number: str, customer: Customer) -> str:
    return f"{payment_number} from {customer.legal_name}"


def payment_received(payment: Payment, *, customer: Customer, actor: User) -> PaymentReceived:
    """The event a recorded payment announces, one by one or in a booked batch."""
    return PaymentReceived(
        payment_id=payment.pk,
        payment_number=payment.number,
        customer_id=customer.pk,
        customer_number=customer.number,
        actor_id=actor.pk,
        received_on=payment.received_on,
        currency=payment.currency,
        amount=payment.amount,
    )


def payment_allocated(
    payment: Payment, *, customer: Customer, actor: User, applied: list[tuple[Invoice, Decimal, Decimal]]
) -> PaymentAllocated:
    """The event an allocation announces: each (invoice, amount, write-off) applied, one payment's worth."""
    return PaymentAllocated(
        payment_id=payment.pk,
        payment_number=payment.number,
        customer_id=customer.pk,
        customer_number=customer.number,
        actor_id=actor.pk,
        currency=payment.currency,
        invoices=[
            AppliedInvoice(invoice_id=invoice.pk, invoice_number=invoice.number, amount=amount, write_off=written_off)
            for invoice, amount, written_off in applied
        ],
    )


@transaction.atomic
def record_payment(
    *,
    customer: Customer,
    amount: Decimal,
    currency: str,
    method: str,
    source: str,
    actor: User,
    received_on: date | None = None,
    bank_fee: Decimal = ZERO,
    external_id: str = "",
    reference: str = "",
    payer_name: str = "",
) -> Payment:
    """Book money received as the customer's unapplied payment; allocate it next.

    A payment carrying an external id already recorded from the same source is refused, so a
    partner or provider retrying cannot book it twice.
    """
    field_checked("currency", validate_currency, currency)
    amount = parse_decimal(amount, field="amount", low=Decimal("0.01"), currency=currency)
    bank_fee = parse_decimal(bank_fee, field="bank_fee", low=ZERO, currency=currency)
    if bank_fee >= amount:
        raise InvalidInput("The bank fee must be below the amount.", fields={"bank_fee": ["Below the amount."]})
    if method not in PaymentMethod.values or source not in PaymentSource.values:
        raise InvalidInput("Unknown method or source.", fields={"method": [f"One of {PaymentMethod.values}."]})
    received_on = received_on or timezone.localdate()
    external_id = external_id.strip()[:100]
    if external_id and Payment.objects.filter(source=source, external_id=external_id).exists():
        raise DuplicatePayment(f"{source} payment {external_id} is recorded already.")
    rate = rate_on(currency, received_on)
    with acting(actor, "payment received"):
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    number=payment_numbers(received_on.year, 1)[0],
                    customer=customer,
                    currency=currency,
                    amount=amount,
                    bank_fee=bank_fee,
                    received_on=received_on,
                    method=method,
                    source=source,
                    external_id=external_id,
                    reference=reference.strip()[:300],
                    payer_name=payer_name.strip()[:200],
                    created_by=actor,
                )
        except IntegrityError as error:
            raise DuplicatePayment(f"{source} payment {external_id} is recorded already.") from error
        post_entry(
            kind=EntryKind.PAYMENT,
            posted_on=received_on,
            memo=received_memo(payment.number, customer),
            postings=received_postings(amount=amount, bank_fee=bank_fee, customer_id=customer.pk),
            currency=currency,
            rate=rate,
            actor=actor,
            source=f"payment:{payment.pk}",
        )
    publish(payment_received(payment, customer=customer, actor=actor))
    return payment


@dataclass(frozen=True)
class Application:
    """Apply `amount` of the payment to `invoice`; `write_off` closes a short rest within tolerance."""

    invoice: Invoice
    amount: Decimal
    write_off: bool = False


def write_off_tolerance(currency: str) -> Decimal:
    """The largest short payment closed without asking, in the document currency."""
    return Decimal(settings.OTC_WRITE_OFF_TOLERANCE.get(currency, settings.OTC_WRITE_OFF_TOLERANCE["default"]))


@transaction.atomic
def allocate_payment(*, payment: Payment, applications: list[Application], actor: User) -> list[Allocation]:
    """Apply a payment to one or many open invoices of its customer, in its currency."""
    if not applications:
        raise InvalidInput("Nothing to allocate.", fields={"applications": ["At least one invoice."]})
    payment = Payment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=payment.pk)
    invoices = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .filter(pk__in=sorted({application.invoice.pk for application in applications}))
        .order_by("pk")
    }
    if len(invoices) != len(applications):
        raise InvalidInput("An invoice is named twice.", fields={"applications": ["Each invoice once."]})
    items = items_for_documents(kind=ItemKind.INVOICE, document_ids=list(invoices))
    left = payment.unallocated_amount
    allocations = []
    with acting(actor, f"allocate {payment.number}"):
        for application in applications:
            invoice = invoices[application.invoice.pk]
            amount = parse_decimal(application.amount, field="amount", low=ZERO, currency=payment.currency)
            write_off = checked_write_off(payment, invoice, amount, left, write_off=application.write_off)
            allocations.append(_allocate(payment, invoice, items[invoice.pk], amount, write_off, actor))
            left -= amount
        payment.allocated_amount = payment.amount - payment.refunded_amount - left
        payment.save(update_fields=["allocated_amount"])
    applied = [(allocation.invoice, allocation.amount, allocation.write_off_amount) for allocation in allocations]
    publish(payment_allocated(payment, customer=payment.customer, actor=actor, applied=applied))
    return allocations


def checked_write_off(
    payment: Payment, invoice: Invoice, amount: Decimal, left: Decimal, *, write_off: bool
) -> Decimal:
    """What applying `amount` of the payment (of which `left` is unapplied) to the invoice writes off,
    given the invoice's open amount as locked; refused when the application is not allowed."""
    _check_allocatable(payment, invoice, amount, left)
    rest = invoice.open_amount - amount
    written_off = rest if write_off and rest > ZERO else ZERO
    if written_off > write_off_tolerance(payment.currency):
        raise OverAllocation(
            f"{invoice}: {rest} {payment.currency} short is above the write-off tolerance "
            f"of {write_off_tolerance(payment.currency)}.",
            fields={"write_off": ["Above the tolerance."]},
        )
    if amount == ZERO and written_off == ZERO:
        raise InvalidInput("Allocate an amount above zero.", fields={"amount": ["Above zero."]})
    return written_off


def _check_allocatable(payment: Payment, invoice: Invoice, amount: Decimal, left: Decimal) -> None:
    if invoice.customer_id != payment.customer_id:
        raise InvalidInput(f"{invoice} belongs to another customer.", fields={"invoice": ["Another customer's."]})
    if invoice.kind != DocumentKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        raise InvalidInput(f"{invoice} is not an issued invoice.", fields={"invoice": ["Not an issued invoice."]})
    if invoice.currency != payment.currency:
        raise InvalidInput(
            f"{invoice} is in {invoice.currency}, the payment in {payment.currency}.",
            fields={"invoice": ["Another currency."]},
        )
    if amount > invoice.open_amount:
        raise OverAllocation(
            f"{invoice} has {invoice.open_amount} {invoice.currency} open; {amount} asked.",
            fields={"amount": [f"At most {invoice.open_amount}."]},
        )
    if amount > left:
        raise OverAllocation(
            f"{payment} has {left} {payment.currency} left; {amount} asked.",
            fields={"amount": [f"At most {left}."]},
        )


def _allocate(
    payment: Payment, invoice: Invoice, item: OpenItem, amount: Decimal, write_off: Decimal, actor: User
) -> Allocation:
    entry = post_entry(
        kind=allocation_entry_kind(amount),
        posted_on=timezone.localdate(),
        memo=allocation_memo(payment.number, invoice.number, write_off),
        postings=allocation_postings(
            customer_id=invoice.customer_id, item_id=item.pk, amount=amount, write_off=write_off
        ),
        currency=invoice.currency,
        rate=rate_on(invoice.currency, timezone.localdate()),
        actor=actor,
        item=item,
        source=f"payment:{payment.pk}",
    )
    invoice = settle_invoice(invoice=invoice, amount=amount + write_off)
    return Allocation.objects.create(
        payment=payment,
        invoice=invoice,
        amount=amount,
        write_off_amount=write_off,
        journal_entry=entry,
        created_by=actor,
    )


@transaction.atomic
def register_invoice_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    method: str,
    actor: User,
    received_on: date | None = None,
    bank_fee: Decimal = ZERO,
    reference: str = "",
    payer_name: str = "",
) -> Payment:
    """Money received for one invoice, booked and applied to it at once (the clerk's "Register payment"):
    what exceeds the invoice's open amount stays on the customer's account as credit."""
    invoice = Invoice.objects.get(pk=invoice.pk)
    if not invoice_selectors.is_payable(invoice):
        raise NothingOpen(f"{invoice} has nothing open to pay.")
    payment = record_payment(
        customer=invoice.customer,
        amount=amount,
        currency=invoice.currency,
        method=method,
        source=PaymentSource.STAFF,
        actor=actor,
        received_on=received_on,
        bank_fee=bank_fee,
        reference=reference or invoice.number,
        payer_name=payer_name,
    )
    allocate_payment(
        payment=payment, applications=[Application(invoice, min(payment.amount, invoice.open_amount))], actor=actor
    )
    return payment


@transaction.atomic
def unallocate(*, allocation: Allocation, actor: User, reason: str) -> Allocation:
    """Undo an allocation: its posting is reversed, the invoice reopens, the payment gets the amount back."""
    if not reason.strip():
        raise InvalidInput("Undoing an allocation needs a reason.", fields={"reason": ["This field is required."]})
    payment = Payment.objects.select_for_update().get(pk=allocation.payment_id)
    invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.reversed_at is not None:
        raise Conflict(f"The allocation of {payment} to {invoice} was undone already.")
    with acting(actor, f"unallocate: {reason.strip()}"):
        reverse_entry(entry=allocation.journal_entry, actor=actor, reason=reason)
        reopen_invoice(invoice=invoice, amount=allocation.amount + allocation.write_off_amount)
        payment.allocated_amount -= allocation.amount
        payment.save(update_fields=["allocated_amount"])
        allocation.reversed_at, allocation.reversed_by = timezone.now(), actor
        allocation.reversal_reason = reason.strip()[:300]
        allocation.save(update_fields=["reversed_at", "reversed_by", "reversal_reason"])
    return allocation


@transaction.atomic
def request_refund(*, payment: Payment, amount: Decimal, reason: str, actor: User) -> Refund:
    """Ask to pay a credit balance back; it waits for someone else's approval."""
    if not reason.strip():
        raise InvalidInput("A refund needs a reason.", fields={"reason": ["This field is required."]})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    amount = parse_decimal(amount, field="amount", low=Decimal("0.01"), currency=payment.currency)
    waiting = sum((refund.amount for refund in payment.refunds.filter(status=RefundStatus.REQUESTED)), ZERO)
    if amount + waiting > payment.unallocated_amount:
        raise OverAllocation(
            f"{payment} has {payment.unallocated_amount - waiting} {payment.currency} left to refund.",
            fields={"amount": [f"At most {payment.unallocated_amount - waiting}."]},
        )
    with acting(actor, f"refund requested: {reason.strip()}"):
        return Refund.objects.create(payment=payment, amount=amount, reason=reason.strip()[:300], requested_by=actor)


@transaction.atomic
def decide_refund(*, refund: Refund, actor: User, approve: bool) -> Refund:
    """Approve (pay out and post) or reject a refund; never by the person who asked for it."""
    if not actor.has_perm("payments.approve_refund"):
        raise PermissionDenied("Approving refunds needs the approve-refund permission.")
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if refund.status != RefundStatus.REQUESTED:
        raise Conflict(f"{refund} is decided already.")
    if refund.requested_by_id == actor.pk:
        raise PermissionDenied("Someone other than the requester decides a refund (four eyes).")
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    with acting(actor, "refund approved" if approve else "refund rejected"):
        refund.status = RefundStatus.PAID if approve else RefundStatus.REJECTED
        refund.decided_by, refund.decided_at = actor, timezone.now()
        if approve:
            if refund.amount > payment.unallocated_amount:
                raise OverAllocation(f"{payment} has only {payment.unallocated_amount} left to refund.")
            refund.journal_entry = post_entry(
                kind=EntryKind.REFUND,
                posted_on=timezone.localdate(),
                memo=f"Refund from {payment.number}: {refund.reason}",
                postings=[
                    Posting(AccountRole.CUSTOMER_CREDIT, refund.amount, payment.customer_id),
                    Posting(AccountRole.CASH, -refund.amount),
                ],
                currency=payment.currency,
                rate=rate_on(payment.currency, timezone.localdate()),
                actor=actor,
                source=f"payment:{payment.pk}",
            )
            payment.refunded_amount += refund.amount
            payment.save(update_fields=["refunded_amount"])
        refund.save(update_fields=["status", "decided_by", "decided_at", "journal_entry"])
    return refund
