from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pghistory.models import Events
from rest_framework.test import APIClient

from customers import services
from customers.models import (
    Address,
    BankAccount,
    ChangeRequest,
    ChangeRequestStatus,
    Contact,
    CreditProfile,
    Customer,
    CustomerGroup,
    CustomerStatus,
)
from orders import selectors as orders_selectors
from otc.services import create_api_key
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"
CHANGE_REQUESTS = "/api/v1/change-requests/"
IBAN = "DE89 3704 0044 0532 0130 00"
IBAN_COMPACT = "DE89370400440532013000"


def customer_url(customer, suffix: str = "") -> str:
    return f"{CUSTOMERS}{customer.pk}/{suffix}"


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def writer(api_client_for):
    return api_client_for("customers:read", "customers:write")


@pytest.fixture
def requester(api_client_for):
    return api_client_for("customers:read", "change_requests:write")


@pytest.fixture
def approver_client(api_client_for):
    """A second partner key: another service account, so it may approve the requester's changes."""
    return api_client_for("customers:read", "change_requests:approve")


def full_payload(**overrides) -> dict:
    payload = {
        "legal_name": "Müller Maschinenbau GmbH",
        "trading_name": "Müller",
        "country": "DE",
        "tax_id": "de 136 695 976",
        "default_currency": "EUR",
        "language": "de",
        "payment_terms_days": 14,
        "notes": "Key account",
        "contacts": [
            {"name": "Anna Berg", "email": "anna@mueller.example", "roles": ["billing", "dunning", "billing"]},
        ],
        "addresses": [
            {"kind": "billing", "line1": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
            {"kind": "shipping", "line1": "Werkstr. 9", "postal_code": "14467", "city": "Potsdam", "country": "DE"},
        ],
        "preferences": {"channels": ["email", "portal"], "invoice_delivery": "e_invoice", "po_number_required": True},
    }
    payload.update(overrides)
    return payload


def nothing_written() -> bool:
    return (
        not Customer.objects.exists()
        and not Contact.objects.exists()
        and not Address.objects.exists()
        and Events.objects.count() == 0
    )


# Customers: create, read, change


def test_create_customer_with_contacts_addresses_and_preferences(writer, sales_rep):
    response = writer.post(CUSTOMERS, full_payload(sales_rep=sales_rep.pk))

    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert body["number"] == customer.number
    assert body["tax_id"] == "DE136695976"
    assert body["sales_rep"] == sales_rep.pk
    assert body["status"] == "active"
    assert body["credit"]["credit_limit"] == "0.00"
    assert body["credit"]["credit_currency"] == "EUR"
    assert body["contacts"][0]["roles"] == ["billing", "dunning"]
    assert {a["kind"] for a in body["addresses"]} == {"billing", "shipping"}
    assert body["preferences"]["invoice_delivery"] == "e_invoice"
    assert body["preferences"]["po_number_required"] is True
    assert body["bank_accounts"] == []
    assert Contact.objects.filter(customer=customer).count() == 1
    assert Address.objects.filter(customer=customer).count() == 2
    created = Events.objects.tracks(customer).get(pgh_label="insert")
    assert created.pgh_context["user"] == writer.api_key.user_id


def test_get_customer_shows_detail_and_unknown_id_is_a_problem_404(writer, clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Alpha Handel GmbH")

    found = writer.get(customer_url(customer))
    missing = writer.get(f"{CUSTOMERS}999999/")
    not_a_number = writer.get(f"{CUSTOMERS}abc/")

    assert found.status_code == 200
    assert found.json()["legal_name"] == "Alpha Handel GmbH"
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    assert not_a_number.status_code == 404
    assert not_a_number.json()["code"] == "not_found"


def test_patch_changes_only_the_given_fields(writer, clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Alpha Handel GmbH", tax_id="DE136695976")

    response = writer.patch(customer_url(customer), {"payment_terms_days": 45})

    assert response.status_code == 200, response.json()
    customer.refresh_from_db()
    assert customer.payment_terms_days == 45
    assert customer.legal_name == "Alpha Handel GmbH"
    assert customer.tax_id == "DE136695976"
    update = Events.objects.tracks(customer).get(pgh_label="update")
    assert set(update.pgh_diff) - {"updated_at"} == {"payment_terms_days"}
    assert update.pgh_context["user"] == writer.api_key.user_id


def test_patch_cannot_touch_status_or_credit_limit(writer, clerk):
    customer = CustomerFactory(actor=clerk)

    response = writer.patch(customer_url(customer), {"status": "active", "credit_limit": "1000000"})

    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"status", "credit_limit"}
    assert not Events.objects.tracks(customer).filter(pgh_label="update").exists()
    assert CreditProfile.objects.get(customer=customer).credit_limit == Decimal("0")


def test_patch_with_an_invalid_vat_id_names_the_field_and_changes_nothing(writer, clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Alpha Handel GmbH", tax_id="DE136695976")

    response = writer.patch(customer_url(customer), {"tax_id": "DE136695977", "legal_name": "Beta AG"})

    assert response.status_code == 422
    assert "tax_id" in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.tax_id == "DE136695976"
    assert customer.legal_name == "Alpha Handel GmbH"


# Lists, filters, search


def test_list_filters_by_status_country_sales_rep_and_currency(writer, clerk, sales_rep):
    berlin = CustomerFactory(actor=clerk, legal_name="Berliner Werkzeug GmbH", sales_rep=sales_rep)
    paris = CustomerFactory(actor=clerk, legal_name="Outillage Parisien SARL", country="FR")
    london = CustomerFactory(actor=clerk, legal_name="London Tools Ltd", country="GB", default_currency="GBP")
    services.place_credit_hold(customer=london, actor=clerk, reason="cheque bounced")

    assert ids(writer.get(CUSTOMERS)) == {berlin.pk, paris.pk, london.pk}
    assert ids(writer.get(CUSTOMERS, {"status": "on_hold"})) == {london.pk}
    assert ids(writer.get(CUSTOMERS, {"country": "FR"})) == {paris.pk}
    assert ids(writer.get(CUSTOMERS, {"sales_rep": sales_rep.pk})) == {berlin.pk}
    assert ids(writer.get(CUSTOMERS, {"default_currency": "GBP"})) == {london.pk}
    assert ids(writer.get(CUSTOMERS, {"country": "DE", "status": "active"})) == {berlin.pk}


def test_the_customer_group_is_set_changed_and_filtered(writer, clerk):
    wholesale = CustomerGroup.objects.create(code="wholesale", name="Wholesale")
    retail = CustomerGroup.objects.create(code="retail", name="Retail")
    created = writer.post(CUSTOMERS, {"legal_name": "Grosshandel Nord GmbH", "country": "DE", "group": wholesale.pk})
    other = CustomerFactory(actor=clerk)

    assert created.status_code == 201, created.json()
    assert created.json()["group"] == wholesale.pk
    assert ids(writer.get(CUSTOMERS, {"group": wholesale.pk})) == {created.json()["id"]}
    moved = writer.patch(f"{CUSTOMERS}{created.json()['id']}/", {"group": retail.pk})
    assert moved.json()["group"] == retail.pk
    assert ids(writer.get(CUSTOMERS, {"group": retail.pk})) == {created.json()["id"]}
    assert other.group is None


def test_an_invalid_filter_value_is_a_422_naming_the_filter(writer):
    response = writer.get(CUSTOMERS, {"status": "sleeping"})

    assert response.status_code == 422
    assert "status" in response.json()["errors"]


def test_search_covers_number_legal_name_trading_name_and_tax_id(writer, clerk):
    alpha = CustomerFactory(actor=clerk, legal_name="Alpha Handel GmbH", tax_id="DE136695976")
    beta = CustomerFactory(actor=clerk, legal_name="Beta Logistik GmbH", trading_name="Blitzversand")
    CustomerFactory(actor=clerk, legal_name="Gamma Bau AG")

    assert ids(writer.get(CUSTOMERS, {"search": alpha.number})) == {alpha.pk}
    assert ids(writer.get(CUSTOMERS, {"search": "logistik"})) == {beta.pk}
    assert ids(writer.get(CUSTOMERS, {"search": "blitz"})) == {beta.pk}
    assert ids(writer.get(CUSTOMERS, {"search": "136695976"})) == {alpha.pk}


def test_list_is_cursor_paginated_without_a_count(writer, clerk):
    created = [CustomerFactory(actor=clerk).pk for _ in range(5)]

    first = writer.get(CUSTOMERS, {"page_size": 2}).json()
    second = writer.get(first["next"]).json()
    third = writer.get(second["next"]).json()

    assert "count" not in first
    pages = [first, second, third]
    assert [len(page["results"]) for page in pages] == [2, 2, 1]
    assert [row["id"] for page in pages for row in page["results"]] == sorted(created, reverse=True)
    assert third["next"] is None


def _queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_customer_list_costs_the_same_queries_for_3_and_30_customers(writer, clerk, sales_rep):
    for _ in range(3):
        CustomerFactory(actor=clerk, sales_rep=sales_rep)
    writer.get(CUSTOMERS)  # the key's last_used_at is written on first use only
    with_3 = _queries_for(writer, CUSTOMERS)

    for _ in range(27):
        CustomerFactory(actor=clerk, sales_rep=StaffFactory())
    with_30 = _queries_for(writer, CUSTOMERS)

    assert len(writer.get(CUSTOMERS).json()["results"]) == 30
    assert with_3 == with_30
    assert with_30 <= 3  # key look-up, page of customers joined with credit profile


def test_change_request_and_contact_lists_cost_constant_queries(api_client_for, clerk):
    client = api_client_for("customers:read")
    customer = CustomerFactory(actor=clerk)

    def add(count: int) -> None:
        for n in range(count):
            services.add_contact(customer=customer, actor=clerk, data={"name": f"C{n}", "email": f"c{n}@x.example"})
            services.request_credit_limit_change(customer=customer, actor=clerk, credit_limit=n, reason="r")

    client.get(CHANGE_REQUESTS)
    add(2)
    contacts_few, requests_few = (
        _queries_for(client, customer_url(customer, "contacts/")),
        _queries_for(client, CHANGE_REQUESTS),
    )
    add(20)
    assert _queries_for(client, customer_url(customer, "contacts/")) == contacts_few
    assert _queries_for(client, CHANGE_REQUESTS) == requests_few


# Bad input: the field is named and nothing is written


def test_unknown_fields_are_rejected_and_nothing_is_written(writer):
    response = writer.post(
        CUSTOMERS,
        full_payload(credit_limit="50000.00", contacts=[{"name": "A", "email": "a@x.example", "mobile": "1"}]),
    )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["credit_limit"] == ["Unknown field."]
    assert errors["contacts"]["0"]["mobile"] == ["Unknown field."]
    assert nothing_written()


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"tax_id": "DE136695977"}, ["tax_id"]),
        ({"country": "XX"}, ["country"]),
        ({"default_currency": "EUX"}, ["default_currency"]),
        ({"legal_name": ""}, ["legal_name"]),
        ({"payment_terms_days": 400}, ["payment_terms_days"]),
        ({"contacts": [{"name": "Ann", "email": "not-an-email"}]}, ["contacts", "0", "email"]),
        (
            {"addresses": [{"kind": "billing", "line1": "x", "postal_code": "1", "city": "y", "country": "XX"}]},
            ["addresses", "0", "country"],
        ),
        ({"preferences": {"invoice_delivery": "fax"}}, ["preferences", "invoice_delivery"]),
    ],
)
def test_invalid_customer_data_names_the_field_and_writes_nothing(writer, overrides, path):
    response = writer.post(CUSTOMERS, full_payload(**overrides))

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    node = response.json()["errors"]
    for step in path:
        node = node[step]
    assert node, response.json()
    assert nothing_written()


