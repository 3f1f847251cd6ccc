"""The functions every trigger calls read their settings without a subtransaction, with the libraries'
results: the audit label reaches the event in a transaction and in autocommit, an ignored trigger is
skipped."""

import pghistory
import pgtrigger
import pytest
from django.db import connection, transaction

from customers.models import Customer
from otc.audit import acting
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def definition(function: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef(%s::regproc)", [function])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("function", ["_pgtrigger_should_ignore", "_pgh_attach_context"])
def test_the_installed_function_is_ours_and_has_no_exception_block(function):
    text = definition(function)

    assert "current_setting('" in text
    assert ", true)" in text
    assert "EXCEPTION" not in text.upper()


def last_event_context(customer: Customer):
    return Customer.pgh_event_model.objects.filter(pgh_obj=customer).order_by("-pgh_id").first().pgh_context


def test_a_change_labelled_in_a_transaction_carries_the_actor(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Spur GmbH")

    with transaction.atomic(), acting(clerk, "rename"):
        Customer.objects.filter(pk=customer.pk).update(legal_name="Spur AG")

    context = last_event_context(customer)
    assert context.metadata == {"user": clerk.pk, "reason": "rename", "user_email": clerk.email}


def test_a_change_labelled_in_autocommit_carries_the_actor(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Spur GmbH")

    with pghistory.context(user=clerk.pk, reason="autocommit"):
        Customer.objects.filter(pk=customer.pk).update(legal_name="Spur KG")

    assert last_event_context(customer).metadata == {"user": clerk.pk, "reason": "autocommit"}


def test_an_ignored_trigger_is_skipped_and_the_others_still_run(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Spur GmbH")
    events = Customer.pgh_event_model.objects.filter(pgh_obj=customer)
    before = events.count()

    with pgtrigger.ignore("customers.Customer:update_update"):
        Customer.objects.filter(pk=customer.pk).update(legal_name="Spur Ltd")
    assert events.count() == before

    Customer.objects.filter(pk=customer.pk).update(legal_name="Spur Inc")
    assert events.count() == before + 1


def test_the_label_is_written_again_when_a_nested_block_changes_it(clerk):
    first, second = CustomerFactory(actor=clerk), CustomerFactory(actor=clerk)

    with transaction.atomic(), acting(clerk, "rename"):
        Customer.objects.filter(pk=first.pk).update(legal_name="Spur AG")
        with acting(clerk, "rename after review"):
            Customer.objects.filter(pk=second.pk).update(legal_name="Kamm AG")

    assert last_event_context(second).metadata["reason"] == "rename after review"
    assert last_event_context(first).pk == last_event_context(second).pk


def test_a_label_written_in_a_rolled_back_savepoint_is_written_again(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Spur GmbH")

    with transaction.atomic(), acting(clerk, "rename"):
        with pytest.raises(RuntimeError), transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(legal_name="Spur AG")
            raise RuntimeError
        Customer.objects.filter(pk=customer.pk).update(legal_name="Spur SE")

    context = last_event_context(customer)
    assert context is not None
    assert context.metadata == {"user": clerk.pk, "reason": "rename", "user_email": clerk.email}
