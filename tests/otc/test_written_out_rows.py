"""The hot paths' written-out reads and writes (otc.joined_rows, otc.bulk_rows) give what the ORM gives:
the same instances with their relations cached, the same stored values (timestamps stamped, encrypted
fields encrypted, JSON as JSON), in one statement each."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import BankAccount, CreditProfile, Customer
from orders.models import Order, OrderTimelineEntry, TimelineKind
from otc.bulk_rows import insert_rows, update_rows
from otc.joined_rows import cache_related, fetch_instances, model_columns, select_list

pytestmark = pytest.mark.django_db


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def order_with_customer_and_credit(order_id: int):
    columns = (model_columns(Order, "o"), model_columns(Customer, "c"), model_columns(CreditProfile, "cp"))
    [(order, customer, credit)] = fetch_instances(
        f"SELECT {select_list(*columns)} FROM orders_order o JOIN customers_customer c ON c.id = o.customer_id "
        "LEFT JOIN customers_creditprofile cp ON cp.customer_id = c.id WHERE o.id = %s",
        [order_id],
        *columns,
    )
    cache_related(customer, "credit", credit)
    cache_related(order, "customer", customer)
    return order


def test_a_joined_read_gives_the_instances_the_orm_gives_with_their_relations_cached(confirmed_order):
    Order.objects.filter(pk=confirmed_order.pk).update(billing_address={"city": "Köln", "lines": ["Ring 1"]})
    expected = Order.objects.select_related("customer", "customer__credit").get(pk=confirmed_order.pk)

    with CaptureQueriesContext(connection) as queries:
        order = order_with_customer_and_credit(confirmed_order.pk)
        credit = order.customer.credit

    assert len(queries) == 1
    assert field_values(order) == field_values(expected)
    assert field_values(order.customer) == field_values(expected.customer)
    assert field_values(credit) == field_values(expected.customer.credit)
    assert isinstance(order.billing_address, dict)  # JSON read back as the ORM reads it, not as text
    assert order.billing_address == {"city": "Köln", "lines": ["Ring 1"]}
    assert not order._state.adding
    assert order._state.db == "default"


def test_a_row_an_outer_join_did_not_find_is_none_and_cached_as_missing(confirmed_order):
    CreditProfile.objects.filter(customer=confirmed_order.customer_id).delete()

    with CaptureQueriesContext(connection) as queries:
        order = order_with_customer_and_credit(confirmed_order.pk)
        with pytest.raises(Customer.credit.RelatedObjectDoesNotExist):
            order.customer.credit  # noqa: B018 - reading it is the test

    assert len(queries) == 1


def test_an_encrypted_field_is_read_decrypted(customer):
    account = BankAccount.objects.create(customer=customer, holder_name="Anker GmbH", iban="DE89370400440532013000")
    columns = model_columns(BankAccount, "b")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql}, b.iban FROM customers_bankaccount b WHERE b.id = %s", [account.pk])
        row = cursor.fetchone()

    assert columns.instance(row, 0).iban == "DE89370400440532013000"
    assert row[-1] != "DE89370400440532013000"  # stored encrypted


def test_inserted_rows_get_their_keys_stamps_and_stored_values_in_one_statement(confirmed_order, clerk):
    entries = [
        OrderTimelineEntry(order=confirmed_order, kind=TimelineKind.CHANGED, actor=clerk, detail=detail)
        for detail in ("first", "second", "third")
    ]
    before = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        insert_rows(OrderTimelineEntry, entries)

    assert len(queries) == 1
    stored = {entry.pk: entry for entry in OrderTimelineEntry.objects.filter(pk__in=[e.pk for e in entries])}
    assert [stored[entry.pk].detail for entry in entries] == ["first", "second", "third"]
    assert all(before <= stored[entry.pk].at == entry.at for entry in entries)
    assert all(not entry._state.adding for entry in entries)


def test_an_inserted_encrypted_field_is_stored_encrypted(customer):
    account = BankAccount(
        customer=customer, holder_name="Anker GmbH", iban="DE89370400440532013000", iban_masked="DE89…3000"
    )

    insert_rows(BankAccount, [account])

    with connection.cursor() as cursor:
        cursor.execute("SELECT iban FROM customers_bankaccount WHERE id = %s", [account.pk])
        (stored,) = cursor.fetchone()
    assert stored != "DE89370400440532013000"
    assert BankAccount.objects.get(pk=account.pk).iban == "DE89370400440532013000"


def test_updated_rows_stamp_auto_now_only_when_it_is_among_the_fields(confirmed_order):
    long_ago = timezone.now() - timedelta(days=30)
    Order.objects.filter(pk=confirmed_order.pk).update(updated_at=long_ago)
    order = Order.objects.get(pk=confirmed_order.pk)

    order.hold_reason = "checked"
    update_rows(Order, [order], ["hold_reason"])
    assert Order.objects.values_list("hold_reason", "updated_at").get(pk=order.pk) == ("checked", long_ago)

    order.hold_reason = ""
    update_rows(Order, [order], ["hold_reason", "updated_at"])
    stored = Order.objects.get(pk=order.pk)
    assert stored.hold_reason == ""
    assert stored.updated_at == order.updated_at > long_ago
