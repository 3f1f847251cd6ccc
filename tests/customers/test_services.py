from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from pghistory.models import Events

from customers import services
from customers.errors import ChangeRequestNotPending, PossibleDuplicateCustomer, SelfApprovalRefused
from customers.models import (
    BankAccount,
    ChangeRequest,
    ChangeRequestStatus,
    Contact,
    Customer,
    CustomerStatus,
)
from customers.selectors import shipping_country
from otc.errors import InvalidInput
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

IBAN = "DE89 3704 0044 0532 0130 00"


def test_create_customer_numbers_it_and_normalizes_the_vat_id(clerk):
    customer = services.create_customer(
        actor=clerk, legal_name="Müller Maschinenbau GmbH", country="DE", tax_id="de 136 695 976"
    )

    assert customer.number.startswith("C")
    assert len(customer.number) == 7
    assert customer.tax_id == "DE136695976"
    assert customer.credit.credit_limit == Decimal("0")
    assert customer.preferences.invoice_delivery == "pdf_email"


@pytest.mark.parametrize(
    ("field", "value"),
    [("tax_id", "DE123"), ("country", "XX"), ("default_currency", "EUX"), ("legal_name", "")],
)
def test_invalid_customer_data_names_the_field_and_writes_nothing(clerk, field, value):
    data = {"legal_name": "Valid Name AG", "country": "DE", "tax_id": "", "default_currency": "EUR", field: value}

    with pytest.raises(InvalidInput) as error:
        services.create_customer(actor=clerk, **data)

    assert field in error.value.fields
    assert Customer.objects.count() == 0
    assert Events.objects.count() == 0


def test_invalid_contact_email_rolls_back_the_whole_customer(clerk):
    with pytest.raises(InvalidInput) as error:
        services.create_customer(
            actor=clerk,
            legal_name="Alpha AG",
            country="DE",
            contacts=[{"name": "Ann", "email": "not-an-email", "roles": ["billing"]}],
        )

    assert "email" in error.value.fields
    assert not Customer.objects.exists()
    assert not Contact.objects.exists()


def test_same_tax_id_or_near_identical_name_is_refused_unless_confirmed(clerk):
    original = services.create_customer(actor=clerk, legal_name="Müller GmbH", country="DE", tax_id="DE136695976")

    with pytest.raises(PossibleDuplicateCustomer) as by_name:
        services.create_customer(actor=clerk, legal_name="Mueller GmbH & Co. KG", country="DE")
    with pytest.raises(PossibleDuplicateCustomer) as by_tax_id:
        services.create_customer(actor=clerk, legal_name="Something Else Ltd", country="DE", tax_id="DE136695976")
    confirmed = services.create_customer(actor=clerk, legal_name="Mueller GmbH", country="DE", confirm_duplicate=True)

    assert by_name.value.duplicates == [original]
    assert by_tax_id.value.duplicates == [original]
    assert Customer.objects.count() == 2
    assert confirmed.pk != original.pk


def test_a_different_name_is_not_a_duplicate(clerk):
    services.create_customer(actor=clerk, legal_name="Müller GmbH", country="DE")

    services.create_customer(actor=clerk, legal_name="Schneider Logistik GmbH", country="DE")

    assert Customer.objects.count() == 2


