from celery import shared_task

from analytics import services


@shared_task(name="analytics.tasks.refresh_snapshots")
def refresh_snapshots() -> None:
    services.refresh_snapshots()
