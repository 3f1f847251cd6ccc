import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from pypdf import PdfReader

from customers.models import Contact, CustomerStatus, NotificationType, Preferences
from otc.errors import InvalidInput
from payments.collections import services as collections
from payments.collections.errors import PlanAmountMismatch
from payments.collections.letters import render_dunning_letter_pdf
from payments.models import (
    DunningAssignment,
    DunningLetter,
    DunningLevel,
    DunningPolicy,
    InvoiceDunningState,
    LetterTemplate,
    PaymentReminder,
    PromiseStatus,
)
from service import services as disputes
from service.models import DisputeReason, DisputeResolution
from tests.factories import allocated_payment, apply, manual_invoice
from tests.support.outbox import run_outbox
from workflows import tasks
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = Decimal
# The issuing company on the letterhead, its documents in the test's own media root.


@pytest.fixture
def policy(db):
    """7 days: a reminder; 21 days: a second notice with a 5.00 fee and 8 % interest; 35 days: the final
    demand with 15.00, 9 % and a credit hold."""
    policy = DunningPolicy.objects.create(name="Standard", is_default=True)
    for level, days, template, fee, rate, hold in [
        (1, 7, LetterTemplate.REMINDER, "0", "0", False),
        (2, 21, LetterTemplate.SECOND_NOTICE, "5.00", "8", False),
        (3, 35, LetterTemplate.FINAL_DEMAND, "15.00", "9", True),
    ]:
        DunningLevel.objects.create(
            policy=policy,
            level=level,
            days_after_due=days,
            template=template,
            fee=D(fee),
            interest_rate_percent_per_year=D(rate),
            places_credit_hold=hold,
        )
    return policy


@pytest.fixture
def due(invoices):
    """The fixture invoices' due date (issued today, 30 days' terms)."""
    return invoices[0].due_date


@pytest.fixture
def contacts(buyer):
    Contact.objects.create(customer=buyer, name="Dora Dunning", email="dora@nordwind.example", roles=["dunning"])
    Contact.objects.create(customer=buyer, name="Bea Billing", email="bea@nordwind.example", roles=["billing"])


def dun(clerk, day):
    return collections.run_dunning(run_date=day, actor=clerk)


def levels(*invoices) -> list[int | None]:
    states = {state.invoice_id: state.level for state in InvoiceDunningState.objects.all()}
    return [states.get(invoice.pk) for invoice in invoices]


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- The dunning run ------------------------------------------------------------------------------------


def test_a_run_dunns_overdue_invoices_at_level_one_in_one_letter_per_customer(policy, invoices, due, clerk):
    run = dun(clerk, due + timedelta(days=10))

    (letter,) = DunningLetter.objects.all()
    assert (run.letters_count, run.finished_at is not None) == (1, True)
    assert (letter.customer, letter.level, letter.template, letter.currency) == (
        invoices[0].customer,
        1,
        LetterTemplate.REMINDER,
        "EUR",
    )
    assert sorted(letter.items.values_list("invoice_id", "level", "days_overdue", "open_amount")) == [
        (invoices[0].pk, 1, 10, D("119.00")),
        (invoices[1].pk, 1, 10, D("238.00")),
    ]
    assert (letter.fee_amount, letter.interest_amount, letter.total_due) == (D(0), D(0), D("357.00"))
    assert levels(*invoices) == [1, 1]
    (event,) = OutboxEvent.objects.filter(event_type="dunning.letter_issued")
    assert (event.version, event.payload) == (
        1,
        {
            "letter_id": letter.pk,
            "customer_id": letter.customer_id,
            "customer_number": letter.customer.number,
            "actor_id": clerk.pk,
            "level": 1,
            "currency": "EUR",
            "total_due": "357.00",
        },
    )


def test_invoices_not_yet_overdue_enough_for_the_first_level_are_left_alone(policy, invoices, due, clerk):
    run = dun(clerk, due + timedelta(days=6))

    assert run.letters_count == 0
    assert not DunningLetter.objects.exists()


