"""Statement files longer than OTC_STATEMENT_BACKGROUND_LINES: stored at upload, then imported and
reconciled by a worker with the progress counted on the upload. A real worker ends a two-statement file
done with the right counts; a malformed file ends failed with the reason and not a statement row; the
API answers 202 with the status URL; the admin lands on the upload's page, refreshed until it is done."""

import hashlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from invoicing.models import InvoiceStatus
from payments import tasks
from payments.cash_application import background_import
from payments.cash_application.background_import import run_statement_upload
from payments.cash_application.upload_files import PART_SIZE, open_upload_file, store_upload_file
from payments.cash_application.uploads import entry_count, queue_statement_upload
from payments.models import (
    BankStatement,
    BankStatementLine,
    BankStatementUpload,
    BankStatementUploadPart,
    StatementFormat,
    UploadStatus,
)
from tests import factories
from tests.support.workers import wait_for

pytestmark = pytest.mark.usefixtures("own_accounts")
D = Decimal
MAIN, SECOND = "DE89370400440532013000", "DE12500105170648489890"
PAID = 6  # lines paying one invoice each, by number and amount
UNKNOWN_MAIN, OUTGOING_MAIN, UNKNOWN_SECOND, OUTGOING_SECOND = 10, 4, 10, 2
LINES = PAID + UNKNOWN_MAIN + OUTGOING_MAIN + UNKNOWN_SECOND + OUTGOING_SECOND


def amount_text(amount: Decimal) -> str:
    return f"{abs(amount):.2f}".replace(".", ",")


def mt940(*statements: tuple[str, list[tuple[Decimal, str, str]]]) -> bytes:
    """An MT940 file of several statements (one `:20:` block each), booked today: movements of
    (signed amount, payer, remittance) in German structured `:86:` details."""
    today = timezone.localdate()
    rows = []
    for number, (iban, movements) in enumerate(statements, start=1):
        opening = D("10000.00")
        closing = opening + sum(amount for amount, _, _ in movements)
        rows += [
            f":20:BIG{number}",
            f":25:{iban}",
            f":28C:{number:05d}/001",
            f":60F:C{today:%y%m%d}EUR{amount_text(opening)}",
        ]
        for amount, payer, text in movements:
            mark = "C" if amount > 0 else "D"
            rows += [
                f":61:{today:%y%m%d}{today:%m%d}{mark}{amount_text(amount)}NTRFNONREF",
                f":86:166?00GUTSCHRIFT?20{text}?32{payer}",
            ]
        rows += [f":62F:C{today:%y%m%d}EUR{amount_text(closing)}", "-"]
    return ("\r\n".join(rows) + "\r\n").encode()


@pytest.fixture
def long_file(settings, clerk, buyer):
    """Two statements of 32 lines in all (more than the threshold, set to 20): six pay an open invoice
    each, twenty come from payers nobody knows, six are money going out."""
    settings.OTC_STATEMENT_BACKGROUND_LINES = 20
    invoices = [factories.manual_invoice(buyer, clerk, (str(n), "100", "19")) for n in range(1, PAID + 1)]
    main = [(invoice.gross_total, "Nordwind Handel GmbH", f"Invoice {invoice.number}") for invoice in invoices]
    main += [(D("11.11") + n, f"Spender {n}", f"Spende {n}") for n in range(UNKNOWN_MAIN)]
    main += [(-D("5.00") - n, "Bank", f"Gebuehr {n}") for n in range(OUTGOING_MAIN)]
    second = [(D("21.21") + n, f"Stifter {n}", f"Beitrag {n}") for n in range(UNKNOWN_SECOND)]
    second += [(-D("7.00") - n, "Bank", f"Gebuehr {n}") for n in range(OUTGOING_SECOND)]
    return mt940((MAIN, main), (SECOND, second)), invoices


def assert_done_with_the_right_counts(upload: BankStatementUpload, invoices) -> None:
    upload.refresh_from_db()
    assert upload.status == UploadStatus.DONE, upload.error
    assert (
        upload.lines_read,
        upload.lines_reconciled,
        upload.applied_automatically,
        upload.waiting,
        upload.set_aside,
    ) == (LINES, LINES, PAID, UNKNOWN_MAIN + UNKNOWN_SECOND, OUTGOING_MAIN + OUTGOING_SECOND)
    assert not upload.file_parts.exists()  # the stored file is dropped once processed
    assert upload.error == ""
    assert upload.finished_at is not None
    assert sorted(upload.statements.values_list("account_iban", "line_count")) == [
        (SECOND, UNKNOWN_SECOND + OUTGOING_SECOND),
        (MAIN, PAID + UNKNOWN_MAIN + OUTGOING_MAIN),
    ]
    assert BankStatementLine.objects.filter(applied_automatically=True).count() == PAID
    for invoice in invoices:
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID


@pytest.mark.django_db
def test_a_stored_file_is_kept_in_encrypted_parts_and_read_back_whole_rewound_and_from_any_offset(clerk):
    content = bytes(range(256)) * (PART_SIZE // 256) * 2 + b"the last, shorter part"
    upload = BankStatementUpload.objects.create(
        filename="long.xml",
        format=StatementFormat.CAMT053,
        file_sha256="0" * 64,
        uploaded_by=clerk,
        progressed_at=timezone.now(),
    )

    store_upload_file(upload, content)

    assert list(upload.file_parts.order_by("number").values_list("number", flat=True)) == [0, 1, 2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM payments_bankstatementuploadpart WHERE upload_id = %s", [upload.pk])
        stored = [bytes(row[0]) for row in cursor.fetchall()]
    assert all(b"the last, shorter part" not in token and bytes(range(64)) not in token for token in stored)
    stream = open_upload_file(upload)
    assert stream.read() == content
    stream.seek(0)
    assert hashlib.sha256(stream.read()).hexdigest() == hashlib.sha256(content).hexdigest()
    stream.seek(PART_SIZE - 3)
    assert stream.read(6) == content[PART_SIZE - 3 : PART_SIZE + 3]


def test_the_entries_of_a_file_are_counted_without_parsing_it(long_file):
    content, _ = long_file
    assert entry_count(content, StatementFormat.MT940) == LINES
    assert entry_count(b"Date,Amount\n2026-12-04,1.00\n2026-12-04,2.00\n", StatementFormat.CSV) == 2
    camt = b"<Document><Stmt><Ntry><NtryDtls><TxDtls/><TxDtls/></NtryDtls></Ntry><Ntry></Ntry></Stmt></Document>"
    assert entry_count(camt, StatementFormat.CAMT053) == 2


@pytest.mark.django_db(transaction=True)
def test_a_long_file_is_imported_and_reconciled_by_a_worker_and_ends_done_with_its_counts(
    long_file, clerk, celery_workers
):
    content, invoices = long_file
    celery_workers.env["STATEMENT_UPLOAD_BATCH_LINES"] = "5"
    celery_workers.env["RECONCILIATION_WORKERS"] = "2"  # the file's two statements at once, as in production
    worker = celery_workers.start()

    upload = queue_statement_upload(content=content, filename="long.sta", format=StatementFormat.MT940, actor=clerk)

    stored = BankStatementUpload.objects.get(pk=upload.pk)
    assert open_upload_file(stored).read() == content
    assert stored.uploaded_by == clerk
    wait_for(
        lambda: BankStatementUpload.objects.filter(pk=upload.pk, status=UploadStatus.DONE).exists(),
        "the upload done",
        workers=[worker],
        timeout=90,
    )
    assert_done_with_the_right_counts(upload, invoices)
    assert run_statement_upload(upload_id=upload.pk) is None  # a redelivered task finds it finished


@pytest.mark.django_db
def test_a_malformed_long_file_fails_with_the_reason_and_writes_no_statement(
    long_file, clerk, django_capture_on_commit_callbacks
):
    content, invoices = long_file
    wrong = content.replace(b":62F:C", b":62F:D", 1)

    with django_capture_on_commit_callbacks(execute=True):
        upload = queue_statement_upload(content=wrong, filename="wrong.sta", format=StatementFormat.MT940, actor=clerk)

    upload.refresh_from_db()
    assert upload.status == UploadStatus.FAILED
    assert "balances" in upload.error
    assert (upload.lines_read, upload.lines_reconciled) == (0, 0)
    assert not BankStatementUploadPart.objects.exists()
    assert not BankStatement.objects.exists()
    assert not BankStatementLine.objects.exists()
    assert not upload.statements.exists()
    for invoice in invoices:
        invoice.refresh_from_db()
    assert all(invoice.status == InvoiceStatus.ISSUED for invoice in invoices)


@pytest.mark.django_db
def test_the_api_answers_202_with_a_status_url_that_reports_the_counts(
    long_file, api_client_for, django_capture_on_commit_callbacks
):
    content, invoices = long_file
    writer = api_client_for("payments:read", "payments:write")
    file = SimpleUploadedFile("long.sta", content, content_type="application/octet-stream")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = writer.post("/api/v1/bank-statements/", {"file": file, "format": "mt940"}, format="multipart")

    assert response.status_code == 202, response.content
    location = response["Location"]
    assert location.endswith(f"/api/v1/bank-statement-uploads/{response.data['id']}/")
    assert (response.data["status"], response.data["lines_read"], response.data["statements"]) == ("queued", 0, [])
    assert not BankStatement.objects.exists()
    for callback in queued:  # the worker's turn
        callback()

    status = writer.get(location)
    assert status.status_code == 200
    assert status.data["status"] == "done"
    assert (
        status.data["lines_read"],
        status.data["lines_reconciled"],
        status.data["applied_automatically"],
        status.data["waiting"],
        status.data["set_aside"],
    ) == (LINES, LINES, PAID, 20, 6)
    assert status.data["statements"] == sorted(BankStatement.objects.values_list("pk", flat=True))
    assert_done_with_the_right_counts(BankStatementUpload.objects.get(pk=response.data["id"]), invoices)

    missing = writer.get("/api/v1/bank-statement-uploads/999999/")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/problem+json")
    assert api_client_for("customers:read").get(location).status_code == 403


@pytest.mark.django_db
def test_the_same_long_file_again_is_refused_at_once_while_the_first_is_queued(long_file, api_client_for):
    content, _ = long_file
    writer = api_client_for("payments:read", "payments:write")

    def post():
        file = SimpleUploadedFile("long.sta", content, content_type="application/octet-stream")
        return writer.post("/api/v1/bank-statements/", {"file": file, "format": "mt940"}, format="multipart")

    assert post().status_code == 202  # no commit in this test: the worker never starts
    again = post()
    assert again.status_code == 409
    assert again.data["code"] == "statement_already_imported"
    assert BankStatementUpload.objects.count() == 1


@pytest.mark.django_db
def test_a_short_file_is_still_imported_in_the_request(settings, api_client_for):
    settings.OTC_STATEMENT_BACKGROUND_LINES = 300
    content = mt940((MAIN, [(D("42.00"), "Erika Mustermann", "Geburtstag")]))
    file = SimpleUploadedFile("short.sta", content, content_type="application/octet-stream")

    response = api_client_for("payments:read", "payments:write").post(
        "/api/v1/bank-statements/", {"file": file, "format": "mt940"}, format="multipart"
    )

    assert response.status_code == 201
    assert not BankStatementUpload.objects.exists()


@pytest.mark.django_db
def test_the_admin_lands_on_the_uploads_page_which_refreshes_until_done_then_leads_to_the_statements(
    long_file, clerk, django_capture_on_commit_callbacks
):
    content, _ = long_file
    client = Client()
    client.force_login(clerk)
    form = {"file": SimpleUploadedFile("long.sta", content), "format": "mt940"}

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/admin/payments/bankstatement/add/", form)

    upload = BankStatementUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/payments/bankstatementupload/{upload.pk}/change/"
    waiting_page = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in waiting_page
    assert "Queued: a worker will start on the file in a moment." in waiting_page
    for callback in queued:
        callback()

    done_page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in done_page
    assert f"Done: {LINES} lines imported and reconciled." in done_page
    assert "6 applied automatically, 20 waiting, 6 set aside." in done_page
    for statement in BankStatement.objects.all():
        assert f"/admin/payments/bankstatement/{statement.pk}/change/" in done_page
        assert f"/admin/payments/bankstatementline/?statement__id__exact={statement.pk}" in done_page
    assert 'id="upload-queue"' in done_page
    listing = client.get("/admin/payments/bankstatementupload/").content.decode()
    assert "long.sta" in listing
    assert "Done" in listing


@pytest.mark.django_db
def test_a_failed_upload_shows_the_reason_on_its_page(long_file, clerk, django_capture_on_commit_callbacks):
    content, _ = long_file
    client = Client()
    client.force_login(clerk)
    form = {"file": SimpleUploadedFile("wrong.sta", content.replace(b":62F:C", b":62F:D", 1)), "format": "mt940"}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/payments/bankstatement/add/", form)

    page = client.get(response["Location"]).content.decode()
    assert "Failed: nothing of the file was imported." in page
    assert BankStatementUpload.objects.get().error in page.replace("&#x27;", "'")
    assert 'http-equiv="refresh"' not in page


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no except clause catches it."""


@pytest.mark.django_db
def test_an_upload_whose_worker_died_mid_reconciliation_is_swept_and_finishes_with_the_right_counts(
    long_file, clerk, settings, monkeypatch
):
    content, invoices = long_file
    settings.OTC_STATEMENT_UPLOAD_BATCH_LINES = 5
    upload = queue_statement_upload(content=content, filename="long.sta", format=StatementFormat.MT940, actor=clerk)
    batches = background_import.reconciliation.reconcile_statement_in_batches

    def dying_after_two_batches(**kwargs):
        for number, batch in enumerate(batches(**kwargs), start=1):
            yield batch
            if number == 2:
                raise WorkerKilled

    monkeypatch.setattr(background_import.reconciliation, "reconcile_statement_in_batches", dying_after_two_batches)
    with pytest.raises(WorkerKilled):
        run_statement_upload(upload_id=upload.pk)
    upload.refresh_from_db()
    assert (upload.status, upload.lines_read, upload.lines_reconciled) == (UploadStatus.RECONCILING, LINES, 10)
    assert background_import.statement_uploads_due() == []  # it reported progress a moment ago
    BankStatementUpload.objects.filter(pk=upload.pk).update(progressed_at=timezone.now() - timedelta(minutes=5))
    assert background_import.statement_uploads_due() == [upload.pk]

    monkeypatch.setattr(background_import.reconciliation, "reconcile_statement_in_batches", batches)
    assert tasks.sweep_statement_uploads() == 1  # eager here: the task runs at once

    assert_done_with_the_right_counts(upload, invoices)
    assert BankStatement.objects.count() == 2  # imported once
    assert background_import.statement_uploads_due() == []
