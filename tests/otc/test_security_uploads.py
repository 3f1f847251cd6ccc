"""Request bodies are bounded before they are read: an oversized statement upload (admin or API), JSON
body or form is answered 413 from its Content-Length alone (problem+json under /api/), its body never
touched; a file over the upload limit that fits in the allowance gets the form's or API's clear error."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from payments.models import BankStatement

pytestmark = [pytest.mark.django_db]

API_STATEMENTS = "/api/v1/bank-statements/"
ADMIN_STATEMENTS = "/admin/payments/bankstatement/add/"
MB = 2**20


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body of an oversized request was read")

    readline = read


def post_declaring(client: Client, path: str, length: int, content_type: str):
    return client.generic(
        "POST", path, CONTENT_TYPE=content_type, CONTENT_LENGTH=str(length), **{"wsgi.input": UnreadableBody()}
    )


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=xyz", "application/json", "application/x-www-form-urlencoded"]
)
def test_an_oversized_api_request_is_a_413_problem_before_its_body_is_read(client, content_type):
    response = post_declaring(client, API_STATEMENTS, 50 * MB, content_type)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "request_too_large"
    assert problem["detail"].startswith("The request body is 50 MB; at most ")
    assert problem["instance"] == API_STATEMENTS
    assert response["X-Request-ID"]
    assert not BankStatement.objects.exists()


def test_an_oversized_admin_statement_upload_is_refused_before_its_body_is_read(credit_controller):
    client = Client()
    client.force_login(credit_controller)

    response = post_declaring(client, ADMIN_STATEMENTS, 50 * MB, "multipart/form-data; boundary=xyz")

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert "at most 20.1 MB" in response.content.decode()
    assert not BankStatement.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "largest"),
    [
        ("multipart/form-data; boundary=xyz", 20 * MB + 64 * 1024),
        ("application/json", 15 * MB),
        ("application/x-www-form-urlencoded", 15 * MB),
        ("", 15 * MB),
    ],
)
def test_each_kind_of_body_has_its_limit(client, content_type, largest):
    assert post_declaring(client, "/api/v1/customers/", largest + 1, content_type).status_code == 413
    # At the limit the request goes on (and is refused for the missing key, having read its body).
    within = client.generic("POST", "/api/v1/customers/", b"{}", content_type=content_type or "text/plain")
    assert within.status_code == 401


@pytest.mark.parametrize("declared", ["lots", "-5"])
def test_a_malformed_content_length_is_a_400_problem(client, declared):
    response = client.generic(
        "POST",
        API_STATEMENTS,
        b"",
        content_type="application/json",
        CONTENT_LENGTH=declared,
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_the_limits_come_from_settings(client, settings):
    settings.OTC_MAX_UPLOAD_BYTES = 3 * MB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = MB
    assert post_declaring(client, API_STATEMENTS, 3 * MB + 64 * 1024 + 1, "multipart/form-data").status_code == 413
    assert post_declaring(client, API_STATEMENTS, MB + 1, "text/plain").status_code == 413
    refused = post_declaring(client, API_STATEMENTS, 3 * MB, "application/json")
    assert refused.json()["detail"] == "The request body is 3 MB; at most 1 MB is accepted here."


def statement_file(size: int) -> SimpleUploadedFile:
    header = b"Date,Amount,Currency,Counterparty,Counterparty IBAN,Remittance,Reference\n"
    return SimpleUploadedFile("big.csv", header + b"x" * (size - len(header)), content_type="text/csv")


@pytest.mark.usefixtures("own_accounts")
def test_a_statement_over_the_upload_limit_is_refused_by_the_api_with_a_clear_error(api_client_for, settings):
    settings.OTC_MAX_UPLOAD_BYTES = MB
    writer = api_client_for("payments:read", "payments:write")

    body = {"file": statement_file(MB + 1000), "format": "csv", "account_iban": "DE89370400440532013000"}
    response = writer.post(API_STATEMENTS, body, format="multipart")

    assert response.status_code == 422, response.content
    assert response.json()["errors"]["file"] == ["At most 1 MB."]
    assert not BankStatement.objects.exists()


@pytest.mark.usefixtures("own_accounts")
def test_a_statement_over_the_upload_limit_is_refused_by_the_admin_form(credit_controller, settings):
    settings.OTC_MAX_UPLOAD_BYTES = MB
    client = Client()
    client.force_login(credit_controller)

    response = client.post(
        ADMIN_STATEMENTS,
        {
            "file": statement_file(MB + 1000),
            "format": "csv",
            "csv_layout": "generic",
            "csv_account_iban": "DE89370400440532013000",
        },
    )

    assert response.status_code == 200
    assert "The file is larger than 1 MB." in response.content.decode()
    assert not BankStatement.objects.exists()


def test_a_json_body_within_the_limit_reaches_the_api(api_client_for):
    """The ticket API takes attachments base64-encoded: a 12 MB JSON body is not refused for its size."""
    writer = api_client_for("customers:write")
    body = json.dumps({"legal_name": "Big Body GmbH", "country": "DE", "padding": "x" * (12 * MB)})
    response = writer.generic("POST", "/api/v1/customers/", body, content_type="application/json")
    assert response.status_code == 422  # the unknown field, judged after reading: not a 413
    assert "padding" in response.json()["errors"]
