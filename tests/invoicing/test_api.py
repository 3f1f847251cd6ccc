"""The invoicing API: lists at a constant query cost with their filters, the document with lines, VAT
breakdown, credit notes and shipments; manual invoices and credit notes that are idempotent, refuse bad
lines with nothing written and never credit more than was invoiced; scopes and staff permissions; open
items and the statement of account to the cent; the stored documents as downloads."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer
from invoicing import services
from invoicing.models import Invoice, InvoiceLine, InvoiceStatus, StoredDocument
from ledger.models import JournalEntry
from otc.models import IdempotencyRecord
from tests.factories import StaffFactory, manual_invoice

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
D = Decimal


@pytest.fixture
def reader(api_client_for) -> APIClient:
    return api_client_for("invoices:read")


@pytest.fixture
def partner(api_client_for) -> APIClient:
    """An accounting system: reads invoices, enters manual invoices and credit notes."""
    return api_client_for("invoices:read", "invoices:write")


def new_invoice(customer, /, **overrides) -> dict:
    return {
        "customer": customer.pk,
        "po_number": "PO-9",
        "lines": [
            {"description": "Installation", "quantity": "3", "unit_price": "33.33", "tax_rate": "19"},
            {"description": "Manual, printed", "quantity": "2", "unit_price": "12.50", "tax_rate": "7"},
        ],
        **overrides,
    }


def counts() -> tuple[int, int, int]:
    return Invoice.objects.count(), InvoiceLine.objects.count(), JournalEntry.objects.count()


# -- reading --------------------------------------------------------------------------------------------


def test_the_invoice_list_costs_the_same_queries_for_2_or_12_invoices(reader, clerk, customer):
    for _ in range(2):
        manual_invoice(customer, clerk, ("1", "10", "19"))
    reader.get(INVOICES)  # warm caches

    with CaptureQueriesContext(connection) as two:
        response = reader.get(INVOICES)
    assert len(response.json()["results"]) == 2
    for _ in range(10):
        manual_invoice(customer, clerk, ("1", "10", "19"))
    with CaptureQueriesContext(connection) as twelve:
        response = reader.get(INVOICES)

    assert len(response.json()["results"]) == 12
    assert len(twelve) == len(two)
    assert not any("COUNT(" in query["sql"] for query in twelve.captured_queries)


def test_the_list_filters_by_status_kind_open_overdue_and_issue_date(reader, clerk, customer):
    today = timezone.localdate()
    old = manual_invoice(customer, clerk, ("1", "100", "19"), issue_date=today - timedelta(days=60))
    recent = manual_invoice(customer, clerk, ("1", "50", "19"))
    draft = manual_invoice(customer, clerk, ("1", "10", "19"), issue=False)
    note = services.issue_credit_note(invoice=recent, actor=clerk, reason="goodwill")

    def numbers(**params) -> set[str]:
        response = reader.get(INVOICES, params)
        assert response.status_code == 200, response.json()
        return {item["number"] or f"draft {item['id']}" for item in response.json()["results"]}

    assert numbers(status="draft") == {f"draft {draft.pk}"}
    assert numbers(kind="credit_note") == {note.number}
    assert numbers(overdue="true") == {old.number}
    assert numbers(open="true") == {old.number}  # the credit note settled the recent invoice entirely
    assert numbers(issued_before=str(today - timedelta(days=1))) == {old.number}
    assert numbers(issued_after=str(today), kind="invoice") == {recent.number}
    assert numbers(customer=customer.pk, search=old.number) == {old.number}
    assert reader.get(INVOICES, {"issued_after": "someday"}).status_code == 422


def test_an_invoice_reads_with_lines_vat_breakdown_credit_notes_and_shipments(reader, clerk, customer, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)
    widget_line = invoice.lines.get(line_no=1)
    note = services.issue_credit_note(
        invoice=invoice, actor=clerk, reason="2 scratched", lines=[services.CreditLine(widget_line, quantity=D("2"))]
    )

    body = reader.get(f"{INVOICES}{invoice.pk}/").json()

    assert (body["number"], body["kind"], body["status"], body["po_number"]) == (
        invoice.number,
        "invoice",
        "issued",
        "PO-4711",
    )
    assert body["customer"] == {"id": customer.pk, "number": customer.number, "legal_name": "Nordwind Handel GmbH"}
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == ("159.32", "23.21", "182.53")
    # 2 × 9.00 × 0.931 = 16.758 -> 16.76, + 19 % = 3.18 (3.1844): 19.94 credited and settled
    assert (body["credited_amount"], body["open_amount"]) == ("19.94", "162.59")
    assert [(line["line_no"], line["product"], line["quantity"], line["net_amount"]) for line in body["lines"]] == [
        (1, "WIDGET", "12.000", "100.55"),
        (2, "MANUAL", "3.000", "58.77"),
    ]
    assert [(row["tax_rate"], row["taxable_amount"], row["tax_amount"]) for row in body["tax_breakdown"]] == [
        ("19.00", "100.55", "19.10"),
        ("7.00", "58.77", "4.11"),
    ]
    assert [(ref["number"], ref["kind"], ref["gross_total"]) for ref in body["credit_notes"]] == [
        (note.number, "credit_note", "19.94")
    ]
    assert [item["number"] for item in body["shipments"]] == [shipment.number]
    assert body["shipping_address"]["city"] == "Hamburg"
    assert body["links"]["pdf"] == f"http://testserver{INVOICES}{invoice.pk}/pdf/"
    assert reader.get(f"{INVOICES}{note.pk}/").json()["credited_invoice"] == invoice.number
    missing = reader.get(f"{INVOICES}999999/")
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")


# -- manual invoices --------------------------------------------------------------------------------------


def test_a_manual_invoice_is_issued_and_a_replay_returns_it_without_a_second(partner, customer):
    first = partner.post(INVOICES, new_invoice(customer), HTTP_IDEMPOTENCY_KEY="erp-4711")
    replay = partner.post(INVOICES, new_invoice(customer), HTTP_IDEMPOTENCY_KEY="erp-4711")

    assert first.status_code == replay.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    invoice = Invoice.objects.get()
    body = first.json()
    assert (body["id"], body["number"], body["status"]) == (invoice.pk, invoice.number, "issued")
    # 3 × 33.33 = 99.99 + 19 % 19.00 ; 2 × 12.50 = 25.00 + 7 % 1.75
    assert (body["net_total"], body["tax_total"], body["gross_total"], body["open_amount"]) == (
        "124.99",
        "20.75",
        "145.74",
        "145.74",
    )
    assert [(row["tax_category"], row["tax_amount"]) for row in body["tax_breakdown"]] == [
        ("S", "19.00"),
        ("S", "1.75"),
    ]
    assert invoice.created_by_id == partner.api_key.user_id
    assert JournalEntry.objects.filter(item__document_id=invoice.pk).count() == 1
    assert IdempotencyRecord.objects.get().response_status == 201


def test_a_manual_invoice_can_stay_a_draft(partner, customer):
    response = partner.post(INVOICES, new_invoice(customer, issue=False, notes="check with sales"))

    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["number"], response.json()["notes"]) == (
        "draft",
        None,
        "check with sales",
    )
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": "-1"}, "quantity"),
        ({"tax_category": "XX"}, "tax_category"),
        ({"product": "NO-SUCH-SKU"}, "product"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_line_is_a_422_naming_it_and_writes_nothing(partner, customer, line, field):
    body = new_invoice(customer)
    body["lines"][1] |= line

    response = partner.post(INVOICES, body)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_input"
    line_errors = response.json()["errors"]["lines"]
    assert field in (line_errors[1] if isinstance(line_errors, list) else line_errors["1"])
    assert counts() == (0, 0, 0)


def test_a_rule_the_service_enforces_is_a_422_and_writes_nothing(partner, customer):
    body = new_invoice(customer)
    body["lines"][0] |= {"tax_category": "S", "tax_rate": "0"}

    response = partner.post(INVOICES, body)

    assert response.status_code == 422
    assert response.json()["errors"] == {"tax_rate": ["Above 0."]}
    assert counts() == (0, 0, 0)


def test_a_read_only_key_cannot_enter_invoices_or_credit_notes(reader, clerk, customer):
    invoice = manual_invoice(customer, clerk, ("1", "10", "19"))

    refused = [
        reader.post(INVOICES, new_invoice(customer)),
        reader.post(f"{INVOICES}{invoice.pk}/credit-notes/", {"reason": "no"}),
    ]

    assert [response.status_code for response in refused] == [403, 403]
    assert refused[0].json()["code"] == "permission_denied"
    assert "invoices:write" in refused[0].json()["detail"]
    assert Invoice.objects.count() == 1


def test_staff_sessions_need_the_permission_to_issue(clerk, customer):
    seller = StaffFactory(email="sam@otc.test", groups=["sales"])
    sales, finance = APIClient(), APIClient()
    sales.force_login(seller)
    finance.force_login(clerk)

    assert sales.get(INVOICES).status_code == 200
    assert sales.post(INVOICES, new_invoice(customer)).status_code == 403
    assert not Invoice.objects.exists()
    assert finance.post(INVOICES, new_invoice(customer)).status_code == 201


# -- credit notes -----------------------------------------------------------------------------------------


def test_a_full_credit_note_credits_the_invoice_and_a_replay_adds_none(partner, clerk, customer):
    invoice = manual_invoice(customer, clerk, ("2", "50", "19"))
    url = f"{INVOICES}{invoice.pk}/credit-notes/"

    first = partner.post(url, {"reason": "cancelled contract"}, HTTP_IDEMPOTENCY_KEY="cn-1")
    replay = partner.post(url, {"reason": "cancelled contract"}, HTTP_IDEMPOTENCY_KEY="cn-1")

    assert first.status_code == replay.status_code == 201, first.json()
    assert replay.json() == first.json()
    body = first.json()
    assert (body["kind"], body["status"], body["gross_total"], body["reason"]) == (
        "credit_note",
        "settled",
        "119.00",
        "cancelled contract",
    )
    assert body["credited_invoice"] == invoice.number
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.CREDITED, D("0"))
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_a_partial_credit_note_by_quantity_and_by_amount(partner, clerk, customer):
    invoice = manual_invoice(customer, clerk, ("4", "25", "19"), ("1", "80", "7"))

    response = partner.post(
        f"{INVOICES}{invoice.pk}/credit-notes/",
        {
            "reason": "one returned, discount",
            "lines": [{"invoice_line": 1, "quantity": "1"}, {"invoice_line": 2, "amount": "10"}],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(line["description"], line["quantity"], line["net_amount"]) for line in body["lines"]] == [
        ("Service 1", "1.000", "25.00"),
        ("Price reduction: Service 2", "1.000", "10.00"),
    ]
    # 25.00 + 19 % 4.75 ; 10.00 + 7 % 0.70
    assert (body["net_total"], body["tax_total"], body["gross_total"]) == ("35.00", "5.45", "40.45")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.ISSUED, D("164.15"))


def test_crediting_more_than_is_left_is_a_422_over_credit_and_writes_nothing(partner, clerk, customer):
    invoice = manual_invoice(customer, clerk, ("2", "50", "19"))
    url = f"{INVOICES}{invoice.pk}/credit-notes/"
    assert partner.post(url, {"reason": "one back", "lines": [{"invoice_line": 1, "quantity": "1"}]}).status_code == 201

    too_much = partner.post(url, {"reason": "two back", "lines": [{"invoice_line": 1, "quantity": "2"}]})
    unknown_line = partner.post(url, {"reason": "?", "lines": [{"invoice_line": 7, "quantity": "1"}]})
    both = partner.post(url, {"reason": "?", "lines": [{"invoice_line": 1, "quantity": "1", "amount": "5"}]})

    assert (too_much.status_code, too_much.json()["code"]) == (422, "over_credit")
    assert (unknown_line.status_code, both.status_code) == (422, 422)
    assert "invoice_line" in unknown_line.json()["errors"]["lines"]["0"]
    assert Invoice.objects.filter(kind="credit_note").count() == 1


def test_a_draft_cannot_be_credited(partner, clerk, customer):
    draft = manual_invoice(customer, clerk, ("1", "10", "19"), issue=False)

    response = partner.post(f"{INVOICES}{draft.pk}/credit-notes/", {"reason": "oops"})

    assert (response.status_code, response.json()["code"]) == (409, "not_creditable")


# -- the customer's account -------------------------------------------------------------------------------


def test_open_items_are_what_the_customer_owes_and_has_in_credit(reader, clerk, customer):
    paid_by_credit = manual_invoice(customer, clerk, ("1", "100", "19"))
    services.issue_credit_note(invoice=paid_by_credit, actor=clerk, reason="returned")
    owed = manual_invoice(customer, clerk, ("3", "10", "19"))

    response = reader.get(f"/api/v1/customers/{customer.pk}/open-items/")

    assert response.status_code == 200
    assert [(item["number"], item["kind"], item["open_amount"]) for item in response.json()] == [
        (owed.number, "invoice", "35.70")
    ]
    assert reader.get("/api/v1/customers/999999/open-items/").status_code == 404


def test_the_statement_gives_opening_movements_closing_and_aging_to_the_cent(reader, clerk, customer):
    today = timezone.localdate()
    before = manual_invoice(customer, clerk, ("1", "100", "19"), issue_date=today - timedelta(days=45))
    during = manual_invoice(customer, clerk, ("3", "33.33", "19"), issue_date=today - timedelta(days=5))
    note = services.issue_credit_note(
        invoice=during, actor=clerk, reason="one back", lines=[services.CreditLine(during.lines.get(), quantity=D("1"))]
    )
    start = today - timedelta(days=10)

    response = reader.get(f"/api/v1/customers/{customer.pk}/statement/", {"start": str(start), "end": str(today)})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["customer"]["id"], body["start"], body["end"]) == (customer.pk, str(start), str(today))
    (account,) = body["accounts"]
    # 99.99 + 19.00 = 118.99 invoiced; 33.33 + 6.33 = 39.66 credited
    assert account["currency"] == "EUR"
    assert (account["opening_balance"], account["total_debit"], account["total_credit"]) == (
        "119.00",
        "118.99",
        "39.66",
    )
    assert account["closing_balance"] == "198.33"
    assert [(row["document"], row["debit"], row["credit"], row["balance"]) for row in account["movements"]] == [
        (during.number, "118.99", "0.00", "237.99"),
        (note.number, "0.00", "39.66", "198.33"),
    ]
    assert before.number not in {row["document"] for row in account["movements"]}
    aging = account["aging"]
    assert (aging["days_1_30"], aging["not_due"], aging["total"]) == ("119.00", "79.33", "198.33")


def test_a_statement_needs_a_valid_period(reader, customer):
    url = f"/api/v1/customers/{customer.pk}/statement/"

    assert reader.get(url).status_code == 422
    reversed_period = reader.get(url, {"start": "2025-02-01", "end": "2025-01-01"})
    assert (reversed_period.status_code, list(reversed_period.json()["errors"])) == (422, ["end"])


# -- documents ------------------------------------------------------------------------------------------


def test_an_issued_invoice_downloads_as_pdf_ubl_and_facturx_stored_once(reader, clerk, customer, company):
    Customer.objects.filter(pk=customer.pk).update(peppol_scheme="0088", peppol_id="4012345000009")
    invoice = manual_invoice(customer, clerk, ("1", "100", "19"))

    pdf = reader.get(f"{INVOICES}{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    again = reader.get(f"{INVOICES}{invoice.pk}/pdf/")
    ubl = reader.get(f"{INVOICES}{invoice.pk}/ubl/")
    facturx = reader.get(f"{INVOICES}{invoice.pk}/facturx/")

    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert f'filename="{invoice.number}.pdf"' in pdf["Content-Disposition"]
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert b"".join(again.streaming_content).startswith(b"%PDF")
    assert (ubl.status_code, ubl["Content-Type"]) == (200, "application/xml")
    assert invoice.number.encode() in b"".join(ubl.streaming_content)
    assert (facturx.status_code, facturx["Content-Type"]) == (200, "application/pdf")
    assert StoredDocument.objects.filter(invoice=invoice).count() == 3


def test_an_e_invoice_that_breaks_the_peppol_rules_is_a_409_listing_the_rules(reader, clerk, customer, company):
    invoice = manual_invoice(customer, clerk, ("1", "100", "19"))  # the buyer has neither VAT ID nor Peppol ID

    response = reader.get(f"{INVOICES}{invoice.pk}/ubl/")

    body = response.json()
    assert (response.status_code, body["code"]) == (409, "einvoice_invalid")
    assert body["errors"]["rules"] == ["[PEPPOL-EN16931-R010] Buyer electronic address MUST be provided"]
    assert "PEPPOL-EN16931-R010" in body["detail"]
    assert not StoredDocument.objects.filter(invoice=invoice).exists()


def test_a_draft_has_no_document_yet(reader, clerk, customer, company):
    draft = manual_invoice(customer, clerk, ("1", "100", "19"), issue=False)

    response = reader.get(f"{INVOICES}{draft.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "document_not_issued"
    assert not StoredDocument.objects.exists()


def test_the_statement_downloads_as_pdf(reader, clerk, customer, company):
    manual_invoice(customer, clerk, ("1", "100", "19"))
    today = timezone.localdate()

    response = reader.get(
        f"/api/v1/customers/{customer.pk}/statement/",
        {"start": str(today.replace(day=1)), "end": str(today), "format": "pdf"},
    )

    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
