"""Bank statements and the reconciliation queue in the admin: uploading a statement imports and
reconciles it, the queue lists what waits at a constant query cost, and a clerk accepts a proposal,
splits a line by hand, ignores one (with a reason) or undoes what was applied; a file is imported once."""

from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from invoicing.models import InvoiceStatus
from payments.cash_application import matching
from payments.models import BankStatement, BankStatementLine, Payment, StatementLineStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_accounts")]

STATEMENTS = "/admin/payments/bankstatement/"
LINES = "/admin/payments/bankstatementline/"
ACCOUNT = "DE89370400440532013000"
HEADER = "Date,Amount,Currency,Counterparty,Counterparty IBAN,Remittance,Reference"
D = Decimal


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def csv_file(*rows: tuple[str, str, str]) -> bytes:
    """A statement in the "generic" layout, booked today: rows of (amount, payer, remittance)."""
    today = f"{timezone.localdate():%Y-%m-%d}"
    lines = [HEADER, *(f'{today},{amount},EUR,"{payer}",,"{text}",' for amount, payer, text in rows)]
    return ("\n".join(lines) + "\n").encode()


def upload(client: Client, content: bytes, *, statement_id: str = "", name: str = "statement.csv", follow=True):
    form = {
        "file": SimpleUploadedFile(name, content, content_type="text/csv"),
        "format": "csv",
        "csv_layout": "generic",
        "csv_account_iban": ACCOUNT,
        "csv_statement_id": statement_id,
    }
    return client.post(f"{STATEMENTS}add/", form, follow=follow)


def waiting(client: Client, *rows, statement_id: str) -> BankStatementLine:
    """Upload a statement whose lines all wait for a clerk; return its first line."""
    upload(client, csv_file(*rows), statement_id=statement_id)
    line = BankStatementLine.objects.filter(statement__statement_id=statement_id).order_by("line_no").first()
    assert line.status == StatementLineStatus.UNMATCHED
    return line


def test_an_upload_in_the_admin_runs_the_matching_engine_once(clerk, invoices):
    content = csv_file(
        ("119.00", "Nordwind Handel GmbH", f"Payment {invoices[0].number}"),
        ("42.00", "Erika Mustermann", "Geburtstag"),
    )

    with mock.patch.object(matching, "_propose_batch", wraps=matching._propose_batch) as engine:
        response = upload(signed_in(clerk), content, statement_id="ONCE", follow=False)

    assert response.status_code == 302
    assert engine.call_count == 1
    assert list(BankStatementLine.objects.order_by("line_no").values_list("status", flat=True)) == [
        "applied",
        "unmatched",
    ]


def test_an_uploaded_statement_is_imported_and_reconciled(clerk, invoices):
    client = signed_in(clerk)
    content = csv_file(
        ("119.00", "Nordwind Handel GmbH", f"Payment {invoices[0].number} thank you"),
        ("42.00", "Erika Mustermann", "Geburtstag"),
    )

    page = client.get(f"{STATEMENTS}add/").content.decode()
    response = upload(client, content, statement_id="UP-1")

    assert 'enctype="multipart/form-data"' in page
    assert "autofocus" in page
    statement = BankStatement.objects.get()
    assert any("1 applied automatically, 1 waiting, 0 set aside" in text for text in messages_of(response))
    invoices[0].refresh_from_db()
    assert invoices[0].status == InvoiceStatus.PAID
    assert sorted(statement.lines.values_list("line_no", "status")) == [(1, "applied"), (2, "unmatched")]
    detail = client.get(f"{STATEMENTS}{statement.pk}/change/").content.decode()
    assert "Erika Mustermann" in detail
    assert statement.lines.get(line_no=1).payment.number in detail
    listing = client.get(STATEMENTS).content.decode()
    assert "UP-1" in listing
    applied = statement.lines.get(line_no=1)
    line_page = client.get(f"{LINES}{applied.pk}/change/").content.decode()
    assert f"Automatically, with {round(applied.match_confidence * 100)} % confidence" in line_page
    assert f"invoice number {invoices[0].number} in remittance text<br>amount equal to open amount" in line_page


def test_the_same_file_twice_is_refused_and_writes_nothing(clerk, invoices):
    client = signed_in(clerk)
    content = csv_file(("42.00", "Erika Mustermann", "Geburtstag"))
    upload(client, content, statement_id="UP-2")

    response = upload(client, content, statement_id="UP-2", follow=False)

    assert response.status_code == 200
    assert "imported already" in response.content.decode()
    assert BankStatement.objects.count() == 1
    assert BankStatementLine.objects.count() == 1


def test_a_malformed_file_is_a_form_error(clerk):
    response = upload(signed_in(clerk), b"Date,Amount\n2026-01-01,x\n", statement_id="BAD", follow=False)

    assert response.status_code == 200
    assert "line 1" in response.content.decode()
    assert not BankStatement.objects.exists()


def test_the_queue_lists_waiting_lines_at_a_constant_query_cost_without_counting(clerk):
    client = signed_in(clerk)
    waiting(client, *[("12.34", f"Payer {n}", f"gift {n}") for n in range(2)], statement_id="Q-1")
    client.get(LINES)  # warm caches

    with CaptureQueriesContext(connection) as two:
        response = client.get(LINES)
    assert response.status_code == 200
    waiting(client, *[("12.34", f"Other payer {n}", f"present {n}") for n in range(8)], statement_id="Q-2")
    with CaptureQueriesContext(connection) as ten:
        response = client.get(LINES)

    page = response.content.decode()
    assert "Other payer 7" in page
    assert page.count("12.34 EUR") >= 10
    assert len(ten) == len(two)
    counts = [query["sql"] for query in ten.captured_queries if "COUNT(" in query["sql"].upper()]
    assert not [sql for sql in counts if "payments_bankstatementline" in sql]


