import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

CUSTOMER_PATHS = {
    "/api/v1/customers/",
    "/api/v1/customers/{id}/",
    "/api/v1/customers/{id}/credit-hold/",
    "/api/v1/customers/{id}/release-credit-hold/",
    "/api/v1/customers/{id}/exposure/",
    "/api/v1/customers/{id}/timeline/",
    "/api/v1/customers/{customer_pk}/contacts/",
    "/api/v1/customers/{customer_pk}/addresses/",
    "/api/v1/customers/{customer_pk}/preferences/",
    "/api/v1/customers/{customer_pk}/bank-accounts/",
    "/api/v1/contacts/{id}/",
    "/api/v1/addresses/{id}/",
    "/api/v1/change-requests/",
    "/api/v1/change-requests/{id}/",
    "/api/v1/change-requests/{id}/approve/",
    "/api/v1/change-requests/{id}/reject/",
}


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_served_and_lists_the_customer_endpoints(schema):
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= CUSTOMER_PATHS


def test_schema_documents_api_keys_idempotency_and_problems(schema):
    assert schema["components"]["securitySchemes"]["apiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Api-Key otc_<prefix>_<secret>`: the key shown once when it was created.",
    }
    create = schema["paths"]["/api/v1/customers/"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"] if p["in"] == "header"}
    assert set(create["responses"]["422"]["content"]) == {"application/problem+json"}
    assert "credit_limit" not in schema["components"]["schemas"]["CustomerCreateRequest"]["properties"]
    assert "iban" not in schema["components"]["schemas"]["BankAccount"]["properties"]


def test_swagger_ui_is_served(db):
    assert APIClient().get("/api/docs/").status_code == 200


def test_schema_generation_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert set(yaml.safe_load(target.read_text())["paths"]) >= CUSTOMER_PATHS