def test_an_invalid_contact_email_on_the_contacts_endpoint_names_the_field(writer, clerk):
    customer = CustomerFactory(actor=clerk)
    events_before = Events.objects.count()

    response = writer.post(customer_url(customer, "contacts/"), {"name": "Ann", "email": "ann(at)example"})

    assert response.status_code == 422
    assert "email" in response.json()["errors"]
    assert not Contact.objects.exists()
    assert Events.objects.count() == events_before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "bank_account_add", "holder_name": "M", "iban": "DE89 3704 0044 0532 0130 01"}, "iban"),
        ({"kind": "bank_account_add", "holder_name": "M", "iban": IBAN, "bic": "NOTABIC"}, "bic"),
        ({"kind": "credit_limit", "credit_limit": "1000", "currency": "EUX"}, "currency"),
        ({"kind": "credit_limit", "credit_limit": "-1"}, "credit_limit"),
        ({"kind": "credit_limit"}, "credit_limit"),
        ({"kind": "credit_limit", "credit_limit": "1000", "iban": IBAN}, "iban"),
        ({"kind": "bank_account_deactivate"}, "bank_account"),
        ({"kind": "credit_limit", "credit_limit": "1000", "reason": ""}, "reason"),
    ],
)
def test_invalid_change_requests_name_the_field_and_write_nothing(requester, clerk, payload, field):
    customer = CustomerFactory(actor=clerk)

    response = requester.post(CHANGE_REQUESTS, {"customer": customer.pk, "reason": "review", **payload})

    assert response.status_code == 422
    assert field in response.json()["errors"], response.json()
    assert not ChangeRequest.objects.exists()


