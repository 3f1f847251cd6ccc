"""Statement files too long for a web request: stored at upload and handed to a worker, which imports
and reconciles them (payments.cash_application.background_import) while the clerk watches the progress.

Which files go to a worker is decided before parsing, by counting the file's entries (a cheap scan of
their markers), so that a long file costs the web request no more than storing it. The upload row is
the record of the work to do: it commits with the file, the task is enqueued after the commit, and a
sweeper hands out again any upload a dead broker or worker left behind.
"""

import re
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from otc.broker import enqueue
from otc.errors import InvalidInput
from otc.models import User
from otc.outages import Outage
from payments import tasks
from payments.cash_application.bank_formats.csv_layout import CSV_LAYOUTS
from payments.cash_application.errors import StatementAlreadyImported
from payments.cash_application.statement_import import file_fingerprint, refuse_imported_file
from payments.cash_application.upload_files import store_upload_file
from payments.models import BankStatementUpload, StatementFormat, UploadStatus

_CAMT_ENTRY = re.compile(rb"<(?:[\w.-]+:)?Ntry[\s>]")
_CAMT_TRANSACTION = re.compile(rb"<(?:[\w.-]+:)?TxDtls[\s>]")
_ENTRY_MARKERS = {
    StatementFormat.MT940: re.compile(rb"(?m)^:61:"),
    StatementFormat.BAI2: re.compile(rb"(?m)^16,"),
    StatementFormat.CSV: re.compile(rb"\n(?=[^\r\n])"),  # every row after the header
}
outage = Outage("broker", detail="statement uploads stay queued; the sweeper resends")


def entry_count(content: bytes, format: str) -> int:
    """About how many lines the file will import as: its entries (CAMT: transactions where an entry
    lists them), counted by their markers without parsing."""
    if format in (StatementFormat.CAMT053, StatementFormat.CAMT052, StatementFormat.CAMT054):
        return max(len(_CAMT_ENTRY.findall(content)), len(_CAMT_TRANSACTION.findall(content)))
    marker = _ENTRY_MARKERS.get(format)
    return len(marker.findall(content)) if marker else 0


def runs_in_background(*, content: bytes, format: str) -> bool:
    """More lines than OTC_STATEMENT_BACKGROUND_LINES: imported and reconciled by a worker."""
    return entry_count(content, format) > settings.OTC_STATEMENT_BACKGROUND_LINES


def queue_statement_upload(
    *,
    content: bytes,
    filename: str,
    format: str,
    actor: User,
    csv_layout: str = "generic",
    csv_account_iban: str = "",
    csv_statement_id: str = "",
    csv_period: tuple[date, date] | None = None,
) -> BankStatementUpload:
    """Store the file for a worker to import and reconcile (arguments as for import_bank_statement).

    Refused at once, with nothing stored: an unknown format or CSV layout (InvalidInput), a file
    imported before or being imported now (StatementAlreadyImported). Everything else the file may
    be refused for is found by the worker and recorded on the upload as its failure."""
    if format not in StatementFormat.values:
        raise InvalidInput(f"Unknown format {format!r}.", fields={"format": [f"One of {StatementFormat.values}."]})
    if format == StatementFormat.CSV and csv_layout not in CSV_LAYOUTS:
        raise InvalidInput(f"No CSV layout {csv_layout!r}.", fields={"csv_layout": [f"One of {list(CSV_LAYOUTS)}."]})
    file_sha256 = file_fingerprint(content)
    refuse_imported_file(file_sha256)
    try:
        with transaction.atomic():
            upload = BankStatementUpload.objects.create(
                filename=filename[:255],
                format=format,
                csv_layout=csv_layout if format == StatementFormat.CSV else "",
                csv_account_iban=csv_account_iban,
                csv_statement_id=csv_statement_id,
                csv_period_start=csv_period[0] if csv_period else None,
                csv_period_end=csv_period[1] if csv_period else None,
                file_sha256=file_sha256,
                uploaded_by=actor,
                progressed_at=timezone.now(),
            )
            store_upload_file(upload, content)
    except IntegrityError:
        _refuse_in_progress(file_sha256)
        raise
    transaction.on_commit(lambda: enqueue(tasks.run_statement_upload, upload.pk, outage=outage))
    return upload


def _refuse_in_progress(file_sha256: str) -> None:
    earlier = (
        BankStatementUpload.objects.exclude(status=UploadStatus.FAILED)
        .filter(file_sha256=file_sha256)
        .select_related("uploaded_by")
        .first()
    )
    if earlier is not None:
        raise StatementAlreadyImported(
            f"This file was uploaded already, on {timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M} by "
            f"{earlier.uploaded_by} ({earlier.filename}, {earlier.get_status_display().lower()})."
        )
