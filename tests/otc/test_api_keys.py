import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers import services as customer_services
from customers.models import ChangeRequestStatus, Customer
from otc.errors import InvalidInput
from otc.models import ApiKey
from otc.services import create_api_key, revoke_api_key
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
NEW_CUSTOMER = {"legal_name": "Delta Werkzeuge GmbH", "country": "DE"}


def client_with(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    return client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


def test_a_key_is_shown_once_and_stored_only_as_a_hash(clerk):
    key, plaintext = create_api_key(name="web shop", scopes=["customers:read"], actor=clerk)

    prefix, secret = plaintext.removeprefix("otc_").split("_", 1)
    assert plaintext.startswith("otc_")
    assert prefix == key.prefix
    row = ApiKey.objects.filter(pk=key.pk).values().get()
    assert row["hashed_secret"] == hashlib.sha256(secret.encode()).hexdigest()
    stored_text = " ".join(str(value) for value in row.values())
    assert secret not in stored_text
    assert plaintext not in stored_text
    assert key.user.is_service_account
    assert not key.user.has_usable_password()


def test_unknown_scopes_are_refused_at_creation(clerk):
    with pytest.raises(InvalidInput) as error:
        create_api_key(name="x", scopes=["customers:read", "customers:delete"], actor=clerk)

    assert "scopes" in error.value.fields
    assert not ApiKey.objects.exists()


def test_a_read_key_can_list_but_not_create(api_client_for):
    client = api_client_for("customers:read")

    listed = client.get(CUSTOMERS)
    refused = client.post(CUSTOMERS, NEW_CUSTOMER)

    assert listed.status_code == 200
    body = assert_problem(refused, 403, "permission_denied")
    assert "customers:write" in body["detail"]
    assert not Customer.objects.exists()


def test_a_write_key_without_read_cannot_list(api_client_for):
    response = api_client_for("customers:write").get(CUSTOMERS)

    assert_problem(response, 403, "permission_denied")


def test_a_key_without_the_approve_scope_cannot_approve(api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)
    request = customer_services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="5000", reason="r"
    )
    everything_but_approve = api_client_for("customers:read", "customers:write", "change_requests:write")

    response = everything_but_approve.post(f"/api/v1/change-requests/{request.pk}/approve/", {})

    body = assert_problem(response, 403, "permission_denied")
    assert "change_requests:approve" in body["detail"]
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.PENDING


def test_a_customers_write_key_cannot_request_changes(api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)
    client = api_client_for("customers:read", "customers:write")

    response = client.post(
        "/api/v1/change-requests/",
        {"customer": customer.pk, "kind": "credit_limit", "credit_limit": "100", "reason": "r"},
    )

    assert_problem(response, 403, "permission_denied")
    assert not customer.change_requests.exists()


def test_a_revoked_key_is_refused_with_401(api_client_for, clerk):
    client = api_client_for("customers:read")
    assert client.get(CUSTOMERS).status_code == 200

    revoke_api_key(api_key=client.api_key, actor=clerk)
    response = client.get(CUSTOMERS)

    body = assert_problem(response, 401, "authentication_failed")
    assert "revoked" in body["detail"]
    assert response["WWW-Authenticate"] == "Api-Key"
    client.api_key.refresh_from_db()
    assert client.api_key.revoked_by == clerk


