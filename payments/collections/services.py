"""Write side of collections: the daily dunning run, promises to pay, payment plans and reminders before
the due date. Collections only read invoicing's holds (a dispute, a query): a held invoice is skipped.

Fees and interest on a dunning letter are claimed, not posted. Posting them would debit the
customer's receivable without an open item behind it, breaking the ledger invariant (receivable =
sum of open items); charging them for real means issuing an invoice for them, which finance decides.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.utils import timezone

from customers.models import Customer, CustomerStatus, NotificationType
from customers.services import place_credit_hold
from invoicing.models import DocumentKind, Invoice, InvoiceStatus
from invoicing.selectors import without_active_hold
from otc.audit import acting
from otc.errors import InvalidInput
from otc.events import publish, publish_many
from otc.models import User
from otc.money import quantize
from payments.collections.errors import AlreadyInPaymentPlan, InvoicesNotCollectable, PlanAmountMismatch
from payments.events import DunningLetterIssued, PaymentReminderDue, PromiseToPayBroken
from payments.models import (
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    InvoiceDunningState,
    PaymentPlan,
    PaymentPlanInstalment,
    PaymentReminder,
    PromiseStatus,
    PromiseToPay,
)

ZERO = Decimal("0")
OPEN_STATUSES = [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]


def open_invoices() -> QuerySet:
    """Issued invoices (not credit notes) with something left to pay."""
    return Invoice.objects.filter(kind=DocumentKind.INVOICE, status__in=OPEN_STATUSES, open_amount__gt=ZERO)


def _checked_invoices(customer: Customer, invoices: list[Invoice]) -> list[Invoice]:
    """The customer's open invoices, locked in id order, all in one currency."""
    ids = sorted({invoice.pk for invoice in invoices})
    if not ids:
        raise InvoicesNotCollectable("Name at least one invoice.", fields={"invoices": ["At least one invoice."]})
    locked = list(open_invoices().select_for_update().filter(pk__in=ids, customer=customer).order_by("pk"))
    if len(locked) != len(ids) or len({invoice.currency for invoice in locked}) != 1:
        raise InvoicesNotCollectable(fields={"invoices": ["Open invoices of this customer, in one currency."]})
    return locked


# --- Dunning ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raise:
    invoice: Invoice
    level: DunningLevel
    days_overdue: int
    interest: Decimal


def _policies_by_customer(customer_ids: set[int]) -> dict[int, list[DunningLevel]]:
    """Each customer's levels in order: its assigned policy, else the default one, else none."""
    levels: dict[int, list[DunningLevel]] = defaultdict(list)
    for level in DunningLevel.objects.order_by("policy_id", "level"):
        levels[level.policy_id].append(level)
    default = DunningPolicy.objects.filter(is_default=True).values_list("pk", flat=True).first()
    assigned = dict(
        Customer.objects.filter(pk__in=customer_ids, dunning_assignment__isnull=False).values_list(
            "pk", "dunning_assignment__policy_id"
        )
    )
    return {customer_id: levels.get(assigned.get(customer_id, default), []) for customer_id in customer_ids}


def _settle_instalments() -> None:
    """Mark instalments paid, oldest first, as far as what the plan's invoices have been paid covers."""
    plans = (
        PaymentPlan.objects.filter(pk__in=PaymentPlanInstalment.objects.filter(paid=False).values("plan_id"))
        .annotate(still_open=Sum("invoices__open_amount"))
        .prefetch_related("instalments")
    )
    changed = []
    for plan in plans:
        paid_so_far, cumulative = plan.total_amount - (plan.still_open or ZERO), ZERO
        for instalment in sorted(plan.instalments.all(), key=lambda instalment: instalment.due_date):
            cumulative += instalment.amount
            if instalment.paid != (cumulative <= paid_so_far):
                instalment.paid = cumulative <= paid_so_far
                changed.append(instalment)
    PaymentPlanInstalment.objects.bulk_update(changed, ["paid"])


def dunnable_invoices(run_date: date) -> QuerySet:
    """Overdue open invoices that no hold (dispute), open promise or punctual payment plan protects."""
    promised = PromiseToPay.invoices.through.objects.filter(
        promisetopay__status=PromiseStatus.OPEN, promisetopay__promised_date__gte=run_date
    ).values("invoice_id")
    plans_in_arrears = PaymentPlanInstalment.objects.filter(paid=False, due_date__lt=run_date).values("plan_id")
    planned = (
        PaymentPlan.invoices.through.objects.filter(paymentplan__instalments__paid=False)
        .exclude(paymentplan_id__in=plans_in_arrears)
        .values("invoice_id")
    )
    return (
        without_active_hold(open_invoices())
        .filter(due_date__lt=run_date)
        .exclude(pk__in=promised)
        .exclude(pk__in=planned)
        .select_related("dunning_state")
        .order_by("customer_id", "currency", "pk")
    )