def test_a_bank_account_of_another_customer_cannot_be_deactivated_through_this_one(requester, clerk, approver):
    mine, theirs = CustomerFactory(actor=clerk), CustomerFactory(actor=clerk)
    account = _approved_bank_account(theirs, clerk, approver)

    response = requester.post(
        CHANGE_REQUESTS,
        {"customer": mine.pk, "kind": "bank_account_deactivate", "bank_account": account.pk, "reason": "closed"},
    )

    assert response.status_code == 422
    assert "bank_account" in response.json()["errors"]
    assert ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING).count() == 0


# Duplicates


def test_a_possible_duplicate_is_a_409_listing_it_and_confirming_creates_it(writer, clerk):
    original = CustomerFactory(actor=clerk, legal_name="Müller GmbH", tax_id="DE136695976")
    payload = {"legal_name": "Mueller GmbH & Co. KG", "country": "DE"}

    refused = writer.post(CUSTOMERS, payload)

    assert refused.status_code == 409
    problem = refused.json()
    assert problem["code"] == "possible_duplicate_customer"
    assert problem["duplicates"] == [{"id": original.pk, "number": original.number, "legal_name": "Müller GmbH"}]
    assert "confirm_duplicate" in problem["errors"]
    assert Customer.objects.count() == 1

    confirmed = writer.post(CUSTOMERS, {**payload, "confirm_duplicate": True})

    assert confirmed.status_code == 201
    assert Customer.objects.count() == 2


