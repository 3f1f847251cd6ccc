"""Celery tasks of payments: thin callers of its services, taking ids. Payments enqueues its own
tasks (it cannot import workflows, where the tasks of events and schedules live); its rows are the
record of the work, so a beat sweeper resends what a dead broker or worker lost."""

from celery import shared_task

from payments.cash_application import background_import


@shared_task(name="payments.tasks.run_statement_upload")
def run_statement_upload(upload_id: int) -> str | None:
    """Import and reconcile a statement upload (or carry on with it); its status when this run ended it."""
    upload = background_import.run_statement_upload(upload_id=upload_id)
    return upload.status if upload is not None else None


@shared_task(name="payments.tasks.sweep_statement_uploads")
def sweep_statement_uploads() -> int:
    """Beat, every minute: statement uploads whose task was lost or whose worker died go out again."""
    due = background_import.statement_uploads_due()
    for upload_id in due:
        run_statement_upload.delay(upload_id)
    return len(due)
