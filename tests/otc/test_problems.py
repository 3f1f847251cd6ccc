import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient, APIRequestFactory

from customers import services as customer_services
from customers.api import views as customer_views
from customers.models import Customer
from otc.api.authentication import ApiKeyAuthentication
from otc.api.problems import (
    DATABASE_RETRY_AFTER_SECONDS,
    PROBLEM_CONTENT_TYPE,
    problem_exception_handler,
    problem_response,
)
from otc.errors import Conflict
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "instance"}


def assert_problem_shape(response, *, status: int, code: str, instance: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["type"] == f"urn:otc:problem:{code}"
    assert body["status"] == status
    assert body["code"] == code
    assert body["instance"] == instance
    assert body["title"]
    assert body["detail"]
    return body


@pytest.fixture
def writer(api_client_for):
    return api_client_for("customers:read", "customers:write")


def test_unauthenticated(db):
    assert_problem_shape(APIClient().get(CUSTOMERS), status=401, code="not_authenticated", instance=CUSTOMERS)


def test_missing_scope(api_client_for):
    response = api_client_for("customers:read").post(CUSTOMERS, {"legal_name": "X AG", "country": "DE"})

    assert_problem_shape(response, status=403, code="permission_denied", instance=CUSTOMERS)


def test_not_found_keeps_the_query_string_in_instance(writer):
    url = f"{CUSTOMERS}424242/?expand=all"

    assert_problem_shape(writer.get(url), status=404, code="not_found", instance=url)


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_api_url_without_its_slash_is_a_404_problem_naming_the_url_not_a_redirect(writer, method):
    body = {"legal_name": "Nordwind AG", "country": "DE"} if method == "post" else None
    response = getattr(writer, method)("/api/v1/customers", body)

    problem = assert_problem_shape(response, status=404, code="not_found", instance="/api/v1/customers")
    assert problem["detail"].endswith("API URLs end with a slash: /api/v1/customers/")
    assert Customer.objects.count() == 0


def test_an_unknown_api_url_is_a_404_problem_and_pages_still_get_their_slash(writer, client):
    body = assert_problem_shape(writer.get("/api/v1/nothing"), status=404, code="not_found", instance="/api/v1/nothing")
    assert body["detail"] == "No API endpoint or object at /api/v1/nothing."

    assert client.get("/portal")["Location"] == "/portal/"


def test_method_not_allowed(writer, clerk):
    url = f"{CUSTOMERS}{CustomerFactory(actor=clerk).pk}/"

    assert_problem_shape(writer.delete(url), status=405, code="method_not_allowed", instance=url)


def test_malformed_json(writer):
    response = writer.generic("POST", CUSTOMERS, '{"legal_name": ', content_type="application/json")

    assert_problem_shape(response, status=400, code="malformed_request", instance=CUSTOMERS)


def test_unsupported_media_type(writer):
    response = writer.post(CUSTOMERS, {"legal_name": "X AG", "country": "DE"}, format="multipart")

    assert_problem_shape(response, status=415, code="unsupported_media_type", instance=CUSTOMERS)


def test_validation_errors_are_422_with_errors_per_field(writer):
    response = writer.post(CUSTOMERS, {"country": "XX", "colour": "red"})

    body = assert_problem_shape(response, status=422, code="invalid_input", instance=CUSTOMERS)
    assert set(body["errors"]) == {"legal_name", "country", "colour"}
    assert body["errors"]["colour"] == ["Unknown field."]
    assert "country" in body["detail"]


def test_a_domain_error_keeps_its_code_and_status(writer, clerk):
    customer = CustomerFactory(actor=clerk)
    customer_services.place_credit_hold(customer=customer, actor=clerk, reason="late")
    url = f"{CUSTOMERS}{customer.pk}/credit-hold/"

    body = assert_problem_shape(
        writer.post(url, {"reason": "again"}), status=409, code="customer_status_conflict", instance=url
    )
    assert body["title"] == "The customer is not in a status that allows this."


def test_a_duplicate_problem_carries_the_duplicates(writer, clerk):
    original = CustomerFactory(actor=clerk, legal_name="Müller GmbH")

    body = assert_problem_shape(
        writer.post(CUSTOMERS, {"legal_name": "Müller GmbH", "country": "DE"}),
        status=409,
        code="possible_duplicate_customer",
        instance=CUSTOMERS,
    )
    assert body["duplicates"] == [{"id": original.pk, "number": original.number, "legal_name": "Müller GmbH"}]


# The handler on its own


def _context(path: str = "/api/v1/things/?x=1") -> dict:
    return {"request": APIRequestFactory().get(path)}


def test_a_django_validation_error_becomes_invalid_input():
    response = problem_exception_handler(DjangoValidationError({"email": ["Enter a valid email."]}), _context())

    assert response.status_code == 422
    assert response.data["code"] == "invalid_input"
    assert response.data["errors"] == {"email": ["Enter a valid email."]}
    assert response.data["instance"] == "/api/v1/things/?x=1"


def test_a_non_field_django_validation_error_is_listed_under_non_field_errors():
    response = problem_exception_handler(DjangoValidationError("Totals do not balance."), _context())

    assert response.data["errors"] == {"non_field_errors": ["Totals do not balance."]}


def test_extension_members_are_added_but_never_replace_standard_ones():
    error = Conflict("Busy.")
    error.extensions = {"status": 200, "code": "fine", "retry_with": "confirm"}

    response = problem_exception_handler(error, _context())

    assert response.status_code == 409
    assert response.data["status"] == 409
    assert response.data["code"] == "conflict"
    assert response.data["retry_with"] == "confirm"


def test_problem_response_sets_the_content_type_and_headers():
    response = problem_response(
        status=429, code="throttled", title="Too many.", detail="Wait.", instance="/x", headers={"Retry-After": "3"}
    )

    assert response.content_type == PROBLEM_CONTENT_TYPE
    assert response.headers["Retry-After"] == "3"
    assert "errors" not in response.data


def test_an_unexpected_exception_is_left_to_django():
    assert problem_exception_handler(RuntimeError("boom"), _context()) is None


def test_an_unknown_api_url_is_a_problem_not_an_html_page(client, settings):
    settings.DEBUG = False

    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_a_lost_database_is_a_503_problem_with_retry_after(writer, monkeypatch, error):
    def lose_the_database(**kwargs):
        raise error

    monkeypatch.setattr(customer_views.services, "create_customer", lose_the_database)

    response = writer.post(CUSTOMERS, {"legal_name": "X AG", "country": "DE"})

    body = assert_problem_shape(response, status=503, code="database_unavailable", instance=CUSTOMERS)
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert "retry" in body["detail"]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (OperationalError("the database system is starting up"), 503, "database_unavailable"),
        (KeyError("x"), 500, "server_error"),
    ],
)
def test_an_error_outside_the_api_views_is_still_a_problem_under_api(writer, monkeypatch, error, status, code):
    def fail(self, request):
        raise error

    monkeypatch.setattr(ApiKeyAuthentication, "authenticate", fail)
    writer.raise_request_exception = False

    response = writer.get(CUSTOMERS)

    assert_problem_shape(response, status=status, code=code, instance=CUSTOMERS)
    assert ("Retry-After" in response) is (status == 503)


def test_connections_are_health_checked_so_a_stale_one_after_a_restart_does_not_fail_a_request():
    assert django_settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
