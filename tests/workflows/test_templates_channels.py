"""The other sides of notifications: SMS to contacts who asked for it, bounces and complaints from the
mail provider's webhook putting addresses on the suppression list, and staff members' quiet hours and
daily digest."""

import base64
import json
from datetime import UTC, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from customers import services as customer_services
from otc.errors import InvalidInput
from tests.factories import CustomerFactory, StaffFactory
from tests.workflows.test_templates import confirm
from workflows import tasks
from workflows.errors import NotificationTemplateInvalid
from workflows.models import (
    Delivery,
    DeliveryChannel,
    DeliveryOutcome,
    DeliveryStatus,
    NotificationChannel,
    NotificationTemplate,
    StaffDigest,
    StaffNotificationSettings,
    Suppression,
)
from workflows.notifications.sms import LocmemSmsBackend
from workflows.notifications.staff import quiet_hours_end
from workflows.notifications.templates import save_notification_template
from workflows.services import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_sms_outbox():
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


def paula(customer):
    return customer.contacts.get(email="paula@nordwind.example")


@pytest.fixture
def sms_template(clerk):
    return save_notification_template(
        template=NotificationTemplate(
            key="order_confirmation",
            channel=NotificationChannel.SMS,
            language="en",
            is_active=True,
            body_text="Order {{ order.number }} confirmed: {{ order.gross_total }} {{ order.currency }}.",
        ),
        actor=clerk,
    )


# --- SMS ---------------------------------------------------------------------------------------------


def test_a_contact_who_asked_for_sms_gets_one_through_the_provider_backend(
    clerk, customer, widget, sms_template, django_capture_on_commit_callbacks
):
    customer_services.update_contact(
        contact=paula(customer), actor=clerk, data={"mobile": "+4915112345678", "sms_opt_in": True}
    )

    order = confirm(clerk, customer, widget, django_capture_on_commit_callbacks)

    assert LocmemSmsBackend.outbox == [("+4915112345678", f"Order {order.number} confirmed: 321.30 EUR.", "locmem-1")]
    sms = Delivery.objects.get(channel=DeliveryChannel.SMS)
    assert (sms.status, sms.provider_message_id, sms.template, sms.template_version) == (
        DeliveryStatus.SENT,
        "locmem-1",
        sms_template,
        1,
    )
    assert [message.to for message in mail.outbox] == [["paula@nordwind.example"]]  # the email still goes


def test_no_sms_without_opt_in_or_without_an_sms_template(clerk, customer, widget, django_capture_on_commit_callbacks):
    customer_services.update_contact(contact=paula(customer), actor=clerk, data={"mobile": "+4915112345678"})
    confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="1")  # no opt-in, no template
    customer_services.update_contact(contact=paula(customer), actor=clerk, data={"sms_opt_in": True})
    confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="1")  # opted in, no template
    assert LocmemSmsBackend.outbox == []
    assert not Delivery.objects.filter(channel=DeliveryChannel.SMS).exists()


def test_a_customer_who_opted_out_of_the_notification_gets_no_sms_either(
    clerk, customer, widget, sms_template, django_capture_on_commit_callbacks
):
    customer_services.update_contact(
        contact=paula(customer), actor=clerk, data={"mobile": "+4915112345678", "sms_opt_in": True}
    )
    customer_services.update_preferences(customer=customer, actor=clerk, data={"opt_outs": ["order_confirmation"]})
    confirm(clerk, customer, widget, django_capture_on_commit_callbacks)
    assert LocmemSmsBackend.outbox == []


@pytest.mark.parametrize("mobile", ["015112345678", "+49 151 1234", "+0123456789", "+4915x12345678", "+1234"])
def test_a_mobile_number_not_in_e164_is_refused_and_nothing_changes(clerk, customer, mobile):
    with pytest.raises(InvalidInput) as refused:
        customer_services.update_contact(contact=paula(customer), actor=clerk, data={"mobile": mobile})
    assert "mobile" in refused.value.fields
    assert paula(customer).mobile == ""


def test_sms_opt_in_needs_a_mobile_number(clerk, customer):
    with pytest.raises(InvalidInput, match="needs a mobile number"):
        customer_services.update_contact(contact=paula(customer), actor=clerk, data={"sms_opt_in": True})


