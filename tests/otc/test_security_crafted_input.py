"""Crafted input is a clear 4xx problem, never a server error: malformed cursors, NUL characters in
filters and portal forms, numbers beyond any plausible amount, quantity or date, and "1_000" as a
number. The last test walks every list endpoint of the OpenAPI schema with hostile query values."""

import base64
from datetime import date

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from customers.models import Customer
from otc.models import API_SCOPES
from otc.services import create_api_key
from payments.models import Payment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
HOSTILE = ["\x00", "abc\x00def", "9" * 40, "-9" * 20, "1_000", "1e400", "NaN", "9999-12-31", "0000-00-00", "'; --"]


def cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def every_scope(clerk):
    _key, plaintext = create_api_key(name="fuzzer", scopes=[scope for scope, _label in API_SCOPES], actor=clerk)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    return problem


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "ü",
        cursor("p=abc"),
        cursor("o=-5&p=1"),
        cursor("r=x"),
        cursor("p=1\x00"),
    ],
)
def test_a_malformed_cursor_is_a_400_naming_the_cursor(every_scope, clerk, value):
    CustomerFactory(actor=clerk)
    problem = assert_problem(every_scope.get(CUSTOMERS, {"cursor": value}), 400, "invalid_cursor")
    assert "next" in problem["detail"]


@pytest.mark.parametrize("value", ["%%%", cursor("p=" + "9" * 40)])
def test_a_cursor_that_decodes_to_nothing_or_beyond_every_row_is_just_a_page(every_scope, clerk, value):
    CustomerFactory(actor=clerk)
    assert every_scope.get(CUSTOMERS, {"cursor": value}).status_code == 200


def test_a_cursor_the_list_gave_out_still_pages(every_scope, clerk):
    for index in range(3):
        CustomerFactory(actor=clerk, legal_name=f"Paged {index}")
    first = every_scope.get(CUSTOMERS, {"page_size": 2}).json()
    second = every_scope.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


@pytest.mark.parametrize("where", ["search", "legal_name", "country"])
def test_a_nul_character_in_a_filter_is_a_400(every_scope, where):
    problem = assert_problem(every_scope.get(CUSTOMERS, {where: "Nord\x00wind"}), 400, "malformed_request")
    assert "NUL" in problem["detail"]


def test_a_nul_character_in_a_portal_form_is_refused_and_changes_nothing(client, clerk):
    before = Customer.objects.count()
    response = client.post("/accounts/login/", {"login": "paula@nordwind.example\x00", "password": "x\x00"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert Customer.objects.count() == before


def test_a_nul_character_in_a_page_query_is_a_400(client):
    response = Client().get("/portal/", {"q": "\x00"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


def test_a_huge_id_in_a_filter_is_a_clear_4xx(every_scope):
    response = every_scope.get("/api/v1/orders/", {"customer": "9" * 30})
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_a_whole_number_with_separators_is_refused(api_client_for):
    writer = api_client_for("customers:write")
    body = {"legal_name": "Bounds GmbH", "country": "DE", "payment_terms_days": "1_0"}
    problem = assert_problem(writer.post(CUSTOMERS, body, format="json"), 422, "invalid_input")
    assert problem["errors"]["payment_terms_days"] == ["'1_0' is not a number: write the digits without separators."]
    assert not Customer.objects.filter(legal_name="Bounds GmbH").exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1_000.00", "'1_000.00' is not a number: write the digits without separators."),
        ("5000000000.00", "5000000000 is beyond the plausible 999,999,999.99 for amount."),
    ],
)
def test_an_amount_with_separators_or_beyond_the_plausible_bound_is_refused(api_client_for, buyer, amount, message):
    writer = api_client_for("payments:write")
    body = {"customer": buyer.pk, "amount": amount, "currency": "EUR", "method": "bank_transfer"}
    problem = assert_problem(writer.post("/api/v1/payments/", body, format="json"), 422, "invalid_input")
    assert problem["errors"]["amount"] == [message]
    assert not Payment.objects.exists()


def test_a_date_beyond_the_plausible_range_is_refused(api_client_for, buyer, settings):
    settings.OTC_INPUT_LATEST_DATE = date(2100, 12, 31)
    writer = api_client_for("payments:write")
    body = {
        "customer": buyer.pk,
        "amount": "10.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "received_on": "9999-12-31",
    }
    problem = assert_problem(writer.post("/api/v1/payments/", body, format="json"), 422, "invalid_input")
    assert not Payment.objects.exists()
    assert problem["errors"]["received_on"] == [
        "9999-12-31 is not a plausible date: give one between 1970-01-01 and 2100-12-31."
    ]


def test_the_number_parser_of_forms_and_files_refuses_separators():
    from otc.errors import InvalidInput
    from otc.money import parse_decimal

    with pytest.raises(InvalidInput, match="not a decimal amount: write the digits without separators"):
        parse_decimal("1_000", field="amount")
    assert str(parse_decimal("1000.50", field="amount")) == "1000.50"


def list_endpoints() -> list[tuple[str, list[str]]]:
    """Every GET path without path parameters in the schema, with its query parameters."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path or not path.startswith("/api/v1/"):
            continue
        names = [parameter["name"] for parameter in get.get("parameters", []) if parameter["in"] == "query"]
        found.append((path, names))
    return found


def test_hostile_query_values_never_cause_a_server_error_on_any_list(every_scope, clerk):
    CustomerFactory(actor=clerk)
    endpoints = list_endpoints()
    assert len(endpoints) >= 20
    failures = []
    for path, names in endpoints:
        for name in names:
            for value in HOSTILE:
                response = every_scope.get(path, {name: value})
                is_problem = response.status_code < 400 or response["Content-Type"] == "application/problem+json"
                if response.status_code >= 500 or not is_problem:
                    failures.append(f"{path}?{name}={value!r}: {response.status_code} {response.content[:120]!r}")
    assert failures == []
