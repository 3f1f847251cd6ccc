"""`field__any=values`: one array parameter, the same SQL text for any number of values."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from invoicing.models import Invoice
from otc.models import User
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_any_finds_the_rows_of_the_values_given_by_key_foreign_key_and_text(buyer, clerk, invoices):
    other = CustomerFactory(actor=clerk, legal_name="Someone Else GmbH")

    assert set(Customer.objects.filter(pk__any=[buyer.pk, other.pk]).values_list("pk", flat=True)) == {
        buyer.pk,
        other.pk,
    }
    assert list(Customer.objects.filter(number__any=[other.number, "C-NONE"]).values_list("pk", flat=True)) == [
        other.pk
    ]
    assert sorted(Invoice.objects.filter(customer__any=[buyer.pk, other.pk]).values_list("pk", flat=True)) == sorted(
        invoice.pk for invoice in invoices
    )
    assert set(User.objects.filter(pk__any=[clerk.pk]).values_list("email", flat=True)) == {clerk.email}
    assert not Customer.objects.filter(pk__any=[]).exists()


def test_any_sends_one_parameter_and_the_same_text_for_one_value_or_a_thousand(buyer):
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(pk__any=[buyer.pk]))
        list(Customer.objects.filter(pk__any=list(range(1000))))

    one, thousand = (query["sql"] for query in queries.captured_queries)
    assert "= ANY(" in one
    array = re.compile(r"'\{[0-9,]*\}'")  # the one parameter, as the captured text shows it
    assert len(array.findall(one)) == len(array.findall(thousand)) == 1
    assert array.sub("", one) == array.sub("", thousand)