def test_an_sms_template_is_text_only(clerk):
    with pytest.raises(NotificationTemplateInvalid, match="plain text"):
        save_notification_template(
            template=NotificationTemplate(key="order_confirmation", channel="sms", subject="x", body_text="y"),
            actor=clerk,
        )


# --- Bounces and complaints --------------------------------------------------------------------------


def postmark(client, payload: dict, *, secret: str = "otc-test:webhook-secret"):
    """POST to the Postmark tracking webhook with its basic auth, as Postmark does."""
    auth = base64.b64encode(secret.encode()).decode()
    return client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def bounce(delivery: Delivery, *, kind: str = "HardBounce", record: str = "Bounce") -> dict:
    """Postmark's documented bounce webhook body (developer docs, "Bounce webhook")."""
    return {
        "RecordType": record,
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": {"HardBounce": 1, "SoftBounce": 4096, "SpamComplaint": 512}[kind],
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"delivery": str(delivery.idempotency_key)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": delivery.recipient,
        "From": "otc@localhost",
        "BouncedAt": "2026-12-04T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": delivery.subject,
    }


@pytest.fixture
def confirmation(clerk, customer, widget, django_capture_on_commit_callbacks) -> Delivery:
    confirm(clerk, customer, widget, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return Delivery.objects.get(template_key="order_confirmation")


def test_a_hard_bounce_is_recorded_and_the_address_gets_no_further_email(
    client, clerk, customer, widget, confirmation, django_capture_on_commit_callbacks
):
    response = postmark(client, bounce(confirmation))
    assert response.status_code == 200

    confirmation.refresh_from_db()
    assert confirmation.outcome == DeliveryOutcome.BOUNCED
    assert "unknown user" in confirmation.outcome_reason
    assert "550 5.1.1" in confirmation.outcome_reason
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.reason, suppression.delivery) == (
        "paula@nordwind.example",
        "bounced",
        confirmation,
    )

    confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="1")
    assert mail.outbox == []
    assert Delivery.objects.filter(recipient="paula@nordwind.example").count() == 1


def test_a_complaint_suppresses_the_address_too(client, confirmation):
    complaint = bounce(confirmation, kind="SpamComplaint", record="SpamComplaint")
    assert postmark(client, complaint).status_code == 200
    confirmation.refresh_from_db()
    assert confirmation.outcome == DeliveryOutcome.COMPLAINED
    assert Suppression.objects.get().reason == "complained"


def test_a_soft_bounce_is_recorded_but_does_not_suppress(client, confirmation):
    assert postmark(client, bounce(confirmation, kind="SoftBounce")).status_code == 200
    confirmation.refresh_from_db()
    assert confirmation.outcome == DeliveryOutcome.BOUNCED
    assert not Suppression.objects.exists()


def test_a_webhook_without_the_right_credentials_changes_nothing(client, confirmation):
    response = postmark(client, bounce(confirmation), secret="otc-test:wrong")
    assert response.status_code in (400, 401, 403)
    confirmation.refresh_from_db()
    assert confirmation.outcome == ""
    assert not Suppression.objects.exists()


def test_staff_lift_a_suppression_in_the_admin_and_mail_flows_again(
    client, clerk, customer, widget, confirmation, django_capture_on_commit_callbacks
):
    postmark(client, bounce(confirmation))
    client.force_login(StaffFactory(is_superuser=True, email="boss@otc.test"))
    suppression = Suppression.objects.get()
    listing = client.get("/admin/workflows/suppression/")
    assert b"paula@nordwind.example" in listing.content
    response = client.post(f"/admin/workflows/suppression/{suppression.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Suppression.objects.exists()

    confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="1")
    assert [message.to for message in mail.outbox] == [["paula@nordwind.example"]]


# --- Quiet hours and the daily digest ----------------------------------------------------------------