def test_the_same_tax_id_is_a_duplicate_whatever_the_name(writer, clerk):
    CustomerFactory(actor=clerk, legal_name="Müller GmbH", tax_id="DE136695976")

    response = writer.post(CUSTOMERS, {"legal_name": "Völlig Anders AG", "country": "DE", "tax_id": "DE136695976"})

    assert response.status_code == 409
    assert Customer.objects.count() == 1


# Credit hold, exposure, timeline


def test_credit_hold_and_release_through_the_api(writer, clerk):
    customer = CustomerFactory(actor=clerk)

    held = writer.post(customer_url(customer, "credit-hold/"), {"reason": "cheque bounced"})
    again = writer.post(customer_url(customer, "credit-hold/"), {"reason": "twice"})

    assert held.status_code == 200
    assert held.json()["status"] == "on_hold"
    assert held.json()["credit"]["hold_reason"] == "cheque bounced"
    assert held.json()["credit"]["hold_set_by"] == writer.api_key.user_id
    assert again.status_code == 409
    assert again.json()["code"] == "customer_status_conflict"

    assert writer.post(customer_url(customer, "release-credit-hold/")).status_code == 422
    released = writer.post(customer_url(customer, "release-credit-hold/"), {"reason": "cheque cleared"})

    assert released.status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE
    assert CreditProfile.objects.get(customer=customer).hold_reason == ""


