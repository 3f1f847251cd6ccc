"""The reconciliation API: a statement upload imports and reconciles at once, is refused a second time and
names the line of a malformed file; the clerk's queue lists each line's ranked proposals at a constant
query cost; a proposal is accepted by rank once, a line is ignored only with a reason; promises to pay;
the payment scopes (which open disputes too)."""

import re
from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from invoicing.models import InvoiceStatus
from payments.cash_application import matching
from payments.models import BankStatement, Payment, PromiseToPay, StatementLineStatus
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_accounts")]

STATEMENTS = "/api/v1/bank-statements/"
LINES = "/api/v1/bank-statement-lines/"
PROMISES = "/api/v1/promises-to-pay/"
DISPUTES = "/api/v1/disputes/"
IBAN = "DE89370400440532013000"
HEADER = "Date,Amount,Currency,Counterparty,Counterparty IBAN,Remittance,Reference\n"
D = Decimal


@pytest.fixture
def reader(api_client_for) -> APIClient:
    return api_client_for("payments:read")


@pytest.fixture
def clerk_key(api_client_for) -> APIClient:
    return api_client_for("payments:read", "payments:write")


def csv_file(*rows: str, name: str = "statement.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (HEADER + "".join(f"{row}\n" for row in rows)).encode(), content_type="text/csv")


def upload(client: APIClient, file: SimpleUploadedFile, **fields):
    body = {"file": file, "format": "csv", "account_iban": IBAN, **fields}
    return client.post(STATEMENTS, body, format="multipart")


def statement_of(clerk, *rows: tuple[str, str, str], statement_id: str = "S1") -> BankStatement:
    """Unmatched lines of (amount, payer, remittance), booked today."""
    return factories.imported_statement(
        clerk,
        (
            {"amount": D(amount), "counterparty_name": payer, "remittance_information": text}
            for amount, payer, text in rows
        ),
        statement_id=statement_id,
        booked_on=timezone.localdate(),
        filename=f"{statement_id}.csv",
    )


# -- upload -----------------------------------------------------------------------------------------------


def test_an_upload_imports_and_applies_the_certain_line_and_queues_the_unknown_one(clerk_key, invoices):
    today = timezone.localdate()
    file = csv_file(
        f"{today},119.00,EUR,Nordwind Handel GmbH,,Payment {invoices[0].number},BK-1",
        f"{today},55.00,EUR,Someone Unknown,,misc,BK-2",
    )

    response = upload(clerk_key, file, statement_id="2026-42")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reconciliation"] == {"applied": 1, "queued": 1, "ignored": 0}
    assert (body["statement_id"], body["account_iban"], body["line_count"]) == ("2026-42", IBAN, 2)
    assert body["lines_by_status"] == {"unmatched": 1, "applied": 1, "ignored": 0}
    assert [(line["line_no"], line["status"]) for line in body["lines"]] == [(1, "applied"), (2, "unmatched")]
    assert body["lines"][0]["payment"] == Payment.objects.get().number
    assert body["opening_balance"] is None
    invoices[0].refresh_from_db()
    assert invoices[0].status == InvoiceStatus.PAID

    listed = clerk_key.get(STATEMENTS).json()["results"]
    assert [item["id"] for item in listed] == [body["id"]]
    detail = clerk_key.get(f"{STATEMENTS}{body['id']}/").json()
    assert len(detail["lines"]) == 2


def test_an_upload_runs_the_matching_engine_once_and_shows_that_runs_proposals(clerk_key, invoices):
    today = timezone.localdate()
    file = csv_file(
        f"{today},119.00,EUR,Nordwind Handel GmbH,,Payment {invoices[0].number},BK-1",
        f"{today},238.00,EUR,Nordwind Handel,,goods,BK-2",
    )

    with mock.patch.object(matching, "_propose_batch", wraps=matching._propose_batch) as engine:
        response = upload(clerk_key, file)

    assert response.status_code == 201, response.json()
    assert engine.call_count == 1
    assert [len(batch) for batch in [engine.call_args.args[0]]] == [2]
    body = response.json()
    assert body["reconciliation"] == {"applied": 1, "queued": 1, "ignored": 0}
    queued = body["lines"][1]
    assert queued["status"] == "unmatched"
    assert queued["proposals"] == clerk_key.get(f"{LINES}{queued['id']}/").json()["proposals"]
    assert [proposal["invoices"] for proposal in queued["proposals"]][:1] == [[invoices[1].number]]
    assert {type(proposal["confidence"]) for proposal in queued["proposals"]} == {str}  # never a float
    assert all(re.fullmatch(r"0\.\d\d", proposal["confidence"]) for proposal in queued["proposals"])


def test_the_same_file_again_is_a_409_and_imports_nothing(clerk_key, invoices):
    rows = (f"{timezone.localdate()},55.00,EUR,Someone Unknown,,misc,BK-2",)
    assert upload(clerk_key, csv_file(*rows)).status_code == 201

    again = upload(clerk_key, csv_file(*rows))

    assert (again.status_code, again["Content-Type"]) == (409, "application/problem+json")
    assert again.json()["code"] == "statement_already_imported"
    assert BankStatement.objects.count() == 1


def test_a_malformed_file_is_a_422_naming_the_line(clerk_key):
    file = csv_file(f"{timezone.localdate()},55.00,EUR,A,,misc,BK-1", f"{timezone.localdate()},lots,EUR,B,,x,BK-2")

    response = upload(clerk_key, file)

    assert (response.status_code, response.json()["code"]) == (422, "malformed_statement")
    assert "line 3" in response.json()["detail"]
    assert not BankStatement.objects.exists()


def test_an_upload_needs_the_file_and_for_csv_the_account(clerk_key):
    missing = clerk_key.post(STATEMENTS, {"format": "csv", "account_iban": IBAN}, format="multipart")
    no_account = clerk_key.post(STATEMENTS, {"file": csv_file("x"), "format": "csv"}, format="multipart")

    assert missing.status_code == no_account.status_code == 422
    assert "file" in missing.json()["errors"]
    assert "account_iban" in no_account.json()["errors"]


# -- the clerk's queue ------------------------------------------------------------------------------------


def test_the_queue_lists_proposals_with_reasons_at_the_same_query_cost_for_2_or_8_lines(reader, clerk, invoices):
    queued = ("238.00", "Nordwind Handel GmbH", "november")
    statement_of(clerk, *[queued] * 2, statement_id="S1")
    reader.get(LINES, {"status": "unmatched"})  # warm caches

    with CaptureQueriesContext(connection) as two:
        response = reader.get(LINES, {"status": "unmatched"})
    assert len(response.json()["results"]) == 2
    statement_of(clerk, *[queued] * 6, statement_id="S2")
    with CaptureQueriesContext(connection) as eight:
        response = reader.get(LINES, {"status": "unmatched"})

    results = response.json()["results"]
    assert len(results) == 8
    assert len(eight) == len(two)
    best = results[0]["proposals"][0]
    assert (best["rank"], best["customer"]["id"], best["invoices"], best["amounts"]) == (
        1,
        invoices[1].customer_id,
        [invoices[1].number],
        ["238.00"],
    )
    assert any("amount" in reason for reason in best["reasons"])
    assert reader.get(LINES, {"status": "applied"}).json()["results"] == []


def test_a_proposal_is_accepted_by_rank_once(clerk_key, clerk, invoices):
    statement = statement_of(clerk, ("238.00", "Nordwind Handel GmbH", "november"))
    line = statement.lines.get()
    url = f"{LINES}{line.pk}/accept/"

    too_far = clerk_key.post(url, {"rank": 9})
    other_invoice = clerk_key.post(url, {"rank": 1, "invoices": [invoices[0].number]})
    accepted = clerk_key.post(url, {"rank": 1, "invoices": [invoices[1].number]})
    again = clerk_key.post(url, {"rank": 1})

    assert (too_far.status_code, too_far.json()["code"]) == (409, "proposals_changed")
    assert (other_invoice.status_code, other_invoice.json()["code"]) == (409, "proposals_changed")
    assert accepted.status_code == 200, accepted.json()
    assert (accepted.json()["status"], accepted.json()["proposals"]) == ("applied", [])
    invoices[1].refresh_from_db()
    assert (invoices[1].status, invoices[1].open_amount) == (InvoiceStatus.PAID, 0)
    assert (again.status_code, again.json()["code"]) == (409, "line_already_reconciled")
    assert Payment.objects.count() == 1


def test_a_line_is_applied_by_hand_and_undone(clerk_key, clerk, buyer, invoices):
    line = statement_of(clerk, ("200.00", "N. Handel", "two things")).lines.get()
    body = {"customer": buyer.pk, "applications": [{"invoice": invoices[0].number, "amount": "119.00"}]}

    applied = clerk_key.post(f"{LINES}{line.pk}/apply/", body)
    undone = clerk_key.post(f"{LINES}{line.pk}/undo/", {"reason": "wrong invoice"})

    assert applied.status_code == 200, applied.json()
    assert applied.json()["status"] == "applied"
    assert undone.status_code == 200, undone.json()
    assert (undone.json()["allocations"], undone.json()["unallocated_amount"]) == ([], "200.00")
    invoices[0].refresh_from_db()
    assert invoices[0].open_amount == D("119.00")


def test_ignoring_a_line_needs_a_reason(clerk_key, clerk):
    line = statement_of(clerk, ("10.00", "Own account", "transfer")).lines.get()
    url = f"{LINES}{line.pk}/ignore/"

    without = clerk_key.post(url, {})
    blank = clerk_key.post(url, {"reason": " "})
    ignored = clerk_key.post(url, {"reason": "transfer between own accounts"})

    assert without.status_code == blank.status_code == 422
    assert "reason" in without.json()["errors"]
    assert (ignored.status_code, ignored.json()["status"]) == (200, "ignored")
    line.refresh_from_db()
    assert line.status == StatementLineStatus.IGNORED


# -- promises to pay --------------------------------------------------------------------------------------


def test_a_promise_to_pay_is_recorded_once_and_listed(clerk_key, buyer, invoices):
    body = {
        "customer": buyer.pk,
        "invoices": [invoice.number for invoice in invoices],
        "promised_date": str(timezone.localdate() + timedelta(days=7)),
        "amount": "300.00",
        "note": "after their customer pays",
    }

    first = clerk_key.post(PROMISES, body, HTTP_IDEMPOTENCY_KEY="promise-1")
    replay = clerk_key.post(PROMISES, body, HTTP_IDEMPOTENCY_KEY="promise-1")
    unknown = clerk_key.post(PROMISES, {**body, "invoices": ["INV-1999-000001"]})
    listed = clerk_key.get(PROMISES, {"customer": buyer.pk, "status": "open"}).json()["results"]

    assert first.status_code == replay.status_code == 201, first.json()
    assert replay.json() == first.json()
    assert PromiseToPay.objects.count() == 1
    assert (first.json()["amount"], first.json()["status"], sorted(first.json()["invoices"])) == (
        "300.00",
        "open",
        sorted(invoice.number for invoice in invoices),
    )
    assert unknown.status_code == 422
    assert "INV-1999-000001" in str(unknown.json()["errors"])
    assert [item["id"] for item in listed] == [first.json()["id"]]
    assert clerk_key.get(PROMISES, {"status": "broken"}).json()["results"] == []


# -- scopes -----------------------------------------------------------------------------------------------


def test_a_read_key_cannot_decide_anything(reader, api_client_for, clerk, buyer, invoices):
    line = statement_of(clerk, ("238.00", "Nordwind Handel GmbH", "november")).lines.get()
    promise = {"customer": buyer.pk, "invoices": [invoices[0].number], "promised_date": str(date.today())}

    refused = [
        upload(reader, csv_file(f"{timezone.localdate()},5.00,EUR,A,,x,B")),
        reader.post(f"{LINES}{line.pk}/accept/", {"rank": 1}),
        reader.post(f"{LINES}{line.pk}/ignore/", {"reason": "no"}),
        reader.post(PROMISES, {**promise, "amount": "1.00"}),
        reader.post(DISPUTES, {"invoice": invoices[0].number, "description": "no"}),
        api_client_for("invoices:read").get(LINES),
    ]

    assert [response.status_code for response in refused] == [403] * 6
    assert "payments:write" in refused[1].json()["detail"]
    assert reader.get(LINES).status_code == 200
    line.refresh_from_db()
    invoices[0].refresh_from_db()
    assert (line.status, invoices[0].holds.exists(), BankStatement.objects.count()) == ("unmatched", False, 1)