def test_quiet_hours_end_in_the_users_time_zone_also_past_midnight(sales_rep):
    row = StaffNotificationSettings(
        user=sales_rep, time_zone="Europe/Berlin", quiet_hours_start=time(22), quiet_hours_end=time(7)
    )
    berlin = ZoneInfo("Europe/Berlin")
    assert quiet_hours_end(row, datetime(2026, 1, 10, 23, 30, tzinfo=berlin)) == datetime(2026, 1, 11, 7, tzinfo=berlin)
    assert quiet_hours_end(row, datetime(2026, 1, 11, 5, 59, tzinfo=berlin)) == datetime(2026, 1, 11, 7, tzinfo=berlin)
    assert quiet_hours_end(row, datetime(2026, 1, 11, 7, 0, tzinfo=berlin)) is None
    assert quiet_hours_end(row, datetime(2026, 1, 10, 12, 0, tzinfo=UTC)) is None
    assert quiet_hours_end(row, datetime(2026, 1, 10, 21, 30, tzinfo=UTC)) == datetime(2026, 1, 11, 7, tzinfo=berlin)


def place_hold(clerk, customer, reason: str = "overdue"):
    customer_services.place_credit_hold(customer=customer, actor=clerk, reason=reason)


def test_a_staff_email_queued_in_quiet_hours_waits_until_they_end(clerk, sales_rep, django_capture_on_commit_callbacks):
    now = timezone.now()
    StaffNotificationSettings.objects.create(
        user=sales_rep,
        time_zone="UTC",
        quiet_hours_start=(now - timedelta(hours=1)).time().replace(second=0, microsecond=0),
        quiet_hours_end=(now + timedelta(hours=2)).time().replace(second=0, microsecond=0),
    )
    customer = CustomerFactory(actor=clerk, sales_rep=sales_rep)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        place_hold(clerk, customer)

    delivery = Delivery.objects.get(recipient=sales_rep.email)
    ends = delivery.next_attempt_at
    assert timedelta(hours=1, minutes=58) < ends - now <= timedelta(hours=2)
    assert (delivery.status, mail.outbox) == (DeliveryStatus.PENDING, [])
    assert deliver(delivery_id=delivery.pk) is None  # the sweeper's try before the end: not claimable

    with mock.patch("workflows.services.timezone.now", return_value=ends + timedelta(seconds=1)):
        sent = deliver(delivery_id=delivery.pk)
    assert sent.status == DeliveryStatus.SENT
    assert [message.to for message in mail.outbox] == [[sales_rep.email]]


def test_a_customers_email_is_never_delayed_by_staff_settings(clerk, customer, widget, confirmation):
    assert confirmation.next_attempt_at is None
    assert confirmation.status == DeliveryStatus.SENT


def test_a_digest_user_gets_one_email_a_day_listing_each_notification_once(
    clerk, sales_rep, settings, django_capture_on_commit_callbacks
):
    settings.OTC_STAFF_DIGEST_HOUR = 0
    StaffNotificationSettings.objects.create(user=sales_rep, time_zone="Europe/Berlin", daily_digest=True)
    customers = [CustomerFactory(actor=clerk, sales_rep=sales_rep, legal_name=f"Digest {n} GmbH") for n in range(3)]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for customer in customers:
            place_hold(clerk, customer)

    held = Delivery.objects.filter(recipient=sales_rep.email)
    assert [delivery.status for delivery in held] == [DeliveryStatus.HELD] * 3
    assert mail.outbox == []

    assert tasks.send_staff_digests() == 1
    assert tasks.send_staff_digests() == 0  # the same day again: nothing more

    [digest_email] = mail.outbox
    assert digest_email.to == [sales_rep.email]
    assert "3 items" in digest_email.subject
    for customer in customers:
        assert digest_email.body.count(customer.legal_name) >= 1
    digest = StaffDigest.objects.get()
    assert sorted(digest.items.values_list("status", flat=True)) == [DeliveryStatus.DIGESTED] * 3
    assert digest.delivery.status == DeliveryStatus.SENT
    assert digest.delivery.event is None

    late = CustomerFactory(actor=clerk, sales_rep=sales_rep, legal_name="Late GmbH")
    with django_capture_on_commit_callbacks(execute=True):
        place_hold(clerk, late)
    assert tasks.send_staff_digests() == 0  # today's digest went out: tomorrow's will carry it
    tomorrow = timezone.now() + timedelta(days=1)
    with mock.patch("workflows.tasks.timezone.now", return_value=tomorrow):
        assert tasks.send_staff_digests() == 1
    assert len(mail.outbox) == 2
    assert "1 item" in mail.outbox[1].subject
    assert Delivery.objects.filter(recipient=sales_rep.email, status=DeliveryStatus.HELD).count() == 0
