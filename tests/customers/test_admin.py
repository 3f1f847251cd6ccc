"""The staff admin for customer data, API keys and the outbox: every write goes through a service,
a refused service call shows an error and writes nothing, and lists cost a constant number of queries."""

import hashlib
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pghistory.models import Events

from customers import services
from customers.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Contact,
    Customer,
    CustomerStatus,
)
from otc.errors import InvalidInput
from otc.models import ApiKey, User
from tests.factories import CustomerFactory, StaffFactory, give_totp
from workflows.models import EventStatus, OutboxEvent

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/customers/customer/"
CHANGE_REQUESTS = "/admin/customers/changerequest/"
API_KEYS = "/admin/otc/apikey/"
OUTBOX = "/admin/workflows/outboxevent/"
IBAN = "DE89 3704 0044 0532 0130 00"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def add_form(**overrides) -> dict:
    data = {
        "legal_name": "Nordlicht Maschinenbau GmbH",
        "trading_name": "Nordlicht",
        "country": "DE",
        "tax_id": "DE 136 695 976",
        "default_currency": "EUR",
        "language": "de",
        "payment_terms_days": "14",
        "sales_rep": "",
        "notes": "",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def untouched_inlines(*prefixes: str) -> dict[str, str]:
    """Management data for inlines the POST leaves alone (their existing rows stay as they are)."""
    return {f"{prefix}-{part}": "0" for prefix in prefixes for part in ("TOTAL_FORMS", "INITIAL_FORMS")}


@pytest.fixture
def admin_user(db):
    return StaffFactory(email="ada@otc.test", full_name="Ada Admin", groups=["admin"])


def test_customer_list_costs_the_same_queries_for_3_or_20_customers(clerk, sales_rep):
    client = signed_in(clerk)
    for _ in range(3):
        CustomerFactory(actor=clerk, sales_rep=sales_rep)
    client.get(CUSTOMERS)  # warm caches (content types, sessions)

    with CaptureQueriesContext(connection) as three:
        response = client.get(CUSTOMERS)
    assert response.status_code == 200
    for _ in range(17):
        CustomerFactory(actor=clerk, sales_rep=sales_rep)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(CUSTOMERS)

    assert response.status_code == 200
    assert response.content.decode().count("Rita Rep") >= 20
    assert len(twenty) == len(three)


def test_customer_list_never_counts_the_whole_table(clerk):
    CustomerFactory(actor=clerk)
    client = signed_in(clerk)

    with CaptureQueriesContext(connection) as queries:
        client.get(CUSTOMERS)

    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "customers_customer" in q["sql"]]
    assert counts == []


def test_customer_list_filters_and_searches(clerk):
    CustomerFactory(actor=clerk, legal_name="Alpha Handel AG")
    beta = CustomerFactory(actor=clerk, legal_name="Beta Logistik AG", country="FR")
    client = signed_in(clerk)

    by_country = client.get(CUSTOMERS, {"country__exact": "FR"}).content.decode()
    by_search = client.get(CUSTOMERS, {"q": "Beta"}).content.decode()

    assert beta.number in by_country
    assert "Alpha Handel" not in by_country
    assert "Beta Logistik" in by_search
    assert "Alpha Handel" not in by_search