def test_an_expired_key_is_refused(api_client_for):
    client = api_client_for("customers:read")
    ApiKey.objects.filter(pk=client.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_problem(client.get(CUSTOMERS), 401, "authentication_failed")


def test_a_key_whose_account_is_disabled_is_refused(api_client_for):
    client = api_client_for("customers:read")
    client.api_key.user.is_active = False
    client.api_key.user.save(update_fields=["is_active"])

    assert_problem(client.get(CUSTOMERS), 401, "authentication_failed")


@pytest.mark.parametrize(
    "header",
    ["Api-Key otc_deadbeef0000_wrongsecret", "Api-Key not-a-key", "Api-Key otc_onlyprefix"],
)
def test_unknown_or_malformed_keys_are_refused(api_client_for, header):
    client = api_client_for("customers:read")
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_problem(client.get(CUSTOMERS), 401, "authentication_failed")


def test_a_right_prefix_with_a_wrong_secret_is_refused(api_client_for):
    client = api_client_for("customers:read")
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key otc_{client.api_key.prefix}_guessed")

    assert_problem(client.get(CUSTOMERS), 401, "authentication_failed")
    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at is None


def test_no_credentials_is_401_not_authenticated():
    response = APIClient().get(CUSTOMERS)

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_use_sets_last_used_at(api_client_for):
    client = api_client_for("customers:read")
    assert client.api_key.last_used_at is None
    before = timezone.now()

    client.get(CUSTOMERS)

    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at is not None
    assert before <= client.api_key.last_used_at <= timezone.now()


def test_last_used_at_is_written_at_most_once_a_minute(api_client_for):
    client = api_client_for("customers:read")
    client.get(CUSTOMERS)
    client.api_key.refresh_from_db()
    first_use = client.api_key.last_used_at

    client.get(CUSTOMERS)

    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at == first_use


def test_writes_through_a_key_are_audited_as_its_account(api_client_for):
    client = api_client_for("customers:read", "customers:write")

    response = client.post(CUSTOMERS, NEW_CUSTOMER)

    from pghistory.models import Events

    customer = Customer.objects.get(pk=response.json()["id"])
    event = Events.objects.tracks(customer).get(pgh_label="insert")
    assert event.pgh_context["user"] == client.api_key.user_id
    assert event.pgh_context["user_email"] == client.api_key.user.email


def test_a_key_for_finance_staff_expires_by_default_and_never_later_than_the_limit(clerk, settings):
    settings.OTC_PRIVILEGED_API_KEY_DAYS = 90
    before = timezone.now()

    default_key, _ = create_api_key(name="erp", scopes=["customers:read"], actor=clerk, user=clerk)
    capped_key, _ = create_api_key(
        name="erp 2", scopes=["customers:read"], actor=clerk, user=clerk, expires_at=before + timedelta(days=400)
    )
    earlier_key, _ = create_api_key(
        name="erp 3", scopes=["customers:read"], actor=clerk, user=clerk, expires_at=before + timedelta(days=7)
    )
    service_key, _ = create_api_key(name="shop", scopes=["customers:read"], actor=clerk)

    for key in (default_key, capped_key):
        assert before + timedelta(days=90) <= key.expires_at <= timezone.now() + timedelta(days=90)
    assert earlier_key.expires_at == before + timedelta(days=7)
    assert service_key.expires_at is None


def test_a_key_cannot_be_created_already_expired_or_with_a_bad_range(clerk):
    with pytest.raises(InvalidInput) as expired:
        create_api_key(name="x", scopes=["customers:read"], actor=clerk, expires_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(InvalidInput) as bad_range:
        create_api_key(name="x", scopes=["customers:read"], actor=clerk, allowed_networks=["10.0.0.0/8", "10.1.2"])

    assert "expires_at" in expired.value.fields
    assert bad_range.value.fields == {"allowed_networks": ["Not an address or CIDR range: 10.1.2"]}
    assert not ApiKey.objects.exists()


def test_a_key_limited_to_address_ranges_is_refused_elsewhere(clerk, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    key, plaintext = create_api_key(
        name="edi", scopes=["customers:read"], actor=clerk, allowed_networks=["203.0.113.0/24", "2001:db8::1"]
    )
    client = client_with(plaintext)

    assert key.allowed_networks == ["2001:db8::1/128", "203.0.113.0/24"]
    assert client.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="203.0.113.77").status_code == 200
    assert client.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="2001:db8::1").status_code == 200
    refused = assert_problem(client.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="198.51.100.4"), 403, "address_not_allowed")
    assert refused["detail"] == "This API key may not be used from 198.51.100.4."
    spoofed = client.get(CUSTOMERS, HTTP_X_FORWARDED_FOR="203.0.113.77, 198.51.100.4")
    assert_problem(spoofed, 403, "address_not_allowed")