def _next_raise(invoice: Invoice, levels: list[DunningLevel], run_date: date) -> _Raise | None:
    """One level up, once the invoice is overdue enough for it and, after an earlier letter, the gap
    between the two levels has passed too: a hold released late must not send three letters in three
    days."""
    state = getattr(invoice, "dunning_state", None)
    current = state.level if state else 0
    following = next((level for level in levels if level.level > current), None)
    days_overdue = (run_date - invoice.due_date).days
    if following is None or days_overdue < following.days_after_due:
        return None
    if state is not None:
        reached = next((level.days_after_due for level in levels if level.level == current), 0)
        if (run_date - state.last_dunned_on).days < following.days_after_due - reached:
            return None
    interest = quantize(
        invoice.open_amount * following.interest_rate_percent_per_year / 100 * days_overdue / 365, invoice.currency
    )
    return _Raise(invoice, following, days_overdue, interest)


def _issue_letter(run: DunningRun, customer: Customer, currency: str, raises: list[_Raise], actor: User) -> None:
    top = max((item.level for item in raises), key=lambda level: level.level)
    fee = quantize(top.fee, currency)
    interest = sum((item.interest for item in raises), ZERO)
    letter = DunningLetter.objects.create(
        run=run,
        customer=customer,
        level=top.level,
        template=top.template,
        currency=currency,
        fee_amount=fee,
        interest_amount=interest,
        total_due=sum((item.invoice.open_amount for item in raises), ZERO) + fee + interest,
    )
    DunningLetterItem.objects.bulk_create(
        DunningLetterItem(
            letter=letter,
            invoice=item.invoice,
            level=item.level.level,
            days_overdue=item.days_overdue,
            open_amount=item.invoice.open_amount,
            interest_amount=item.interest,
        )
        for item in raises
    )
    InvoiceDunningState.objects.bulk_create(
        [
            InvoiceDunningState(invoice=item.invoice, level=item.level.level, last_dunned_on=run.run_date)
            for item in raises
        ],
        update_conflicts=True,
        unique_fields=["invoice"],
        update_fields=["level", "last_dunned_on"],
    )
    if any(item.level.places_credit_hold for item in raises) and customer.status == CustomerStatus.ACTIVE:
        place_credit_hold(
            customer=customer, actor=actor, reason=f"Dunning level {top.level} on {run.run_date:%Y-%m-%d}"
        )
    publish(
        DunningLetterIssued(
            letter_id=letter.pk,
            customer_id=customer.pk,
            customer_number=customer.number,
            actor_id=actor.pk,
            level=letter.level,
            currency=letter.currency,
            total_due=letter.total_due,
        )
    )


@transaction.atomic
def run_dunning(*, run_date: date, actor: User) -> DunningRun:
    """Raise every dunnable invoice one level where it is due for it, and write one letter per customer
    and currency. Idempotent per date: the run row is created and finished in this one transaction,
    so a second call that day finds it (waiting on the first call's insert) and returns it.

    Invoices are read, not locked: a letter is a snapshot, and cash application must not wait on it.
    """
    run, created = DunningRun.objects.get_or_create(run_date=run_date, defaults={"started_by": actor})
    run = DunningRun.objects.select_for_update().get(pk=run.pk)
    if not created or run.finished_at is not None:
        return run
    with acting(actor, f"dunning run {run_date:%Y-%m-%d}"):
        mark_broken_promises(today=run_date, actor=actor)
        _settle_instalments()
        invoices = list(dunnable_invoices(run_date))
        levels = _policies_by_customer({invoice.customer_id for invoice in invoices})
        groups: dict[tuple[int, str], list[_Raise]] = defaultdict(list)
        for invoice in invoices:
            if raised := _next_raise(invoice, levels[invoice.customer_id], run_date):
                groups[invoice.customer_id, invoice.currency].append(raised)
        customers = Customer.objects.in_bulk({customer_id for customer_id, _currency in groups})
        for (customer_id, currency), raises in groups.items():
            _issue_letter(run, customers[customer_id], currency, raises, actor)
        run.finished_at, run.letters_count = timezone.now(), len(groups)
        run.save(update_fields=["finished_at", "letters_count"])
    return run


# --- Promises to pay, payment plans ------------------------------------------------------------------


@transaction.atomic
def record_promise_to_pay(
    *,
    customer: Customer,
    invoices: list[Invoice],
    promised_date: date,
    amount: Decimal,
    actor: User,
    note: str = "",
    recorded_on: date | None = None,
) -> PromiseToPay:
    """The customer promised to pay by a date; dunning pauses for these invoices until it passes.
    A promise taken on an earlier day (`recorded_on`: a call logged late, a history replayed) is for
    that day or later; dunning runs of the days since then resolve it."""
    locked = _checked_invoices(customer, invoices)
    currency = locked[0].currency
    if promised_date < (recorded_on or timezone.localdate()):
        raise InvalidInput("A promise is for today or later.", fields={"promised_date": ["Today or later."]})
    open_total = sum((invoice.open_amount for invoice in locked), ZERO)
    amount = Decimal(amount)
    if not ZERO < amount <= open_total or quantize(amount, currency) != amount:
        raise InvalidInput(
            f"The amount must be above zero and at most {open_total} {currency}.",
            fields={"amount": [f"At most {open_total}, in {currency} minor units."]},
        )
    with acting(actor, "promise to pay"):
        promise = PromiseToPay.objects.create(
            customer=customer,
            promised_date=promised_date,
            currency=currency,
            amount=amount,
            note=note.strip()[:300],
            created_by=actor,
        )
        promise.invoices.set(locked)
    return promise