def test_applied_lines_leave_the_queue(clerk, invoices):
    client = signed_in(clerk)
    upload(client, csv_file(("119.00", "Nordwind Handel GmbH", f"Payment {invoices[0].number}")), statement_id="Q-3")

    assert "Nordwind Handel GmbH" not in client.get(LINES).content.decode()
    assert "Nordwind Handel GmbH" in client.get(LINES, {"status": "applied"}).content.decode()


def test_accepting_the_proposal_of_payer_and_amount_pays_the_invoice(clerk, invoices):
    client = signed_in(clerk)
    line = waiting(client, ("238.00", "Nordwind Handel GmbH", "november"), statement_id="A-1")
    url = f"{LINES}{line.pk}/change/"

    page = client.get(url)
    (best, *_) = page.context["proposals"]
    html = page.content.decode()
    assert 'id="queue-keys"' in html  # the keys themselves: tests/e2e/test_clerk_journey.py
    assert f"{best['confidence']}%" in html
    assert invoices[1].number in html
    assert best["reasons"]
    assert best["reasons"][0] in html

    stale = client.post(f"{LINES}{line.pk}/accept/", {"rank": "0", "key": "0:1:2:False"}, follow=True)
    assert any("changed" in text for text in messages_of(stale))
    assert not Payment.objects.exists()

    client.post(f"{LINES}{line.pk}/accept/", {"rank": "0", "key": best["key"]})

    line.refresh_from_db()
    invoices[1].refresh_from_db()
    assert (line.status, invoices[1].status, line.payment.amount) == ("applied", InvoiceStatus.PAID, D("238.00"))

    again = client.post(f"{LINES}{line.pk}/accept/", {"rank": "0", "key": best["key"]}, follow=True)
    assert again.status_code == 200
    assert Payment.objects.count() == 1


def test_a_line_is_split_by_ticking_the_customers_open_invoices_and_undone(clerk, buyer, invoices):
    first, second = invoices
    client = signed_in(clerk)
    line = waiting(client, ("100.00", "N. Handel", "on account"), statement_id="H-1")
    url = f"{LINES}{line.pk}/apply/"

    chooser = client.get(url)
    assert chooser.context["form"].invoices == []  # no proposal: whose money is it?
    shown = client.post(url, {"customer": buyer.pk})
    form = shown.context["form"]
    assert [invoice.number for invoice in form.invoices] == [first.number, second.number]  # oldest due first
    assert form.fields[f"take_{first.pk}"].label == f"{first.number} · due {first.due_date:%Y-%m-%d} · 119.00 EUR open"
    assert form.fields[f"amount_{second.pk}"].initial == D("238.00")
    assert not Payment.objects.exists()

    ticked = {
        "customer": buyer.pk,
        "shown_for": buyer.pk,
        f"amount_{first.pk}": "60.00",
        f"amount_{second.pk}": "40.00",
    }
    no_amount = client.post(url, {**ticked, f"take_{first.pk}": "on", f"amount_{first.pk}": ""})
    assert "Enter an amount (or tick the write-off)." in no_amount.content.decode()
    assert not Payment.objects.exists()

    client.post(url, {**ticked, f"take_{first.pk}": "on", f"take_{second.pk}": "on"})

    line.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (line.status, first.open_amount, second.open_amount) == ("applied", D("59.00"), D("198.00"))

    client.post(f"{LINES}{line.pk}/undo/", {"reason": "wrong customer"})

    first.refresh_from_db()
    line.payment.refresh_from_db()
    assert (first.open_amount, line.payment.unallocated_amount) == (D("119.00"), D("100.00"))


def test_an_invoice_number_typed_in_find_brings_up_its_customer_with_it_ticked(clerk, buyer, invoices):
    client = signed_in(clerk)
    line = waiting(client, ("238.00", "Someone Else", "misc"), statement_id="F-1")
    url = f"{LINES}{line.pk}/apply/"
    sequence = invoices[1].number.rsplit("-", 1)[1].lstrip("0")

    found = client.post(url, {"find": sequence})

    form = found.context["form"]
    assert form.customer == buyer
    assert form.fields[f"take_{invoices[1].pk}"].initial is True
    assert form.fields[f"take_{invoices[0].pk}"].initial is False
    unknown = client.post(url, {"find": "INV-1999-999999"})
    assert any("No open EUR invoice numbered INV-1999-999999" in text for text in messages_of(unknown))
    assert not Payment.objects.exists()


def test_the_best_proposals_customer_and_invoices_come_ticked(clerk, buyer, invoices):
    client = signed_in(clerk)
    line = waiting(client, ("119.00", "Nordwind Handel GmbH", "thanks"), statement_id="P-1")

    form = client.get(f"{LINES}{line.pk}/apply/").context["form"]

    assert form.customer == buyer
    assert [name for name, field in form.fields.items() if name.startswith("take_") and field.initial] == [
        f"take_{invoices[0].pk}"
    ]


def test_ignoring_a_line_needs_a_reason(clerk):
    client = signed_in(clerk)
    line = waiting(client, ("5.00", "Own account", "transfer"), statement_id="I-1")
    url = f"{LINES}{line.pk}/ignore/"

    assert client.post(url, {"reason": ""}).status_code == 200
    line.refresh_from_db()
    assert line.status == StatementLineStatus.UNMATCHED

    client.post(url, {"reason": "transfer between own accounts"})

    line.refresh_from_db()
    assert line.status == StatementLineStatus.IGNORED
