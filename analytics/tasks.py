from celery import shared_task
from django.utils import timezone

from analytics import services


@shared_task(name="analytics.tasks.refresh_snapshots")
def refresh_snapshots() -> None:
    """Hourly: the snapshots, then the segments and payer scores customers keep for automation rules."""
    services.refresh_snapshots()
    services.share_behaviour_with_customers(on=timezone.localdate())


@shared_task(name="analytics.tasks.announce_weekly_kpis")
def announce_weekly_kpis() -> None:
    """Weekly: the KPI email to finance staff who opted in (permission analytics.receive_weekly_kpis)."""
    services.announce_weekly_kpis(week_ending=timezone.localdate())