def test_a_credit_hold_needs_a_reason(writer, clerk):
    customer = CustomerFactory(actor=clerk)

    response = writer.post(customer_url(customer, "credit-hold/"), {})

    assert response.status_code == 422
    assert "reason" in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


def test_a_read_only_key_cannot_place_a_credit_hold(api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)

    response = api_client_for("customers:read").post(customer_url(customer, "credit-hold/"), {"reason": "x"})

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


def test_exposure_reports_limit_and_open_amounts_as_decimal_strings(writer, clerk, approver, monkeypatch):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(customer=customer, actor=clerk, credit_limit="25000", reason="r")
    services.approve_change_request(change_request=request, actor=approver)
    monkeypatch.setattr(orders_selectors, "open_receivables", lambda *_: Decimal("1000.505"))

    response = writer.get(customer_url(customer, "exposure/"))

    assert response.status_code == 200
    assert response.json() == {
        "currency": "EUR",
        "credit_limit": "25000.00",
        "open_orders": "0.00",
        "open_receivables": "1000.51",
        "total": "1000.51",
        "available": "23999.50",
    }


def test_timeline_lists_changes_with_diff_and_actor(writer, clerk, approver):
    created = writer.post(CUSTOMERS, full_payload())
    customer = Customer.objects.get(pk=created.json()["id"])
    writer.patch(customer_url(customer), {"legal_name": "Müller Maschinenbau AG"})
    _approved_bank_account(customer, clerk, approver)

    response = writer.get(customer_url(customer, "timeline/"))

    assert response.status_code == 200
    entries = response.json()
    rename = next(
        e
        for e in entries
        if e["what"] == {"label": "update", "model": "customers.Customer", "object_id": str(customer.pk)}
    )
    assert rename["diff"]["legal_name"] == ["Müller Maschinenbau GmbH", "Müller Maschinenbau AG"]
    assert rename["actor"] == {"id": writer.api_key.user_id, "email": writer.api_key.user.email}
    assert rename["reason"] == "update customer"
    models = {e["what"]["model"] for e in entries}
    assert {"customers.Customer", "customers.Contact", "customers.Address", "customers.BankAccount"} <= models
    assert IBAN_COMPACT[4:] not in response.content.decode()
    bank_entry = next(e for e in entries if e["what"]["model"] == "customers.BankAccount")
    assert not {"iban", "iban_fingerprint"} & set(bank_entry["diff"] or {})
    assert bank_entry["actor"]["id"] == approver.pk


def test_timeline_gives_amounts_in_diffs_as_decimal_strings_not_floats(writer, clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="15000.5", reason="grew"
    )
    services.approve_change_request(change_request=request, actor=approver)

    entries = writer.get(customer_url(customer, "timeline/")).json()

    [raised] = [
        e for e in entries if e["what"]["model"] == "customers.CreditProfile" and e["what"]["label"] == "update"
    ]
    assert raised["diff"]["credit_limit"][1] == "15000.5000"  # as stored: numeric with four places
    assert isinstance(raised["diff"]["credit_limit"][0], str)
    assert "15000.5," not in writer.get(customer_url(customer, "timeline/")).content.decode()