def test_requester_cannot_approve_their_own_credit_limit_change(clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(
        customer=customer, actor=clerk, credit_limit="25000.005", reason="annual review"
    )

    with pytest.raises(SelfApprovalRefused):
        services.approve_change_request(change_request=request, actor=clerk)
    customer.credit.refresh_from_db()
    assert customer.credit.credit_limit == Decimal("0")

    services.approve_change_request(change_request=request, actor=approver, note="ok")
    customer.credit.refresh_from_db()
    request.refresh_from_db()
    assert customer.credit.credit_limit == Decimal("25000.01")
    assert request.status == ChangeRequestStatus.APPROVED
    assert request.decided_by == approver


def test_database_refuses_self_approval_even_past_the_service(clerk):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(customer=customer, actor=clerk, credit_limit="100", reason="r")

    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeRequest.objects.filter(pk=request.pk).update(
            status="approved", decided_by=clerk, decided_at=request.requested_at
        )


def test_a_decided_request_cannot_be_decided_again(clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_credit_limit_change(customer=customer, actor=clerk, credit_limit="100", reason="r")
    services.reject_change_request(change_request=request, actor=approver, note="no history yet")

    with pytest.raises(ChangeRequestNotPending):
        services.approve_change_request(change_request=request, actor=approver)
    customer.credit.refresh_from_db()
    assert customer.credit.credit_limit == Decimal("0")


def test_approved_bank_account_is_encrypted_at_rest_and_masked(clerk, approver):
    customer = CustomerFactory(actor=clerk)
    request = services.request_bank_account(
        customer=customer, actor=clerk, holder_name="Müller GmbH", iban=IBAN, bic="COBADEFFXXX", reason="new house bank"
    )
    assert not BankAccount.objects.exists()

    services.approve_change_request(change_request=request, actor=approver)

    account = BankAccount.objects.get()
    assert account.iban == "DE89370400440532013000"
    assert account.iban_masked == "DE89 •••• 3000"
    stored = BankAccount.objects.extra(select={"raw": "iban"}).values_list("raw", flat=True).get()
    assert "DE89370400440532013000" not in stored
    stored_proposal = ChangeRequest.objects.extra(select={"raw": "proposed_iban"}).values_list("raw", flat=True).get()
    assert "DE8937040044" not in stored_proposal


@pytest.mark.parametrize(
    ("field", "iban", "bic"), [("iban", "DE89 3704 0044 0532 0130 01", ""), ("bic", IBAN, "NOTABIC")]
)
def test_invalid_bank_details_are_refused_before_any_request_exists(clerk, field, iban, bic):
    customer = CustomerFactory(actor=clerk)

    with pytest.raises(InvalidInput) as error:
        services.request_bank_account(customer=customer, actor=clerk, holder_name="X", iban=iban, bic=bic, reason="r")

    assert field in error.value.fields
    assert not ChangeRequest.objects.exists()


def test_every_change_to_customer_data_is_audited_with_who_and_before_after(clerk):
    customer = CustomerFactory(actor=clerk, legal_name="Alpha Handel GmbH")

    services.update_customer(
        customer=customer, actor=clerk, data={"legal_name": "Alpha Großhandel GmbH", "payment_terms_days": 14}
    )

    event = Events.objects.tracks(customer).filter(pgh_label="update").get()
    assert event.pgh_diff["legal_name"] == ["Alpha Handel GmbH", "Alpha Großhandel GmbH"]
    assert event.pgh_diff["payment_terms_days"] == [30, 14]
    assert event.pgh_context["user"] == clerk.pk


def test_credit_hold_and_release(clerk):
    customer = CustomerFactory(actor=clerk)

    services.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")
    customer.refresh_from_db()
    assert customer.status == CustomerStatus.ON_HOLD
    assert customer.credit.hold_reason == "cheque bounced"
    assert customer.credit.hold_set_by == clerk

    services.release_credit_hold(customer=customer, actor=clerk, reason="paid in advance")
    customer.refresh_from_db()
    customer.credit.refresh_from_db()
    assert customer.status == CustomerStatus.ACTIVE
    assert customer.credit.hold_reason == ""


def test_only_one_default_address_per_kind(clerk):
    customer = CustomerFactory(actor=clerk)
    first = services.add_address(
        customer=customer,
        actor=clerk,
        data={"kind": "billing", "line1": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
    )
    second = services.add_address(
        customer=customer,
        actor=clerk,
        data={"kind": "billing", "line1": "Ring 2", "postal_code": "80331", "city": "München", "country": "DE"},
    )

    first.refresh_from_db()
    assert not first.is_default
    assert second.is_default


def test_a_small_typo_in_the_name_is_still_a_possible_duplicate(clerk):
    original = services.create_customer(actor=clerk, legal_name="Schneider Logistik GmbH", country="DE")

    with pytest.raises(PossibleDuplicateCustomer) as error:
        services.create_customer(actor=clerk, legal_name="Schneider Logstik GmbH", country="DE")
    with pytest.raises(PossibleDuplicateCustomer) as first_letters:
        services.create_customer(actor=clerk, legal_name="Shneider Logistik GmbH", country="DE")
    services.create_customer(actor=clerk, legal_name="Schneider Bau GmbH", country="DE")

    assert error.value.duplicates == first_letters.value.duplicates == [original]
    assert Customer.objects.count() == 2


def test_goods_go_to_the_default_shipping_country_else_the_customers_own(clerk):
    shipping = {"kind": "shipping", "line1": "1 rue X", "postal_code": "75001", "city": "Paris", "country": "FR"}
    abroad = CustomerFactory(actor=clerk, country="DE", addresses=[shipping])
    at_home = CustomerFactory(actor=clerk, country="AT")
    assert (shipping_country(abroad), shipping_country(at_home)) == ("FR", "AT")
