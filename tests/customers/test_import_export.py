"""Customer import and export (CSV and XLSX): export writes the master data; import creates every row
through create_customer in one transaction, and a file with any bad row writes nothing and reports
each bad row by number, column and message."""

import csv
import io

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pghistory.models import Events

from customers import services
from customers.models import Customer
from customers.resources import CustomerResource
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/customers/customer/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"  # positions in CustomerAdmin.import_formats / export_formats
HEADERS = ["legal_name", "trading_name", "country", "tax_id", "default_currency", "language", "payment_terms_days"]
GOOD_ROWS = [
    ["Nordlicht Maschinenbau GmbH", "Nordlicht", "DE", "DE 136 695 976", "EUR", "de", "14"],
    ["Dupont Logistique SARL", "", "FR", "", "EUR", "fr", "30"],
    ["Albion Trading Ltd", "Albion", "GB", "", "GBP", "en", "45"],
]
BAD_VAT_IN_ROW_3 = [*GOOD_ROWS[:2], ["Rossi Alimentari S.p.A.", "", "IT", "IT123", "EUR", "en", "30"]]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_file(headers, rows, name="customers.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def xlsx_file(headers, rows, name="customers.xlsx") -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/vnd.ms-excel")


def import_through_admin(client: Client, upload: SimpleUploadedFile, file_format: str):
    """Upload (the dry run with its preview, which writes nothing), then confirm if the preview allowed it."""
    preview = client.post(f"{CUSTOMERS}import/", {"import_file": upload, "format": file_format, "resource": "0"})
    assert preview.status_code == 200
    assert not Customer.objects.filter(legal_name__in=[row[0] for row in GOOD_ROWS]).exists()
    confirm_form = preview.context.get("confirm_form")
    if confirm_form is None:
        return preview, None
    confirmed = client.post(f"{CUSTOMERS}process_import/", confirm_form.initial)
    return preview, confirmed


def test_a_good_csv_file_creates_every_customer_through_the_service(clerk, sales_rep):
    rows = [[*row, sales_rep.email if index == 0 else ""] for index, row in enumerate(GOOD_ROWS)]
    client = signed_in(clerk)

    _, confirmed = import_through_admin(client, csv_file([*HEADERS, "sales_rep_email"], rows), CSV_FORMAT)

    assert confirmed.status_code == 302
    customers = {c.legal_name: c for c in Customer.objects.select_related("credit", "preferences")}
    assert set(customers) == {row[0] for row in GOOD_ROWS}
    nordlicht = customers["Nordlicht Maschinenbau GmbH"]
    assert nordlicht.number.startswith("C")
    assert nordlicht.trading_name == "Nordlicht"
    assert nordlicht.tax_id == "DE136695976"  # normalized by the service
    assert (nordlicht.language, nordlicht.payment_terms_days, nordlicht.sales_rep) == ("de", 14, sales_rep)
    albion = customers["Albion Trading Ltd"]
    assert (albion.country, albion.default_currency, albion.payment_terms_days) == ("GB", "GBP", 45)
    assert albion.sales_rep is None
    assert albion.credit.credit_currency == "GBP"  # made by create_customer, with preferences
    for customer in customers.values():
        created = Events.objects.tracks(customer).get(pgh_label="insert")
        assert created.pgh_context["user"] == clerk.pk


def test_a_good_xlsx_file_imports_too(clerk):
    _, confirmed = import_through_admin(signed_in(clerk), xlsx_file(HEADERS, GOOD_ROWS), XLSX_FORMAT)

    assert confirmed.status_code == 302
    assert Customer.objects.count() == 3
    assert Customer.objects.get(legal_name="Dupont Logistique SARL").payment_terms_days == 30


def test_a_file_with_a_bad_vat_id_in_row_3_writes_nothing_and_reports_row_3(clerk):
    preview, confirmed = import_through_admin(signed_in(clerk), csv_file(HEADERS, BAD_VAT_IN_ROW_3), CSV_FORMAT)

    assert confirmed is None  # no confirm button: the whole file is rejected
    result = preview.context["result"]
    assert [row.number for row in result.invalid_rows] == [3]
    assert list(result.invalid_rows[0].field_specific_errors) == ["tax_id"]
    page = preview.content.decode()
    assert "IT123 is not a valid tax ID for IT" in page
    assert not Customer.objects.exists()
    assert not Events.objects.exists()


def test_the_resource_itself_rejects_the_whole_file_even_without_a_dry_run(clerk):
    dataset = tablib.Dataset(*BAD_VAT_IN_ROW_3, headers=HEADERS)

    result = CustomerResource().import_data(dataset, dry_run=False, user=clerk)

    assert result.has_validation_errors()
    assert [(row.number, list(row.field_specific_errors)) for row in result.invalid_rows] == [(3, ["tax_id"])]
    assert not Customer.objects.exists()


