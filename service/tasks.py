"""Celery tasks of the service desk: thin callers of service.services."""

from celery import shared_task
from django.utils import timezone

from otc.services import automation_user
from service import services


@shared_task(name="service.tasks.expire_disputes")
def expire_disputes() -> int:
    """Daily: disputes past their expiry are closed and their invoices' holds released."""
    return services.expire_disputes(today=timezone.localdate(), actor=automation_user())


@shared_task(name="service.tasks.raise_sla_alerts")
def raise_sla_alerts() -> int:
    """Every few minutes: tickets whose SLA target is due soon or missed alert their assignee and team lead, once."""
    return services.raise_sla_alerts(now=timezone.now())
