"""Peppol participant IDs on customers and on the company profile: EAS code list, look-up from the VAT
ID, identifier formats, and what an invoice says when it has none."""

import pytest
from django.db import IntegrityError, transaction

from customers import services
from customers.models import Customer
from otc.errors import InvalidInput
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/api/v1/customers/"


def peppol(customer: Customer) -> tuple[str, str]:
    customer.refresh_from_db()
    return customer.peppol_scheme, customer.peppol_id


@pytest.mark.parametrize(
    ("country", "tax_id", "scheme", "identifier", "expected"),
    [
        ("DE", "DE811128135", "9930", "", ("9930", "DE811128135")),
        ("BE", "BE0403170701", "0208", "", ("0208", "0403170701")),
        ("BE", "BE0403170701", "9925", "", ("9925", "BE0403170701")),
        ("DE", "", "0088", "4012345000009", ("0088", "4012345000009")),
        ("DE", "DE811128135", "", "", ("", "")),
    ],
)
def test_a_customer_peppol_id_is_kept_or_looked_up_from_the_vat_id(
    clerk, country, tax_id, scheme, identifier, expected
):
    customer = CustomerFactory(actor=clerk, country=country, tax_id=tax_id, peppol_scheme=scheme, peppol_id=identifier)

    assert peppol(customer) == expected


@pytest.mark.parametrize(
    ("tax_id", "scheme", "identifier", "message"),
    [
        ("", "EM", "ap@buyer.example", "EM is not on the Peppol EAS code list."),
        ("", "9930", "", "Give the identifier: scheme 9930 cannot be derived from the VAT ID (none)."),
        ("DE811128135", "0208", "", "Give the identifier: scheme 0208 cannot be derived from the VAT ID DE811128135."),
        ("", "0208", "0403170702", "0403170702 is not a Belgian enterprise number (ten digits with a mod-97 check)."),
        ("", "0088", "4012345000008", "4012345000008 is not a GLN (13 digits with a GS1 check digit)."),
        ("", "", "4012345000009", "'' is not on the Peppol EAS code list."),
    ],
)
def test_a_bad_peppol_id_is_refused_and_changes_nothing(clerk, tax_id, scheme, identifier, message):
    customer = CustomerFactory(actor=clerk, country="DE", tax_id=tax_id)

    with pytest.raises(InvalidInput) as refused:
        services.update_customer(
            customer=customer, actor=clerk, data={"peppol_scheme": scheme, "peppol_id": identifier}
        )

    assert refused.value.fields == {"peppol_id": [message]}
    assert peppol(customer) == ("", "")


def test_the_database_refuses_a_scheme_without_an_identifier(clerk):
    customer = CustomerFactory(actor=clerk)

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(peppol_scheme="9930")


def test_the_api_takes_and_shows_the_peppol_id(api_client_for):
    writer = api_client_for("customers:read", "customers:write")
    payload = {"legal_name": "Brabant Handel NV", "country": "BE", "tax_id": "BE0403170701", "peppol_scheme": "0208"}

    created = writer.post(CUSTOMERS, payload, format="json")
    refused = writer.patch(f"{CUSTOMERS}{created.json()['id']}/", {"peppol_scheme": "EM"}, format="json")

    assert created.status_code == 201, created.json()
    assert (created.json()["peppol_scheme"], created.json()["peppol_id"]) == ("0208", "0403170701")
    assert (refused.status_code, refused.json()["code"], list(refused.json()["errors"])) == (
        422,
        "invalid_input",
        ["peppol_id"],
    )
