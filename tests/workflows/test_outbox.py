from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from customers import services
from customers.events import CustomerChanged
from otc.events import publish
from tests.factories import CustomerFactory
from workflows import handlers
from workflows.models import Delivery, DeliveryStatus, EventStatus, HandlerRun, OutboxEvent
from workflows.services import (
    ANY_EVENT,
    OutsideTransaction,
    deliveries_due,
    dispatch_event,
    events_due,
    run_handler_once,
)
from workflows.tasks import deliver

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_an_event_row_exists_only_if_its_transaction_committed(clerk, sales_rep):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    before = OutboxEvent.objects.count()

    with pytest.raises(Boom), transaction.atomic():
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
        assert OutboxEvent.objects.filter(event_type="customer.credit_hold_placed").exists()
        raise Boom

    assert OutboxEvent.objects.count() == before
    assert not OutboxEvent.objects.filter(event_type="customer.credit_hold_placed").exists()


@pytest.mark.django_db(transaction=True)
def test_recording_an_event_outside_a_transaction_is_refused():
    event = CustomerChanged(customer_id=1, customer_number="C-1", actor_id=1, changed_fields=["status"])
    with pytest.raises(OutsideTransaction):
        publish(event)
    assert not OutboxEvent.objects.exists()


def test_credit_hold_emails_the_sales_rep_once_after_commit(clerk, sales_rep, django_capture_on_commit_callbacks):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep, legal_name="Nordwind Handel GmbH")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.place_credit_hold(customer=customer, actor=clerk, reason="two invoices 60 days overdue")

    assert len(callbacks) == 2  # the enqueue, and the business counters once committed
    event = OutboxEvent.objects.get(event_type="customer.credit_hold_placed")
    assert event.status == EventStatus.DONE
    assert (event.version, event.payload) == (
        1,
        {
            "customer_id": customer.pk,
            "customer_number": customer.number,
            "actor_id": clerk.pk,
            "reason": "two invoices 60 days overdue",
        },
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rita@otc.test"]
    assert message.subject == f"Credit hold: {customer.number} Nordwind Handel GmbH"
    assert "two invoices 60 days overdue" in message.body
    assert "Clara Clerk" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>" in html


def test_a_handler_run_twice_sends_one_email(clerk, sales_rep, django_capture_on_commit_callbacks):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with transaction.atomic():
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
    event = OutboxEvent.objects.get(event_type="customer.credit_hold_placed")
    mail.outbox.clear()

    first = run_handler_once(event=event, handler=handlers.notify_sales_rep_of_credit_hold)
    second = run_handler_once(event=event, handler=handlers.notify_sales_rep_of_credit_hold)
    with transaction.atomic():
        handlers.notify_sales_rep_of_credit_hold(event)  # even bypassing the run record
    for delivery in Delivery.objects.all():
        deliver(delivery.pk)
        deliver(delivery.pk)

    assert (first, second) == (True, False)
    assert HandlerRun.objects.filter(event=event).count() == 1
    assert Delivery.objects.filter(event=event).count() == 1
    assert len(mail.outbox) == 1


def test_dispatching_a_done_event_again_does_nothing(clerk, sales_rep, django_capture_on_commit_callbacks):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
    event = OutboxEvent.objects.get(event_type="customer.credit_hold_placed")

    assert dispatch_event(event_id=event.pk, handlers=handlers.HANDLERS) is None
    event.refresh_from_db()
    assert event.attempts == 1
    assert Delivery.objects.count() == 1


def test_handlers_for_any_event_run_after_the_types_own(clerk):
    customer = CustomerFactory(actor=clerk)
    with transaction.atomic():
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
    event = OutboxEvent.objects.get(event_type="customer.credit_hold_placed")
    ran: list[str] = []

    def own(event: OutboxEvent) -> None:
        ran.append("own")

    def every(event: OutboxEvent) -> None:
        ran.append("every")

    dispatch_event(event_id=event.pk, handlers={ANY_EVENT: [every], event.event_type: [own], "other.type": [own]})

    assert ran == ["own", "every"]
    assert set(HandlerRun.objects.filter(event=event).values_list("handler", flat=True)) == {"own", "every"}


def test_a_failing_handler_leaves_the_event_pending_with_back_off_and_no_effects(clerk, sales_rep, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with transaction.atomic():
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
    event = OutboxEvent.objects.get(event_type="customer.credit_hold_placed")

    def queue_then_fail(event):
        handlers.notify_sales_rep_of_credit_hold(event)
        raise Boom("smtp relay unknown")

    broken = {"customer.credit_hold_placed": [queue_then_fail]}
    dispatch_event(event_id=event.pk, handlers=broken)
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    assert event.attempts == 1
    assert event.last_error == "Boom: smtp relay unknown"
    assert not Delivery.objects.exists()
    assert not HandlerRun.objects.exists()

    OutboxEvent.objects.filter(pk=event.pk).update(available_at=None)
    dispatch_event(event_id=event.pk, handlers=broken)
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED
    assert event.attempts == 2


def test_a_failed_send_is_retried_after_its_back_off(clerk, sales_rep, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.workflows.test_outbox.BrokenEmailBackend"
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "connection refused" in delivery.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    deliver(delivery.pk)  # backing off: not yet
    assert mail.outbox == []
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


class BrokenEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused")


def test_billing_address_change_notifies_the_sales_rep(clerk, sales_rep, django_capture_on_commit_callbacks):
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.add_address(
            customer=customer,
            actor=clerk,
            data={
                "kind": "billing",
                "line1": "Kaiserstr. 5",
                "postal_code": "60311",
                "city": "Frankfurt",
                "country": "DE",
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.add_address(
            customer=customer,
            actor=clerk,
            data={
                "kind": "shipping",
                "line1": "Hafenweg 9",
                "postal_code": "20457",
                "city": "Hamburg",
                "country": "DE",
            },
        )

    assert [m.subject for m in mail.outbox] == [f"Billing data changed: {customer.number} {customer.display_name}"]
    assert "billing_address" in mail.outbox[0].body


def test_change_request_asks_approvers_and_tells_the_requester_the_outcome(
    clerk, approver, sales_rep, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(actor=clerk)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_credit_limit_change(
            customer=customer, actor=clerk, credit_limit="5000", reason="first order"
        )
    asked = sorted(recipient for message in mail.outbox for recipient in message.to)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_change_request(change_request=request, actor=approver)

    assert "clara@otc.test" not in asked
    assert "anton@otc.test" in asked
    assert [m.to for m in mail.outbox] == [["clara@otc.test"]]
    assert "approved" in mail.outbox[0].subject.lower()


def test_the_sweeper_republishes_a_stuck_event_once_per_lease(clerk, sales_rep, settings):
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 0
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with transaction.atomic():
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")  # never dispatched
    stuck = OutboxEvent.objects.get(event_type="customer.credit_hold_placed")

    first, second = events_due(), events_due()

    assert stuck.pk in first
    assert stuck.pk not in second
    OutboxEvent.objects.filter(pk=stuck.pk).update(swept_at=timezone.now() - timedelta(hours=1))
    assert stuck.pk in events_due()


def test_a_failed_email_waits_for_its_back_off_before_the_next_try(
    clerk, sales_rep, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.workflows.test_outbox.BrokenEmailBackend"
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 0
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.place_credit_hold(customer=customer, actor=clerk, reason="overdue")
    delivery = Delivery.objects.get()

    assert deliveries_due() == []
    assert timedelta(seconds=29) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert deliveries_due() == [delivery.pk]