def test_every_bad_row_is_reported_with_its_column(clerk):
    rows = [
        ["Good Company GmbH", "", "DE", "", "EUR", "de", "30"],
        ["No Country Ltd", "", "", "", "EUR", "en", "30"],
        ["Bad Terms AG", "", "DE", "", "EUR", "de", "soon"],
        ["Bad Currency SA", "", "FR", "", "EUX", "fr", "30"],
    ]
    dataset = tablib.Dataset(*rows, headers=HEADERS)

    result = CustomerResource().import_data(dataset, dry_run=False, user=clerk)

    reported = {row.number: set(row.field_specific_errors) for row in result.invalid_rows}
    assert reported == {2: {"country"}, 3: {"payment_terms_days"}, 4: {"default_currency"}}
    assert not Customer.objects.exists()


def test_an_unknown_sales_rep_is_reported_on_its_column(clerk):
    dataset = tablib.Dataset(
        ["Solo GmbH", "", "DE", "", "EUR", "de", "30", "nobody@otc.test"], headers=[*HEADERS, "sales_rep_email"]
    )

    result = CustomerResource().import_data(dataset, dry_run=False, user=clerk)

    (row,) = result.invalid_rows
    assert row.field_specific_errors == {"sales_rep_email": ["No active staff user has the email nobody@otc.test."]}
    assert not Customer.objects.exists()


def test_the_duplicate_guard_applies_to_imports_unless_a_row_confirms(clerk):
    CustomerFactory(actor=clerk, legal_name="Nordlicht Maschinenbau GmbH", tax_id="DE136695976")
    headers = [*HEADERS, "confirm_duplicate"]

    refused = CustomerResource().import_data(tablib.Dataset([*GOOD_ROWS[0], ""], headers=headers), user=clerk)
    confirmed = CustomerResource().import_data(tablib.Dataset([*GOOD_ROWS[0], "yes"], headers=headers), user=clerk)

    assert [set(row.field_specific_errors) for row in refused.invalid_rows] == [{"confirm_duplicate"}]
    assert not confirmed.has_validation_errors()
    assert Customer.objects.filter(tax_id="DE136695976").count() == 2


def test_export_csv_has_the_master_data_columns(clerk, sales_rep):
    held = CustomerFactory(
        actor=clerk, legal_name="Export Eins GmbH", trading_name="Eins", tax_id="DE136695976", sales_rep=sales_rep
    )
    services.place_credit_hold(customer=held, actor=clerk, reason="Overdue")
    CustomerFactory(actor=clerk, legal_name="Export Zwei SARL", country="FR", default_currency="EUR")

    response = signed_in(clerk).post(f"{CUSTOMERS}export/", {"format": CSV_FORMAT, "resource": "0"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "number",
        "legal_name",
        "trading_name",
        "country",
        "tax_id",
        "default_currency",
        "language",
        "payment_terms_days",
        "sales_rep_email",
        "status",
    ]
    first = next(row for row in rows if row["number"] == held.number)
    assert first == {
        "number": held.number,
        "legal_name": "Export Eins GmbH",
        "trading_name": "Eins",
        "country": "DE",
        "tax_id": "DE136695976",
        "default_currency": "EUR",
        "language": "en",
        "payment_terms_days": "30",
        "sales_rep_email": "rita@otc.test",
        "status": "on_hold",
    }
    assert len(rows) == 2


def test_export_xlsx_respects_the_list_filters(clerk):
    CustomerFactory(actor=clerk, legal_name="Deutsch GmbH", country="DE")
    CustomerFactory(actor=clerk, legal_name="Française SARL", country="FR")

    response = signed_in(clerk).post(f"{CUSTOMERS}export/?country__exact=FR", {"format": XLSX_FORMAT, "resource": "0"})

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("number", "legal_name", "trading_name")
    assert [row[1] for row in values[1:]] == ["Française SARL"]


def test_an_exported_file_imports_back_with_duplicates_confirmed(clerk):
    CustomerFactory(actor=clerk, legal_name="Roundtrip GmbH", country="AT", default_currency="EUR")
    client = signed_in(clerk)
    exported = client.post(f"{CUSTOMERS}export/", {"format": CSV_FORMAT, "resource": "0"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    rows[0].append("confirm_duplicate")
    for row in rows[1:]:
        row.append("yes")

    _, confirmed = import_through_admin(client, csv_file(rows[0], rows[1:]), CSV_FORMAT)

    assert confirmed.status_code == 302
    numbers = sorted(Customer.objects.filter(legal_name="Roundtrip GmbH").values_list("number", flat=True))
    assert len(numbers) == 2  # a new customer with a new number; the number column is export only
