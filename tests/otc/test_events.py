"""Events as contracts: every event type in the catalogue publishes a payload that validates against
its schema and is recorded with its type and version; anything else is refused and records nothing."""

import dataclasses
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin, get_type_hints

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from jsonschema import Draft202012Validator

from customers.services import add_customer_tag
from orders.events import OrderConfirmed
from otc.events import (
    CATALOGUE_DOCUMENT,
    DomainEvent,
    InvalidEvent,
    PublishedEvent,
    UnrecordedEvent,
    catalogue,
    catalogue_markdown,
    events_published,
    publish,
    publish_many,
)
from tests.factories import CustomerFactory
from workflows.handlers import HANDLERS
from workflows.models import OutboxEvent
from workflows.receivers import record_published_events
from workflows.services import ANY_EVENT, COPY_EVENTS_FROM, record_events

CATALOGUE_URL = "/api/v1/events/catalogue/"
EXPECTED = {
    "analytics.weekly_kpis_ready": 1,
    "credit_note.issued": 1,
    "customer.billing_data_changed": 1,
    "customer.change_request_decided": 1,
    "customer.change_request_submitted": 1,
    "customer.changed": 1,
    "customer.created": 1,
    "customer.portal_invitation_sent": 1,
    "customer.credit_hold_placed": 1,
    "customer.credit_hold_released": 1,
    "customer.tagged": 1,
    "dunning.letter_issued": 1,
    "inventory.low_stock": 1,
    "inventory.stock_received": 1,
    "invoice.issued": 1,
    "invoice.payment_reminder_due": 1,
    "invoice.resend_requested": 1,
    "order.cancelled": 1,
    "order.confirmed": 1,
    "order.credit_hold_released": 1,
    "order.goods_returned": 1,
    "order.put_on_credit_hold": 1,
    "order.rejected": 1,
    "order.return_request_decided": 1,
    "order.return_requested": 1,
    "payment.allocated": 1,
    "payment.received": 1,
    "shipment.delivered": 1,
    "shipment.dispatched": 1,
    "ticket.opened": 1,
    "ticket.reply_posted": 1,
    "ticket.sla_alert_raised": 1,
    "ticket.solved": 1,
    "survey.scored_low": 1,
    "dispute.opened": 1,
    "promise_to_pay.broken": 1,
}


def sample(hint):
    """A value of the field's type, as a service would pass it."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return "EUR" if args[0] is str else sample(args[0])
    if origin in (typing.Union, types.UnionType):
        return sample(next(arg for arg in args if arg is not type(None)))
    if origin is list:
        return [sample(args[0]), sample(args[0])]
    if origin is Literal:
        return args[0]
    if dataclasses.is_dataclass(hint):
        hints = get_type_hints(hint, include_extras=True)
        return hint(**{field.name: sample(hints[field.name]) for field in dataclasses.fields(hint)})
    values = {
        int: 42,
        str: "INV-2026-000412",
        bool: True,
        Decimal: Decimal("119.00"),
        date: date(2026, 3, 31),
        datetime: datetime(2026, 3, 31, 14, 5, 9, 250000, tzinfo=UTC),
    }
    return values[hint]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Unlisted(DomainEvent):
    """Defined outside any app's events module, so not in the catalogue."""

    type = "test.unlisted"


def order_confirmed(**overrides) -> OrderConfirmed:
    fields = {
        "order_id": 7,
        "order_number": "SO-2026-000007",
        "customer_id": 3,
        "customer_number": "C001003",
        "actor_id": 1,
        "currency": "EUR",
        "gross_total": Decimal("119.00"),
    }
    return OrderConfirmed(**{**fields, **overrides})


def test_the_catalogue_holds_every_event_type_with_its_version():
    assert {event_type: event.version for event_type, event in catalogue().items()} == EXPECTED
    assert all(event.summary() and event.schema()["additionalProperties"] is False for event in catalogue().values())


def test_every_handled_event_type_is_in_the_catalogue():
    assert set(HANDLERS) - {ANY_EVENT} - set(catalogue()) == set()


