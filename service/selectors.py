"""Read side of the service desk: disputes with what their lists show, at a constant query cost."""

from django.db.models import QuerySet

from service.models import Dispute, DisputeStatus


def dispute_list() -> QuerySet[Dispute]:
    return Dispute.objects.select_related("customer", "invoice", "credit_note", "opened_by", "resolved_by").order_by(
        "-opened_at", "-pk"
    )


def open_disputes() -> QuerySet[Dispute]:
    return dispute_list().filter(status=DisputeStatus.OPEN)