# Contacts, addresses, preferences, bank accounts


def test_contacts_crud(writer, clerk):
    customer = CustomerFactory(actor=clerk)

    created = writer.post(
        customer_url(customer, "contacts/"), {"name": "Ben Kraus", "email": "ben@x.example", "roles": ["shipping"]}
    )
    assert created.status_code == 201, created.json()
    contact_url = f"/api/v1/contacts/{created.json()['id']}/"
    listed = writer.get(customer_url(customer, "contacts/"))
    changed = writer.patch(contact_url, {"roles": ["billing", "shipping"], "phone": "+49 30 1234"})
    fetched = writer.get(contact_url)
    removed = writer.delete(contact_url)

    assert [c["name"] for c in listed.json()["results"]] == ["Ben Kraus"]
    assert changed.status_code == 200
    assert fetched.json()["roles"] == ["billing", "shipping"]
    assert fetched.json()["phone"] == "+49 30 1234"
    assert removed.status_code == 204
    assert not Contact.objects.exists()
    assert writer.get(contact_url).status_code == 404


def test_contacts_of_an_unknown_customer_are_a_404(writer):
    assert writer.get(f"{CUSTOMERS}999999/contacts/").status_code == 404
    assert writer.post(f"{CUSTOMERS}999999/contacts/", {"name": "A", "email": "a@x.example"}).status_code == 404
    assert not Contact.objects.exists()