@pytest.mark.django_db
def test_tagging_a_customer_announces_the_tag_once(clerk):
    customer = CustomerFactory(actor=clerk)

    with transaction.atomic():
        add_customer_tag(customer=customer, name=" VIP ", actor=clerk)
        add_customer_tag(customer=customer, name="vip", actor=clerk)

    recorded = OutboxEvent.objects.get(event_type="customer.tagged")
    assert recorded.payload == {
        "customer_id": customer.pk,
        "customer_number": customer.number,
        "actor_id": clerk.pk,
        "tag": "vip",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", sorted(EXPECTED))
def test_a_sample_of_each_event_type_validates_and_is_recorded_with_its_version(event_type):
    event_class = catalogue()[event_type]
    event = sample(event_class)

    with transaction.atomic():
        publish(event)

    recorded = OutboxEvent.objects.get()
    assert (recorded.event_type, recorded.version) == (event_type, event_class.version)
    assert recorded.payload == event.payload()
    assert set(recorded.payload) == set(event_class.schema()["properties"])
    assert event_class.from_payload(recorded.payload) == event


def test_a_payload_is_json_ready():
    payload = order_confirmed(gross_total=Decimal("1234.50")).payload()
    assert payload == {
        "order_id": 7,
        "order_number": "SO-2026-000007",
        "customer_id": 3,
        "customer_number": "C001003",
        "actor_id": 1,
        "currency": "EUR",
        "gross_total": "1234.50",
    }


def test_amounts_are_written_in_their_currencys_minor_units():
    assert order_confirmed(gross_total=Decimal("119.0000")).payload()["gross_total"] == "119.00"
    assert order_confirmed(currency="JPY", gross_total=Decimal("1190.00")).payload()["gross_total"] == "1190"
    allocated = sample(catalogue()["payment.allocated"])
    assert [line["amount"] for line in allocated.payload()["invoices"]] == ["119.00", "119.00"]
    with pytest.raises(InvalidEvent, match="more decimals than EUR"):
        order_confirmed(gross_total=Decimal("119.005")).payload()


@pytest.mark.django_db
def test_an_event_type_not_in_the_catalogue_is_refused_and_records_nothing():
    with pytest.raises(InvalidEvent, match="not in the event catalogue"), transaction.atomic():
        publish(Unlisted())
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"currency": "euro"}, "currency"),
        ({"gross_total": Decimal("NaN")}, "gross_total"),
        ({"gross_total": 119.0}, "gross_total"),
        ({"order_number": None}, "order_number"),
        ({"order_id": "7"}, "order_id"),
    ],
)
def test_an_invalid_payload_is_refused_at_once_and_records_nothing(overrides, message):
    with pytest.raises(InvalidEvent, match=message), transaction.atomic():
        publish(order_confirmed(**overrides))
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_one_invalid_event_in_a_bulk_publication_records_none_of_them():
    with pytest.raises(InvalidEvent, match="currency"), transaction.atomic():
        publish_many([order_confirmed(), order_confirmed(order_id=8), order_confirmed(order_id=9, currency="eur")])
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db
def test_a_bulk_publication_records_every_event_in_one_insert(django_assert_num_queries):
    events = [order_confirmed(order_id=order_id) for order_id in range(1, 51)]
    with transaction.atomic(), django_assert_num_queries(1):
        publish_many(events)
    assert sorted(OutboxEvent.objects.values_list("payload__order_id", flat=True)) == list(range(1, 51))
    assert not OutboxEvent.objects.exclude(status="pending", attempts=0, last_error="").exists()
    assert not OutboxEvent.objects.filter(created_at__isnull=True).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, COPY_EVENTS_FROM - 1, COPY_EVENTS_FROM])
def test_recorded_events_carry_the_ids_of_their_rows_and_the_rule_chain(count):
    """Inserted or copied, the worker is sent the returned ids: each must be its own event's row."""
    published = [PublishedEvent(OrderConfirmed.type, 1, {"order_id": n}) for n in range(count)]
    with transaction.atomic():
        ids = record_events(events=published, rule_chain=[3, 5])
    stored = dict(OutboxEvent.objects.values_list("pk", "payload__order_id"))
    assert dict(zip(ids, range(count), strict=True)) == stored
    assert len(stored) == count
    assert list(OutboxEvent.objects.values_list("rule_chain", flat=True)) == [[3, 5]] * count