def test_a_second_run_on_the_same_day_adds_nothing(policy, invoices, due, clerk):
    first = dun(clerk, due + timedelta(days=10))
    second = dun(clerk, due + timedelta(days=10))

    assert second == first
    assert DunningLetter.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="dunning.letter_issued").count() == 1


def test_a_later_run_raises_only_invoices_overdue_enough_and_claims_fee_and_interest(
    policy, buyer, invoices, due, clerk
):
    today = timezone.localdate()
    older = manual_invoice(buyer, clerk, ("1", "50", "19"), issue_date=today - timedelta(days=20))  # 59.50
    dun(clerk, older.due_date + timedelta(days=8))
    assert levels(older, *invoices) == [1, None, None]

    dun(clerk, older.due_date + timedelta(days=30))  # the others are 10 days overdue

    assert levels(older, *invoices) == [2, 1, 1]
    letter = DunningLetter.objects.get(run__run_date=older.due_date + timedelta(days=30))
    assert (letter.level, letter.template, letter.fee_amount) == (2, LetterTemplate.SECOND_NOTICE, D("5.00"))
    assert letter.interest_amount == D("0.39")  # 59.50 × 8 % × 30 / 365, half-up
    assert letter.total_due == D("59.50") + D("357.00") + D("5.00") + D("0.39")


def test_one_level_per_run_and_the_gap_between_levels_is_kept(policy, invoices, due, clerk):
    dun(clerk, due + timedelta(days=30))  # first dunned late: level 1, not 2
    dun(clerk, due + timedelta(days=31))  # overdue past level 2, but a letter went out yesterday

    assert levels(*invoices) == [1, 1]
    dun(clerk, due + timedelta(days=44))  # 14 days (21 − 7) after the first letter
    assert levels(*invoices) == [2, 2]


def test_level_three_puts_the_customer_on_credit_hold(policy, buyer, invoices, due, clerk):
    for days in (8, 22, 36):
        dun(clerk, due + timedelta(days=days))

    letter = DunningLetter.objects.get(level=3)
    assert (letter.template, letter.fee_amount) == (LetterTemplate.FINAL_DEMAND, D("15.00"))
    assert letter.interest_amount == D("1.06") + D("2.11")  # 9 % for 36 days on 119.00 and on 238.00
    buyer.refresh_from_db()
    assert buyer.status == CustomerStatus.ON_HOLD
    assert OutboxEvent.objects.filter(event_type="customer.credit_hold_placed").count() == 1
    assert dun(clerk, due + timedelta(days=90)).letters_count == 0  # no level beyond the last


def test_a_customer_without_assignment_follows_the_default_policy_and_an_assigned_one_its_own(
    policy, buyer, invoices, due, clerk
):
    lenient = DunningPolicy.objects.create(name="Lenient")
    DunningLevel.objects.create(policy=lenient, level=1, days_after_due=30, template=LetterTemplate.REMINDER)
    DunningAssignment.objects.create(customer=buyer, policy=lenient)

    assert dun(clerk, due + timedelta(days=10)).letters_count == 0
    assert dun(clerk, due + timedelta(days=30)).letters_count == 1


# --- What pauses dunning ----------------------------------------------------------------------------------


def test_a_disputed_invoice_is_skipped_until_the_dispute_is_resolved(policy, invoices, due, clerk):
    dispute = disputes.open_dispute(
        invoice=invoices[0], reason=DisputeReason.DAMAGED, description="Goods arrived damaged", actor=clerk
    )
    dun(clerk, due + timedelta(days=10))
    assert levels(*invoices) == [None, 1]

    disputes.resolve_dispute(
        dispute=dispute, resolution=DisputeResolution.REJECTED, note="Photos show transport damage only", actor=clerk
    )
    dun(clerk, due + timedelta(days=11))
    assert levels(*invoices) == [1, 1]