@transaction.atomic
def mark_broken_promises(*, today: date, actor: User) -> int:
    """Resolve open promises: kept once their invoices are paid, broken once the date passed without;
    returns how many were broken."""
    unpaid = open_invoices().filter(promises_to_pay=OuterRef("pk"))
    promises = PromiseToPay.objects.filter(status=PromiseStatus.OPEN)
    with acting(actor, "promises to pay resolved"):
        promises.exclude(Exists(unpaid)).update(status=PromiseStatus.KEPT, resolved_on=today)
        broken = list(promises.filter(promised_date__lt=today).select_related("customer"))
        PromiseToPay.objects.filter(pk__in=[promise.pk for promise in broken]).update(
            status=PromiseStatus.BROKEN, resolved_on=today
        )
    publish_many(
        [
            PromiseToPayBroken(
                promise_id=promise.pk,
                customer_id=promise.customer_id,
                customer_number=promise.customer.number,
                promised_date=promise.promised_date,
                currency=promise.currency,
                amount=promise.amount,
                actor_id=actor.pk,
            )
            for promise in broken
        ]
    )
    return len(broken)


@transaction.atomic
def create_payment_plan(
    *, customer: Customer, invoices: list[Invoice], instalments: list[tuple[date, Decimal]], actor: User
) -> PaymentPlan:
    """Agree to pay the invoices' open total in instalments; dunning waits while none is overdue."""
    locked = _checked_invoices(customer, invoices)
    currency = locked[0].currency
    if PaymentPlan.invoices.through.objects.filter(
        invoice_id__in=[invoice.pk for invoice in locked], paymentplan__instalments__paid=False
    ).exists():
        raise AlreadyInPaymentPlan(fields={"invoices": ["Already in a payment plan."]})
    dates = [due_date for due_date, _amount in instalments]
    if not instalments or len(set(dates)) != len(dates):
        raise InvalidInput("Give instalments on distinct dates.", fields={"instalments": ["Distinct dates."]})
    amounts = [Decimal(amount) for _date, amount in instalments]
    if any(amount <= ZERO or quantize(amount, currency) != amount for amount in amounts):
        raise InvalidInput(
            "Each instalment is above zero.", fields={"instalments": [f"Above zero, in {currency} minor units."]}
        )
    total = sum((invoice.open_amount for invoice in locked), ZERO)
    if sum(amounts, ZERO) != total:
        raise PlanAmountMismatch(
            f"The instalments add up to {sum(amounts, ZERO)}; {total} {currency} is open.",
            fields={"instalments": [f"Add up to {total}."]},
        )
    with acting(actor, "payment plan"):
        plan = PaymentPlan.objects.create(customer=customer, currency=currency, total_amount=total, created_by=actor)
        plan.invoices.set(locked)
        PaymentPlanInstalment.objects.bulk_create(
            PaymentPlanInstalment(plan=plan, due_date=due_date, amount=amount)
            for due_date, amount in sorted(zip(dates, amounts, strict=True))
        )
    return plan


# --- Reminders before the due date -----------------------------------------------------------------------


@transaction.atomic
def record_payment_reminders(*, today: date, days_ahead: int) -> list[PaymentReminder]:
    """Record one reminder for each open invoice falling due within `days_ahead` days, for customers
    who have not opted out; each reminder is sent (through the outbox) once in the invoice's life.

    A concurrent second call fails on the unique invoice and rolls back: the first one sends them.
    """
    due = list(
        without_active_hold(open_invoices())
        .filter(due_date__gt=today, due_date__lte=today + timedelta(days=days_ahead))
        .filter(payment_reminder__isnull=True)
        .exclude(customer__preferences__opt_outs__contains=[NotificationType.PAYMENT_REMINDER])
        .select_related("customer")
        .only("pk", "number", "customer_id", "customer__number", "due_date", "currency", "open_amount")
        .order_by("pk")
    )
    reminders = PaymentReminder.objects.bulk_create(PaymentReminder(invoice=invoice, sent_on=today) for invoice in due)
    publish_many(
        PaymentReminderDue(
            invoice_id=invoice.pk,
            invoice_number=invoice.number,
            customer_id=invoice.customer_id,
            customer_number=invoice.customer.number,
            due_date=invoice.due_date,
            currency=invoice.currency,
            open_amount=invoice.open_amount,
        )
        for invoice in due
    )
    return reminders