def test_addresses_crud_keeps_one_default_per_kind(writer, clerk):
    customer = CustomerFactory(actor=clerk)
    first = services.add_address(
        customer=customer,
        actor=clerk,
        data={"kind": "billing", "line1": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
    )

    created = writer.post(
        customer_url(customer, "addresses/"),
        {"kind": "billing", "line1": "Ring 2", "postal_code": "80331", "city": "München", "country": "DE"},
    )
    address_url = f"/api/v1/addresses/{created.json()['id']}/"
    changed = writer.patch(address_url, {"city": "Munich"})
    bad = writer.patch(address_url, {"country": "XX"})

    assert created.status_code == 201
    first.refresh_from_db()
    assert not first.is_default
    assert changed.json()["city"] == "Munich"
    assert bad.status_code == 422
    assert "country" in bad.json()["errors"]
    assert Address.objects.get(pk=created.json()["id"]).country == "DE"
    assert len(writer.get(customer_url(customer, "addresses/")).json()["results"]) == 2
    assert writer.delete(f"/api/v1/addresses/{first.pk}/").status_code == 204
    assert list(Address.objects.values_list("city", flat=True)) == ["Munich"]


def test_preferences_read_and_patch(writer, clerk):
    customer = CustomerFactory(actor=clerk)
    url = customer_url(customer, "preferences/")

    changed = writer.patch(
        url,
        {
            "channels": ["portal", "email", "portal"],
            "opt_outs": ["newsletter"],
            "portal_mfa_required": True,
            "facturx_profile": "basicwl",
        },
    )
    bad = writer.patch(url, {"invoice_delivery": "fax"})
    bad_profile = writer.patch(url, {"facturx_profile": "extended"})

    assert changed.status_code == 200
    assert writer.get(url).json() == {
        "customer": customer.pk,
        "channels": ["email", "portal"],
        "opt_outs": ["newsletter"],
        "invoice_delivery": "pdf_email",
        "po_number_required": False,
        "portal_mfa_required": True,
        "invoicing_schedule": "per_shipment",
        "document_layout": "standard",
        "facturx_profile": "basicwl",
    }
    assert bad.status_code == 422
    assert "invoice_delivery" in bad.json()["errors"]
    assert bad_profile.status_code == 422
    assert "facturx_profile" in bad_profile.json()["errors"]


def test_bank_accounts_show_the_iban_masked_only(writer, clerk, approver):
    customer = CustomerFactory(actor=clerk)
    _approved_bank_account(customer, clerk, approver)

    listed = writer.get(customer_url(customer, "bank-accounts/"))
    detail = writer.get(customer_url(customer))

    assert listed.status_code == 200
    [account] = listed.json()["results"]
    assert account["iban_masked"] == "DE89 •••• 3000"
    assert account["holder_name"] == "Müller GmbH"
    assert account["bic"] == "COBADEFFXXX"
    assert account["is_active"] is True
    assert "iban" not in account
    for response in (listed, detail):
        assert IBAN_COMPACT not in response.content.decode()
        assert "0532 0130" not in response.content.decode()


def _approved_bank_account(customer, requester, approver) -> BankAccount:
    request = services.request_bank_account(
        customer=customer, actor=requester, holder_name="Müller GmbH", iban=IBAN, bic="COBADEFFXXX", reason="new bank"
    )
    services.approve_change_request(change_request=request, actor=approver)
    return BankAccount.objects.get(customer=customer)


# Change requests and four eyes


def test_four_eyes_through_the_api(approver_client, api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)
    requester = api_client_for("customers:read", "change_requests:write", "change_requests:approve")
    created = requester.post(
        CHANGE_REQUESTS,
        {"customer": customer.pk, "kind": "credit_limit", "credit_limit": "25000.005", "reason": "annual review"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["proposed"] == {"credit_limit": "25000.01", "currency": "EUR"}
    assert created.json()["requested_by"] == requester.api_key.user_id
    approve_url = f"{CHANGE_REQUESTS}{created.json()['id']}/approve/"
    # Another key of the same account is the same person.
    _, plaintext = create_api_key(
        name="same account", scopes=["change_requests:approve"], actor=clerk, user=requester.api_key.user
    )
    same_account = APIClient()
    same_account.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")

    for refused in (requester.post(approve_url, {"note": "fine"}), same_account.post(approve_url, {"note": "fine"})):
        assert refused.status_code == 403
        assert refused["Content-Type"] == "application/problem+json"
        assert refused.json()["code"] == "four_eyes_self_approval"
    assert CreditProfile.objects.get(customer=customer).credit_limit == Decimal("0")
    assert ChangeRequest.objects.get().status == ChangeRequestStatus.PENDING

    approved = approver_client.post(approve_url, {"note": "checked the financials"})

    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == approver_client.api_key.user_id
    assert approved.json()["decision_note"] == "checked the financials"
    assert CreditProfile.objects.get(customer=customer).credit_limit == Decimal("25000.01")
    assert approver_client.get(customer_url(customer)).json()["credit"]["credit_limit"] == "25000.01"

    again = approver_client.post(approve_url, {})
    assert again.status_code == 409
    assert again.json()["code"] == "change_request_not_pending"


def test_a_key_without_the_approve_scope_cannot_approve(requester, api_client_for, clerk):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(customer=customer, actor=clerk, credit_limit="100", reason="r")
    writer_key = api_client_for("customers:read", "customers:write", "change_requests:write")

    response = writer_key.post(f"{CHANGE_REQUESTS}{request.pk}/approve/", {})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "change_requests:approve" in response.json()["detail"]
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.PENDING
    assert CreditProfile.objects.get(customer=customer).credit_limit == Decimal("0")


def test_a_bank_account_request_shows_the_proposed_iban_masked_only(requester, approver_client, clerk):
    customer = CustomerFactory(actor=clerk)

    created = requester.post(
        CHANGE_REQUESTS,
        {
            "customer": customer.pk,
            "kind": "bank_account_add",
            "holder_name": "Müller GmbH",
            "iban": IBAN,
            "bic": "COBADEFFXXX",
            "reason": "new house bank",
        },
    )
    listed = approver_client.get(CHANGE_REQUESTS)
    approved = approver_client.post(f"{CHANGE_REQUESTS}{created.json()['id']}/approve/", {})

    assert created.status_code == 201
    assert created.json()["proposed"] == {
        "holder_name": "Müller GmbH",
        "bic": "COBADEFFXXX",
        "iban_masked": "DE89 •••• 3000",
    }
    for response in (created, listed, approved):
        assert IBAN_COMPACT not in response.content.decode()
        assert "0532 0130" not in response.content.decode()
    assert BankAccount.objects.get(customer=customer).iban == IBAN_COMPACT


def test_deactivating_a_bank_account_through_a_change_request(requester, approver_client, clerk, approver):
    customer = CustomerFactory(actor=clerk)
    account = _approved_bank_account(customer, clerk, approver)

    created = requester.post(
        CHANGE_REQUESTS,
        {"customer": customer.pk, "kind": "bank_account_deactivate", "bank_account": account.pk, "reason": "closed"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["bank_account"] == account.pk
    account.refresh_from_db()
    assert account.is_active

    approver_client.post(f"{CHANGE_REQUESTS}{created.json()['id']}/approve/", {})

    account.refresh_from_db()
    assert not account.is_active


def test_reject_needs_a_note_and_leaves_the_limit_alone(requester, approver_client, clerk):
    customer = CustomerFactory(actor=clerk)
    created = requester.post(
        CHANGE_REQUESTS, {"customer": customer.pk, "kind": "credit_limit", "credit_limit": "900", "reason": "r"}
    )
    reject_url = f"{CHANGE_REQUESTS}{created.json()['id']}/reject/"

    without_note = approver_client.post(reject_url, {})
    by_requester = requester.post(reject_url, {"note": "no"})
    rejected = approver_client.post(reject_url, {"note": "no payment history yet"})

    assert without_note.status_code == 422
    assert "note" in without_note.json()["errors"]
    assert by_requester.status_code == 403  # the requester's key lacks change_requests:approve
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "no payment history yet"
    assert CreditProfile.objects.get(customer=customer).credit_limit == Decimal("0")


def test_change_request_list_filters_by_status_kind_and_customer(approver_client, clerk, approver):
    alpha, beta = CustomerFactory(actor=clerk), CustomerFactory(actor=clerk)
    limit_alpha = services.request_credit_limit_change(customer=alpha, actor=clerk, credit_limit="1", reason="r")
    limit_beta = services.request_credit_limit_change(customer=beta, actor=clerk, credit_limit="2", reason="r")
    bank_beta = services.request_bank_account(customer=beta, actor=clerk, holder_name="B", iban=IBAN, reason="r")
    services.reject_change_request(change_request=limit_beta, actor=approver, note="no")

    assert ids(approver_client.get(CHANGE_REQUESTS)) == {limit_alpha.pk, limit_beta.pk, bank_beta.pk}
    assert ids(approver_client.get(CHANGE_REQUESTS, {"status": "pending"})) == {limit_alpha.pk, bank_beta.pk}
    assert ids(approver_client.get(CHANGE_REQUESTS, {"kind": "bank_account_add"})) == {bank_beta.pk}
    assert ids(approver_client.get(CHANGE_REQUESTS, {"customer": beta.pk})) == {limit_beta.pk, bank_beta.pk}
    detail = approver_client.get(f"{CHANGE_REQUESTS}{limit_beta.pk}/").json()
    assert detail["status"] == "rejected"
    assert detail["decided_by"] == approver.pk


# Staff sessions


def test_staff_session_needs_the_django_permission(clerk):
    finance, service_desk = APIClient(), APIClient()
    finance.force_login(clerk)  # finance group
    service_desk.force_login(StaffFactory(groups=["service"]))

    assert finance.post(CUSTOMERS, {"legal_name": "Delta AG", "country": "DE"}).status_code == 201
    assert service_desk.get(CUSTOMERS).status_code == 200
    refused = service_desk.post(CUSTOMERS, {"legal_name": "Epsilon AG", "country": "DE"})
    assert refused.status_code == 403
    assert list(Customer.objects.values_list("legal_name", flat=True)) == ["Delta AG"]