def test_a_promise_to_pay_pauses_dunning_until_its_date_passes(policy, buyer, invoices, due, clerk):
    promise = collections.record_promise_to_pay(
        customer=buyer, invoices=[invoices[0]], promised_date=due + timedelta(days=15), amount=D("119.00"), actor=clerk
    )
    dun(clerk, due + timedelta(days=10))
    dun(clerk, due + timedelta(days=15))
    assert levels(*invoices) == [None, 1]

    dun(clerk, due + timedelta(days=16))

    assert levels(*invoices) == [1, 1]
    promise.refresh_from_db()
    assert (promise.status, promise.resolved_on) == (PromiseStatus.BROKEN, due + timedelta(days=16))


def test_a_promise_taken_on_an_earlier_day_is_for_that_day_or_later(policy, buyer, invoices, due, clerk):
    """Invoices issued today fall due in 30 days: a promise logged as taken then, for a week later."""
    taken = due + timedelta(days=2)
    with pytest.raises(InvalidInput, match="today or later"):
        collections.record_promise_to_pay(
            customer=buyer,
            invoices=[invoices[0]],
            promised_date=due,
            amount=D("119.00"),
            actor=clerk,
            recorded_on=taken,
        )
    promise = collections.record_promise_to_pay(
        customer=buyer,
        invoices=[invoices[0]],
        promised_date=taken + timedelta(days=7),
        amount=D("119.00"),
        actor=clerk,
        recorded_on=taken,
    )

    dun(clerk, taken + timedelta(days=8))

    promise.refresh_from_db()
    assert (promise.status, promise.resolved_on) == (PromiseStatus.BROKEN, taken + timedelta(days=8))
    assert levels(*invoices) == [1, 1]


def test_a_promise_whose_invoices_are_paid_is_kept(policy, buyer, invoices, due, clerk):
    promise = collections.record_promise_to_pay(
        customer=buyer, invoices=[invoices[0]], promised_date=due + timedelta(days=15), amount=D("119.00"), actor=clerk
    )
    allocated_payment(buyer, clerk, apply(invoices[0], "119.00"))

    assert collections.mark_broken_promises(today=due + timedelta(days=20), actor=clerk) == 0
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT


def test_a_payment_plan_is_not_dunned_before_an_instalment_is_overdue(policy, buyer, invoices, due, clerk):
    collections.create_payment_plan(
        customer=buyer,
        invoices=invoices,
        instalments=[(due + timedelta(days=20), D("157.00")), (due + timedelta(days=50), D("200.00"))],
        actor=clerk,
    )
    assert dun(clerk, due + timedelta(days=10)).letters_count == 0
    assert dun(clerk, due + timedelta(days=20)).letters_count == 0  # the first instalment is due today

    assert dun(clerk, due + timedelta(days=21)).letters_count == 1  # and was not paid
    assert levels(*invoices) == [1, 1]


def test_a_payment_plan_paid_on_time_keeps_its_invoices_out_of_dunning(policy, buyer, invoices, due, clerk):
    plan = collections.create_payment_plan(
        customer=buyer,
        invoices=invoices,
        instalments=[(due + timedelta(days=20), D("157.00")), (due + timedelta(days=50), D("200.00"))],
        actor=clerk,
    )
    allocated_payment(buyer, clerk, apply(invoices[0], "119.00"), apply(invoices[1], "38.00"))

    assert dun(clerk, due + timedelta(days=25)).letters_count == 0
    assert list(plan.instalments.values_list("paid", flat=True)) == [True, False]


def test_instalments_must_add_up_to_the_open_total(buyer, invoices, due, clerk):
    with pytest.raises(PlanAmountMismatch):
        collections.create_payment_plan(
            customer=buyer, invoices=invoices, instalments=[(due, D("100.00"))], actor=clerk
        )


# --- The letter and its delivery -----------------------------------------------------------------------