def test_a_recorded_payload_that_does_not_match_its_schema_is_refused_when_read():
    payload = {**order_confirmed().payload(), "gross_total": "a lot"}
    with pytest.raises(InvalidEvent, match="gross_total"):
        OrderConfirmed.from_payload(payload)


def wrong_payloads(payload: dict) -> list[dict]:
    """The payload with each field (and each field of a list's first record) missing, null, of every
    other JSON type or malformed, plus one with an unknown field."""
    wrong_values = [None, "x", "not-a-date", "1.5", 1, 1.5, True, [], {}]
    variants = [{**payload, "unexpected": 1}]
    for name, value in payload.items():
        variants.append({key: item for key, item in payload.items() if key != name})
        variants.extend({**payload, name: wrong} for wrong in wrong_values if wrong != value)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            variants.extend({**payload, name: [item, *value[1:]]} for item in wrong_payloads(value[0]))
    return variants


@pytest.mark.parametrize("event_type", sorted(EXPECTED))
def test_the_compiled_validator_decides_as_the_reference_implementation(event_type):
    """The compiled validator (fastjsonschema) is the fast path; jsonschema's draft 2020-12 validator is
    the reference: over every way of breaking a sample payload, both refuse and accept the same ones."""
    event_class = catalogue()[event_type]
    reference = Draft202012Validator(event_class.schema())
    Draft202012Validator.check_schema(event_class.schema())
    payloads = [sample(event_class).payload(), *wrong_payloads(sample(event_class).payload())]

    for payload in payloads:
        try:
            event_class.from_payload(payload)
            accepted = True
        except InvalidEvent:
            accepted = False
        assert accepted == reference.is_valid(payload), payload
    assert sum(reference.is_valid(payload) for payload in payloads) < len(payloads) // 2


def test_a_refusal_names_the_field_and_the_rule():
    payload = sample(catalogue()["payment.allocated"]).payload()
    payload["invoices"][1]["amount"] = "a lot"
    with pytest.raises(InvalidEvent, match=r"^payment.allocated v1: invoices/1/amount: must match pattern"):
        catalogue()["payment.allocated"].from_payload(payload)
    with pytest.raises(InvalidEvent, match=r"^order.confirmed v1: \(payload\): must contain \['order_id'\]"):
        OrderConfirmed.from_payload(
            {key: value for key, value in order_confirmed().payload().items() if key != "order_id"}
        )


@pytest.mark.django_db
def test_publishing_with_nobody_recording_is_an_error_not_a_lost_event():
    events_published.disconnect(dispatch_uid="outbox")
    try:
        with pytest.raises(UnrecordedEvent), transaction.atomic():
            publish(order_confirmed())
    finally:
        events_published.connect(record_published_events, weak=False, dispatch_uid="outbox")
    assert not OutboxEvent.objects.exists()


def test_docs_events_md_is_current():
    """Run `manage.py event_catalogue` after changing an event."""
    assert (Path(settings.BASE_DIR) / CATALOGUE_DOCUMENT).read_text() == catalogue_markdown()
    call_command("event_catalogue", "--check")


def test_the_check_fails_on_a_stale_catalogue(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    (tmp_path / CATALOGUE_DOCUMENT).write_text("# Domain events\n")
    with pytest.raises(CommandError, match="not current"):
        call_command("event_catalogue", "--check")
    call_command("event_catalogue")
    call_command("event_catalogue", "--check")


def test_any_api_key_reads_the_catalogue(api_client_for):
    response = api_client_for("tickets:read").get(CATALOGUE_URL)

    assert response.status_code == 200
    events = {event["type"]: event for event in response.json()["events"]}
    assert {event_type: event["version"] for event_type, event in events.items()} == EXPECTED
    assert events["invoice.issued"]["schema"] == catalogue()["invoice.issued"].schema()
    assert events["invoice.issued"]["summary"].startswith("An invoice was issued")


@pytest.mark.django_db
def test_the_catalogue_needs_credentials(client):
    response = client.get(CATALOGUE_URL)
    assert response.status_code == 401
