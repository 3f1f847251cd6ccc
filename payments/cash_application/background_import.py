"""A worker's side of a statement upload (payments.cash_application.uploads): import the stored file,
then reconcile its statements a batch at a time, counting the progress on the upload as it goes.

The import is all or nothing as in a web request: a file refused for any reason leaves no statement
and no line, only the upload marked failed with the reason. Reconciliation commits line by line, so a
worker that dies leaves every line applied or waiting; the sweeper hands the upload out again and the
next run carries on from the counts in the database. One run at a time per upload: a session-level
advisory lock, released by PostgreSQL when the worker's connection ends, however it ends.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from otc.errors import DomainError
from payments.cash_application import services as reconciliation
from payments.cash_application.statement_import import import_bank_statement
from payments.cash_application.upload_files import drop_upload_file, open_upload_file
from payments.models import BankStatementLine, BankStatementUpload, StatementLineStatus, UploadStatus
from payments.models.statements import UNFINISHED_UPLOAD

logger = structlog.get_logger(__name__)


def run_statement_upload(*, upload_id: int) -> BankStatementUpload | None:
    """Import and reconcile the upload, or carry on where a dead worker stopped. None when another
    worker is at it now or it is finished already."""
    with _exclusive(upload_id) as ours:
        if not ours:
            return None
        upload = BankStatementUpload.objects.select_related("uploaded_by").get(pk=upload_id)
        if upload.is_finished:
            return None
        log = logger.bind(upload_id=upload.pk)
        try:
            if upload.status in (UploadStatus.QUEUED, UploadStatus.IMPORTING) and not _import(upload):
                log.info("statement_upload.refused")
                return upload
            _reconcile(upload)
        except Exception as error:
            _finish(upload, UploadStatus.FAILED, error=f"Stopped on an unexpected error ({type(error).__name__}).")
            log.exception("statement_upload.failed")
            raise
        log.info("statement_upload.done", lines=upload.lines_read)
        return upload


def statement_uploads_due() -> list[int]:
    """Unfinished uploads no worker has reported progress on for OTC_STATEMENT_UPLOAD_STALL_SECONDS: the
    task was lost with the broker, or its worker died. One still being worked on is skipped by the run."""
    silent_since = timezone.now() - timedelta(seconds=settings.OTC_STATEMENT_UPLOAD_STALL_SECONDS)
    return list(
        BankStatementUpload.objects.filter(status__in=UNFINISHED_UPLOAD, progressed_at__lte=silent_since)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@contextmanager
def _exclusive(upload_id: int) -> Iterator[bool]:
    key = f"bank-statement-upload:{upload_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
        ours = cursor.fetchone()[0]
    try:
        yield ours
    finally:
        if ours:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])


def _import(upload: BankStatementUpload) -> bool:
    """Import the file and record its statements and line count in one transaction; False when the file
    is refused, the upload then failed with the reason and nothing else written."""
    _report(upload, status=UploadStatus.IMPORTING)
    period = (upload.csv_period_start, upload.csv_period_end) if upload.csv_period_start else None
    try:
        with transaction.atomic():
            statements = import_bank_statement(
                content=open_upload_file(upload),
                filename=upload.filename,
                format=upload.format,
                actor=upload.uploaded_by,
                csv_layout=upload.csv_layout or "generic",
                csv_account_iban=upload.csv_account_iban,
                csv_statement_id=upload.csv_statement_id,
                csv_period=period,
            )
            upload.statements.set(statements)
            _report(upload, status=UploadStatus.RECONCILING, lines_read=sum(each.line_count for each in statements))
    except DomainError as error:
        _finish(upload, UploadStatus.FAILED, error=error.message)
        return False
    return True


def _reconcile(upload: BankStatementUpload) -> None:
    """Every statement of the file, a batch at a time, OTC_RECONCILIATION_WORKERS statements at once; the
    counts start from what earlier runs settled."""
    _report(upload, **_settled_counts(upload))
    for batch in reconciliation.reconcile_statements_in_batches(
        statements=list(upload.statements.order_by("pk")),
        actor=upload.uploaded_by,
        batch_size=settings.OTC_STATEMENT_UPLOAD_BATCH_LINES,
        workers=settings.OTC_RECONCILIATION_WORKERS,
    ):
        _report(
            upload,
            lines_reconciled=F("lines_reconciled") + len(batch.applied) + len(batch.queued) + len(batch.ignored),
            applied_automatically=F("applied_automatically") + len(batch.applied),
            waiting=F("waiting") + len(batch.queued),
            set_aside=F("set_aside") + len(batch.ignored),
        )
    _finish(upload, UploadStatus.DONE)


def _settled_counts(upload: BankStatementUpload) -> dict[str, int]:
    """What is decided already among the file's lines (nothing, unless an earlier run died): the lines
    still unmatched are taken again, so none of them counts yet."""
    counts = BankStatementLine.objects.filter(statement__uploads=upload).aggregate(
        applied=Count("pk", filter=Q(status=StatementLineStatus.APPLIED)),
        automatically=Count("pk", filter=Q(applied_automatically=True)),
        ignored=Count("pk", filter=Q(status=StatementLineStatus.IGNORED)),
    )
    return {
        "lines_reconciled": counts["applied"] + counts["ignored"],
        "applied_automatically": counts["automatically"],
        "waiting": 0,
        "set_aside": counts["ignored"],
    }


def _report(upload: BankStatementUpload, **changes) -> None:
    """Write the upload's progress at once (outside any transaction of the lines), with the time of it."""
    BankStatementUpload.objects.filter(pk=upload.pk).update(progressed_at=timezone.now(), **changes)
    upload.refresh_from_db(fields=[*changes, "progressed_at"])


def _finish(upload: BankStatementUpload, status: str, *, error: str = "") -> None:
    """Done or failed: the stored file is dropped, the counts stay."""
    with transaction.atomic():
        _report(upload, status=status, error=error, finished_at=timezone.now())
        drop_upload_file(upload)
