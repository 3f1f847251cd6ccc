"""The engine (otc.postgresql) binds parameters on the server, so a statement a connection runs often is
prepared and planned once; what a prepared statement cannot hold still runs, with its parameters."""

import pghistory
import pytest
from django.db import connection

from customers.models import Customer
from otc.postgresql.base import PreparingCursor
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def prepared_statements_naming(text: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE strpos(statement, %s) > 0", [text])
        return [statement for (statement,) in cursor.fetchall()]


def test_a_query_run_a_sixth_time_is_prepared_with_its_parameters_bound_by_the_server(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Anker GmbH")
    query = Customer.objects.filter(pk=customer.pk, legal_name="Anker GmbH").values_list("number", flat=True)
    condition = '"customers_customer"."legal_name" = $1'

    numbers = [query.get() for _ in range(5)]
    assert prepared_statements_naming(condition) == []
    numbers.append(query.get())

    assert numbers == [customer.number] * 6
    [statement] = prepared_statements_naming(condition)
    assert "Anker" not in statement
    assert str(customer.pk) not in statement


def test_several_statements_with_parameters_run_as_one_text_bound_on_the_client(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Anker GmbH")

    with pghistory.context(user=clerk.pk, reason="rename in autocommit"):
        Customer.objects.filter(pk=customer.pk).update(legal_name="Anker AG")

    customer.refresh_from_db()
    assert customer.legal_name == "Anker AG"
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text; SELECT %s::int + 1", ["first", 41])
        assert cursor.fetchone() == ("first",)
        assert cursor.nextset()
        assert cursor.fetchone() == (42,)
    assert isinstance(connection.connection.cursor(), PreparingCursor)


def test_a_statement_merged_with_its_parameters_reads_as_sql():
    with connection.cursor() as cursor:
        assert cursor.mogrify("SELECT %s, %s", ["it's", 7]) == "SELECT 'it''s', 7"