@pytest.mark.usefixtures("company")
def test_the_letter_pdf_lists_the_invoices_and_totals(policy, invoices, due, clerk):
    for days in (8, 22):
        dun(clerk, due + timedelta(days=days))
    letter = DunningLetter.objects.get(level=2)

    text = pdf_text(render_dunning_letter_pdf(letter))

    assert "Second notice" in text
    for invoice in invoices:
        assert invoice.number in text
    assert "119.00" in text
    assert "238.00" in text
    assert "5.00 EUR" in text  # the fee
    assert (letter.interest_amount, letter.total_due) == (D("1.72"), D("363.72"))  # 0.57 + 1.15 at 8 % for 22 days
    assert "1.72 EUR" in text
    assert "363.72 EUR" in text
    assert "DE89 3704 0044 0532 0130 00" in text


@pytest.mark.usefixtures("company", "contacts")
def test_the_letter_is_emailed_with_its_pdf_to_the_dunning_contact_despite_opt_outs(
    policy, buyer, invoices, due, clerk
):
    Preferences.objects.filter(customer=buyer).update(opt_outs=NotificationType.values)
    dun(clerk, due + timedelta(days=10))
    mail.outbox.clear()

    run_outbox("dunning.letter_issued")
    run_outbox("dunning.letter_issued")  # a redelivered task finds the event done

    (message,) = mail.outbox
    letter = DunningLetter.objects.get()
    assert message.to == ["dora@nordwind.example"]
    assert message.subject == f"Payment reminder from Hanse Werkzeug GmbH (customer no. {buyer.number})"
    assert "Total due: 357.00 EUR" in message.body
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"DUN-{due + timedelta(days=10):%Y%m%d}-{buyer.number}-EUR.pdf", "application/pdf")
    assert content == letter.document.file.read()
    assert invoices[0].number in pdf_text(content)


# --- Receipts and reminders -------------------------------------------------------------------------------


@pytest.mark.usefixtures("company", "contacts")
def test_a_receipt_lists_the_invoices_a_payment_was_applied_to(buyer, invoices, clerk):
    mail.outbox.clear()
    allocated_payment(buyer, clerk, apply(invoices[0], "119.00"), apply(invoices[1], "38.00"))

    run_outbox("payment.allocated")

    (message,) = mail.outbox
    assert message.to == ["bea@nordwind.example"]
    assert "157.00 EUR" in message.body
    assert f"{invoices[0].number}: 119.00 EUR applied, 0.00 EUR still open" in message.body
    assert f"{invoices[1].number}: 38.00 EUR applied, 200.00 EUR still open" in message.body


@pytest.mark.usefixtures("company", "contacts")
def test_no_receipt_for_a_customer_who_opted_out(buyer, invoices, clerk):
    Preferences.objects.filter(customer=buyer).update(opt_outs=[NotificationType.PAYMENT_RECEIPT])
    mail.outbox.clear()
    allocated_payment(buyer, clerk, apply(invoices[0], "119.00"))

    run_outbox("payment.allocated")

    assert mail.outbox == []


@pytest.mark.usefixtures("company", "contacts")
def test_a_reminder_before_the_due_date_is_sent_once_per_invoice(settings, buyer, invoices, clerk):
    settings.OTC_PAYMENT_REMINDER_DAYS = 30
    mail.outbox.clear()

    assert tasks.send_payment_reminders() == 2
    assert tasks.send_payment_reminders() == 0
    run_outbox("invoice.payment_reminder_due")

    assert sorted(message.subject for message in mail.outbox) == sorted(
        f"Invoice {invoice.number} is due on {invoice.due_date:%b. %-d, %Y}" for invoice in invoices
    )
    assert {tuple(message.to) for message in mail.outbox} == {("bea@nordwind.example",)}
    assert PaymentReminder.objects.count() == 2


def test_no_reminder_for_a_customer_who_opted_out_nor_for_invoices_due_later(buyer, invoices, due, clerk):
    assert collections.record_payment_reminders(today=due - timedelta(days=4), days_ahead=3) == []
    Preferences.objects.filter(customer=buyer).update(opt_outs=[NotificationType.PAYMENT_REMINDER])
    assert collections.record_payment_reminders(today=due - timedelta(days=3), days_ahead=3) == []
    assert not OutboxEvent.objects.filter(event_type="invoice.payment_reminder_due").exists()