def test_adding_a_customer_writes_it_through_the_service_with_an_audit_row(clerk):
    client = signed_in(clerk)

    response = client.post(
        f"{CUSTOMERS}add/",
        add_form(
            **{
                "contacts-TOTAL_FORMS": "1",
                "contacts-0-name": "Jana Einkauf",
                "contacts-0-email": "jana@nordlicht.example",
                "contacts-0-phone": "",
                "contacts-0-roles": ["billing", "purchasing"],
                "contacts-0-is_active": "on",
            }
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    customer = Customer.objects.get()
    assert customer.number.startswith("C")
    assert customer.tax_id == "DE136695976"
    assert customer.payment_terms_days == 14
    assert customer.credit.credit_limit == Decimal("0")
    contact = Contact.objects.get(customer=customer)
    assert contact.roles == ["billing", "purchasing"]
    created = Events.objects.tracks(customer).filter(pgh_label="insert").get()
    assert created.pgh_context["user"] == clerk.pk
    assert Events.objects.tracks(contact).filter(pgh_label="insert").exists()


def test_the_add_form_starts_in_the_companys_country_and_currency_unless_the_url_says_otherwise(clerk, settings):
    settings.OTC_COMPANY_COUNTRY, settings.OTC_COMPANY_CURRENCY = "AT", "CHF"
    client = signed_in(clerk)

    form = client.get(f"{CUSTOMERS}add/").context["adminform"].form
    asked = client.get(f"{CUSTOMERS}add/?country=FR").context["adminform"].form

    assert (form["country"].value(), form["default_currency"].value()) == ("AT", "CHF")
    assert (asked["country"].value(), asked["default_currency"].value()) == ("FR", "CHF")


def test_an_invalid_vat_id_in_the_add_form_is_shown_and_nothing_is_written(clerk):
    client = signed_in(clerk)

    response = client.post(f"{CUSTOMERS}add/", add_form(tax_id="DE123"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a valid tax ID for DE" in page
    assert 'name="tax_id"' in page
    assert not Customer.objects.exists()
    assert not Events.objects.exists()


def test_a_possible_duplicate_is_warned_about_and_created_only_when_confirmed(clerk):
    original = CustomerFactory(actor=clerk, legal_name="Nordlicht Maschinenbau GmbH", tax_id="DE136695976")
    client = signed_in(clerk)

    warned = client.post(f"{CUSTOMERS}add/", add_form(legal_name="Nordlicht Maschinenbau"))

    assert warned.status_code == 200
    page = warned.content.decode()
    assert "Possible duplicate of" in page
    assert original.number in page
    assert 'name="confirm_duplicate"' in page
    assert Customer.objects.count() == 1

    confirmed = client.post(f"{CUSTOMERS}add/", add_form(legal_name="Nordlicht Maschinenbau", confirm_duplicate="on"))

    assert confirmed.status_code == 302
    assert Customer.objects.count() == 2


def test_changing_a_customer_and_its_contacts_goes_through_the_services(clerk, sales_rep):
    customer = CustomerFactory(actor=clerk, legal_name="Gamma Handel GmbH")
    contact = services.add_contact(
        customer=customer, actor=clerk, data={"name": "Old Name", "email": "old@gamma.example", "roles": []}
    )
    client = signed_in(clerk)
    page = client.get(f"{CUSTOMERS}{customer.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") or "" for name in form.fields if name != "confirm_duplicate"}
    data.update(
        {
            "trading_name": "Gamma",
            "sales_rep": str(sales_rep.pk),
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "1",
            "contacts-0-id": str(contact.pk),
            "contacts-0-customer": str(customer.pk),
            "contacts-0-name": "New Name",
            "contacts-0-email": "new@gamma.example",
            "contacts-0-roles": ["billing"],
            "contacts-0-is_active": "on",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
            "preferences-TOTAL_FORMS": "1",
            "preferences-INITIAL_FORMS": "1",
            "preferences-0-customer": str(customer.pk),
            "preferences-0-channels": ["email", "portal"],
            "preferences-0-invoice_delivery": "e_invoice",
            "preferences-0-invoicing_schedule": "monthly",
            "preferences-0-document_layout": "detailed",
            "preferences-0-facturx_profile": "basic",
            "credit-TOTAL_FORMS": "1",
            "credit-INITIAL_FORMS": "1",
            "credit-0-customer": str(customer.pk),
            "credit-0-risk_class": "high",
            "credit-0-review_date": "2030-01-31",
            "bank_accounts-TOTAL_FORMS": "0",
            "bank_accounts-INITIAL_FORMS": "0",
            "change_requests-TOTAL_FORMS": "0",
            "change_requests-INITIAL_FORMS": "0",
            **untouched_inlines("portal_members", "portal_invitations"),
            "_save": "Save",
        }
    )

    response = client.post(f"{CUSTOMERS}{customer.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    contact.refresh_from_db()
    assert customer.trading_name == "Gamma"
    assert customer.sales_rep == sales_rep
    assert (contact.name, contact.email, contact.roles) == ("New Name", "new@gamma.example", ["billing"])
    assert customer.preferences.channels == ["email", "portal"]
    assert (
        customer.preferences.invoice_delivery,
        customer.preferences.invoicing_schedule,
        customer.preferences.document_layout,
        customer.preferences.facturx_profile,
    ) == ("e_invoice", "monthly", "detailed", "basic")
    assert customer.credit.risk_class == "high"
    updates = Events.objects.references(customer).filter(pgh_label="update")
    assert {event.pgh_obj_model for event in updates} >= {
        "customers.Customer",
        "customers.Contact",
        "customers.Preferences",
        "customers.CreditProfile",
    }
    assert {event.pgh_context["user"] for event in updates} == {clerk.pk}


def test_a_row_refused_by_its_service_rolls_back_the_whole_save_and_is_shown_at_the_row(clerk, monkeypatch):
    def refuse(**kwargs):
        raise InvalidInput("Refused", fields={"email": ["This mailbox does not accept invoices."]})

    monkeypatch.setattr(services, "add_contact", refuse)
    client = signed_in(clerk)

    response = client.post(
        f"{CUSTOMERS}add/",
        add_form(
            **{
                "contacts-TOTAL_FORMS": "1",
                "contacts-0-name": "Jana Einkauf",
                "contacts-0-email": "jana@nordlicht.example",
                "contacts-0-roles": ["billing"],
                "contacts-0-is_active": "on",
            }
        ),
    )

    assert response.status_code == 200
    contact_form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert contact_form.errors == {"email": ["This mailbox does not accept invoices."]}
    assert not Customer.objects.exists()  # create_customer ran, and was rolled back with the refused row
    assert not Events.objects.exists()


def test_a_refused_removal_is_shown_above_the_rows_and_nothing_is_removed(monkeypatch):
    superuser = give_totp(User.objects.create_superuser("root@otc.test", "correct-horse-battery"))
    customer = CustomerFactory(actor=superuser)
    contact = services.add_contact(customer=customer, actor=superuser, data={"name": "Ann", "email": "ann@x.example"})

    def refuse(**kwargs):
        raise InvalidInput("The last billing contact cannot be removed.")

    monkeypatch.setattr(services, "remove_contact", refuse)
    client = signed_in(superuser)
    form = client.get(f"{CUSTOMERS}{customer.pk}/change/").context["adminform"].form
    data = {name: form.initial.get(name, "") or "" for name in form.fields if name != "confirm_duplicate"}
    data.update(
        {
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "1",
            "contacts-0-id": str(contact.pk),
            "contacts-0-customer": str(customer.pk),
            "contacts-0-name": "Ann",
            "contacts-0-email": "ann@x.example",
            "contacts-0-is_active": "on",
            "contacts-0-DELETE": "on",
            **untouched_inlines(
                "addresses",
                "preferences",
                "credit",
                "bank_accounts",
                "change_requests",
                "portal_members",
                "portal_invitations",
            ),
            "_save": "Save",
        }
    )

    response = client.post(f"{CUSTOMERS}{customer.pk}/change/", data)

    assert response.status_code == 200
    assert "The last billing contact cannot be removed." in response.content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_requesting_deactivation_of_a_bank_account(clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_bank_account(customer=customer, actor=clerk, holder_name="Eta", iban=IBAN, reason="New")
    services.approve_change_request(change_request=request, actor=approver)
    account = customer.bank_accounts.get()
    url = f"{CUSTOMERS}{customer.pk}/bank-accounts/{account.pk}/deactivate/"
    client = signed_in(clerk)

    assert "DE89 •••• 3000" in client.get(url).content.decode()
    response = client.post(url, {"reason": "Account closed"})

    assert response.status_code == 302
    deactivation = ChangeRequest.objects.get(kind="bank_account_deactivate")
    assert deactivation.bank_account == account
    account.refresh_from_db()
    assert account.is_active  # until a second person approves


def test_the_history_page_shows_who_changed_what_and_before_and_after(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Delta Werke GmbH")
    services.update_customer(customer=customer, actor=clerk, data={"trading_name": "Delta"})
    services.place_credit_hold(customer=customer, actor=clerk, reason="Cheque bounced")

    page = signed_in(clerk).get(f"{CUSTOMERS}{customer.pk}/history/").content.decode()

    assert "Clara Clerk" in page
    assert "Trading name" in page
    assert "Delta" in page
    assert "Cheque bounced" in page
    assert "On credit hold" in page  # status after, shown by its label
    assert "Customer added" in page


def test_the_credit_hold_action_asks_for_a_reason_then_holds(clerk):
    customer = CustomerFactory(actor=clerk)
    client = signed_in(clerk)
    selection = {"action": "place_credit_hold", "_selected_action": [customer.pk], "select_across": "0"}

    asked = client.post(CUSTOMERS, {**selection, "index": "0"})
    assert asked.status_code == 200
    assert 'name="reason"' in asked.content.decode()
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE

    done = client.post(CUSTOMERS, {**selection, "apply": "1", "reason": "Two invoices 60 days overdue"})

    assert done.status_code == 302
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ON_HOLD
    assert customer.credit.hold_reason == "Two invoices 60 days overdue"
    assert customer.credit.hold_set_by == clerk


def test_a_refused_bulk_action_reports_the_customer_and_changes_nothing(clerk):
    customer = CustomerFactory(actor=clerk)
    client = signed_in(clerk)

    selected = {"action": "release_credit_hold", "_selected_action": [customer.pk], "index": "0", "select_across": "0"}
    asked = client.post(CUSTOMERS, selected)
    assert asked.status_code == 200  # the reason first
    response = client.post(CUSTOMERS, {**selected, "apply": "1", "reason": "cheque cleared"})

    assert response.status_code == 302
    assert any("not on credit hold" in message for message in messages_of(response))
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


def test_credit_hold_and_block_from_the_customer_page(clerk):
    customer = CustomerFactory(actor=clerk)
    client = signed_in(clerk)

    assert client.get(f"{CUSTOMERS}{customer.pk}/credit-hold/").status_code == 200
    assert client.post(f"{CUSTOMERS}{customer.pk}/credit-hold/", {"reason": ""}).status_code == 200
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE

    client.post(f"{CUSTOMERS}{customer.pk}/credit-hold/", {"reason": "Insolvency rumours"})
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ON_HOLD

    refused = client.post(f"{CUSTOMERS}{customer.pk}/credit-hold/", {"reason": "again"})
    assert "Only an active customer can be put on hold" in refused.content.decode()

    client.post(f"{CUSTOMERS}{customer.pk}/block/", {"reason": "Fraud"})
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.BLOCKED
    client.post(f"{CUSTOMERS}{customer.pk}/unblock/")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE


def test_requesting_a_credit_limit_change_from_the_customer_page(clerk):
    customer = CustomerFactory(actor=clerk)
    client = signed_in(clerk)

    response = client.post(
        f"{CUSTOMERS}{customer.pk}/request-credit-limit/",
        {"credit_limit": "25000", "currency": "EUR", "reason": "Annual review"},
    )

    assert response.status_code == 302
    request = ChangeRequest.objects.get()
    assert request.proposed == {"credit_limit": "25000.00", "currency": "EUR"}
    assert request.requested_by == clerk
    customer.refresh_from_db()
    assert customer.credit.credit_limit == Decimal("0")  # not before a second person approves


def test_an_invalid_iban_in_the_bank_account_request_is_shown_and_nothing_is_written(clerk):
    customer = CustomerFactory(actor=clerk)
    client = signed_in(clerk)
    url = f"{CUSTOMERS}{customer.pk}/request-bank-account/"

    refused = client.post(url, {"holder_name": "Epsilon", "iban": "DE00 1234", "bic": "", "reason": "New bank"})

    assert refused.status_code == 200
    assert "is not a valid IBAN" in refused.content.decode()
    assert not ChangeRequest.objects.exists()

    accepted = client.post(url, {"holder_name": "Epsilon", "iban": IBAN, "bic": "", "reason": "New bank"})
    assert accepted.status_code == 302
    assert ChangeRequest.objects.get().proposed["iban_masked"] == "DE89 •••• 3000"


def test_the_change_request_queue_opens_on_pending_and_never_shows_a_plain_iban(clerk):
    customer = CustomerFactory(actor=clerk)
    services.request_bank_account(customer=customer, actor=clerk, holder_name="Zeta", iban=IBAN, reason="New bank")
    client = signed_in(clerk)

    assert client.get(CHANGE_REQUESTS)["Location"].endswith("?status__exact=pending")
    listing = client.get(f"{CHANGE_REQUESTS}?status__exact=pending").content.decode()
    detail = client.get(f"{CHANGE_REQUESTS}{ChangeRequest.objects.get().pk}/change/").content.decode()

    for page in (listing, detail):
        assert "DE89 •••• 3000" in page
        assert "DE89370400440532013000" not in page
        assert "0532 0130" not in page


def test_a_change_request_approved_by_another_staff_member_is_applied(clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="50000", currency="EUR", reason="Growth"
    )

    response = signed_in(approver).post(
        CHANGE_REQUESTS, {"action": "approve", "_selected_action": [request.pk], "index": "0", "select_across": "0"}
    )

    assert response.status_code == 302
    request.refresh_from_db()
    customer.refresh_from_db()
    assert request.status == ChangeRequestStatus.APPROVED
    assert request.decided_by == approver
    assert customer.credit.credit_limit == Decimal("50000")


def test_the_requester_cannot_approve_their_own_change_request(clerk):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="50000", currency="EUR", reason="Growth"
    )
    client = signed_in(clerk)

    bulk = client.post(
        CHANGE_REQUESTS, {"action": "approve", "_selected_action": [request.pk], "index": "0", "select_across": "0"}
    )
    detail = client.post(f"{CHANGE_REQUESTS}{request.pk}/approve/", {"note": ""})

    for response in (bulk, detail):
        assert any("another staff member must decide it" in message for message in messages_of(response))
    request.refresh_from_db()
    customer.refresh_from_db()
    assert request.status == ChangeRequestStatus.PENDING
    assert request.decided_by is None
    assert customer.credit.credit_limit == Decimal("0")


def test_rejecting_asks_for_a_note(clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="50000", currency="EUR", reason="Growth"
    )
    client = signed_in(approver)
    selection = {"action": "reject", "_selected_action": [request.pk], "select_across": "0"}

    asked = client.post(CHANGE_REQUESTS, {**selection, "index": "0"})
    assert 'name="note"' in asked.content.decode()
    client.post(CHANGE_REQUESTS, {**selection, "apply": "1", "note": ""})
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.PENDING

    client.post(CHANGE_REQUESTS, {**selection, "apply": "1", "note": "No payment history yet"})

    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.REJECTED
    assert request.decision_note == "No payment history yet"


def test_sales_staff_cannot_approve(clerk):
    seller = StaffFactory(groups=["sales"])
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="100", currency="EUR", reason="Growth"
    )

    page = signed_in(seller).get(f"{CHANGE_REQUESTS}?status__exact=pending").content.decode()
    forbidden = signed_in(seller).post(f"{CHANGE_REQUESTS}{request.pk}/approve/", {"note": ""})

    assert 'value="approve"' not in page
    assert forbidden.status_code == 403
    request.refresh_from_db()
    assert request.status == ChangeRequestStatus.PENDING


def test_the_change_request_add_page_leads_to_the_customer_request_form(clerk):
    customer = CustomerFactory(actor=clerk)

    response = signed_in(clerk).post(
        f"{CHANGE_REQUESTS}add/", {"customer_number": customer.number.lower(), "kind": "credit_limit"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{CUSTOMERS}{customer.pk}/request-credit-limit/"


def test_creating_an_api_key_shows_it_once_and_stores_only_its_hash(admin_user):
    client = signed_in(admin_user)

    response = client.post(f"{API_KEYS}add/", {"name": "Webshop", "scopes": ["customers:read"], "user": ""})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = re.search(r"otc_([0-9a-f]{12})_([A-Za-z0-9_\-]+)", response.content.decode())
    assert plaintext is not None
    key = ApiKey.objects.get()
    assert key.prefix == plaintext.group(1)
    assert key.hashed_secret == hashlib.sha256(plaintext.group(2).encode()).hexdigest()
    assert key.scopes == ["customers:read"]
    assert key.user.is_service_account
    assert plaintext.group(0) not in str(ApiKey.objects.values().get())
    assert plaintext.group(0) not in client.get(f"{API_KEYS}{key.pk}/change/").content.decode()
    assert plaintext.group(0) not in client.get(API_KEYS).content.decode()


def test_an_api_key_with_unknown_scopes_or_no_name_is_refused(admin_user):
    response = signed_in(admin_user).post(f"{API_KEYS}add/", {"name": "", "scopes": ["nope"]})

    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_an_api_key_can_be_limited_to_address_ranges_and_a_bad_range_is_named(admin_user):
    client = signed_in(admin_user)

    refused = client.post(
        f"{API_KEYS}add/", {"name": "EDI", "scopes": ["orders:read"], "allowed_networks": "10.0.0.0/33"}
    )
    created = client.post(
        f"{API_KEYS}add/", {"name": "EDI", "scopes": ["orders:read"], "allowed_networks": "203.0.113.0/24\n10.1.2.3\n"}
    )

    assert "Not an address or CIDR range: 10.0.0.0/33" in refused.content.decode()
    assert created.status_code == 200
    assert ApiKey.objects.get().allowed_networks == ["10.1.2.3/32", "203.0.113.0/24"]


def test_revoking_api_keys(admin_user):
    client = signed_in(admin_user)
    client.post(f"{API_KEYS}add/", {"name": "ERP", "scopes": ["customers:read"]})
    key = ApiKey.objects.get()

    response = client.post(
        API_KEYS, {"action": "revoke_keys", "_selected_action": [key.pk], "index": "0", "select_across": "0"}
    )

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == admin_user
    again = client.post(f"{API_KEYS}{key.pk}/revoke/")
    assert any("already revoked" in message for message in messages_of(again))


def test_the_user_admin_creates_accounts_by_email(admin_user):
    client = signed_in(admin_user)

    response = client.post(
        "/admin/otc/user/add/",
        {
            "email": "New.Person@OTC.test",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a-long-enough-secret-42",
            "password2": "a-long-enough-secret-42",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email="new.person@otc.test")
    assert user.check_password("a-long-enough-secret-42")
    assert client.get(f"/admin/otc/user/{user.pk}/change/").status_code == 200


def test_retrying_a_failed_outbox_event(admin_user):
    event = OutboxEvent.objects.create(
        event_type="customer.changed",
        payload={"customer_id": 1},
        status=EventStatus.FAILED,
        attempts=8,
        last_error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    client = signed_in(admin_user)
    listing = client.get(OUTBOX).content.decode()
    assert "SMTPServerDisconnected" in listing
    assert "customer_id" in client.get(f"{OUTBOX}{event.pk}/change/").content.decode()

    response = client.post(
        OUTBOX, {"action": "retry", "_selected_action": [event.pk], "index": "0", "select_across": "0"}
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    assert event.available_at is None


def test_finance_may_look_at_the_outbox_but_not_retry(clerk):
    event = OutboxEvent.objects.create(event_type="customer.changed", status=EventStatus.FAILED, attempts=8)
    client = signed_in(clerk)

    assert client.get(OUTBOX).status_code == 200
    assert client.get(f"{OUTBOX}{event.pk}/retry/").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        CUSTOMERS,
        f"{CUSTOMERS}add/",
        f"{CUSTOMERS}import/",
        f"{CUSTOMERS}export/",
        f"{CHANGE_REQUESTS}?status__exact=pending",
        f"{CHANGE_REQUESTS}add/",
        API_KEYS,
        f"{API_KEYS}add/",
        "/admin/otc/user/",
        OUTBOX,
        "/admin/workflows/delivery/",
        "/admin/workflows/handlerrun/",
        "/admin/",
    ],
)
def test_admin_pages_render_for_a_superuser(url):
    superuser = give_totp(User.objects.create_superuser("root@otc.test", "correct-horse-battery"))

    assert signed_in(superuser).get(url).status_code == 200


def test_a_customer_page_renders_with_all_its_parts(clerk):
    customer = CustomerFactory(actor=clerk)
    services.add_address(
        customer=customer,
        actor=clerk,
        data={"kind": "billing", "line1": "Hafenstr. 1", "postal_code": "20457", "city": "Hamburg", "country": "DE"},
    )
    services.request_bank_account(customer=customer, actor=clerk, holder_name="Eta", iban=IBAN, reason="New")
    client = signed_in(clerk)

    page = client.get(f"{CUSTOMERS}{customer.pk}/change/").content.decode()

    assert "Hafenstr. 1" in page
    assert "Request credit limit change" in page
    assert "DE89 •••• 3000" in page
    assert "DE89370400440532013000" not in page
