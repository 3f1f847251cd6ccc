"""The operations view: one admin page that says whether the machinery behind the business is keeping
up. Outbox lag, pending and failed events by type, the events and deliveries that failed with their
errors and a one-click retry (through workflows.services), the Celery queues' depths and when each
scheduled job last ran. Every figure comes from workflows.selectors, which the Prometheus collector
reads too.

The page is a list of sections, each built by a function of SECTIONS from selectors; partner webhook
deliveries that fail are one of them, with one-click replay through workflows.webhooks.services.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin

from otc.admin import admin_link, badge, change_url
from otc.errors import DomainError
from workflows import selectors, services
from workflows.admin.outbox import DELIVERY_STATUS_COLORS, error_excerpt
from workflows.admin.webhooks import STATUS_COLORS as WEBHOOK_STATUS_COLORS
from workflows.admin.webhooks import replay_and_send
from workflows.models import (
    Delivery,
    DeliveryStatus,
    EventStatus,
    JobOutcome,
    OperationsView,
    OutboxEvent,
    WebhookDelivery,
)
from workflows.webhooks import selectors as webhook_selectors

VIEW_OUTBOX = "workflows.view_outboxevent"
RETRY_EVENT = "workflows.change_outboxevent"
RETRY_DELIVERY = "workflows.change_delivery"
REPLAY_WEBHOOK = "workflows.change_webhookdelivery"
LAG_WARNING = timedelta(minutes=5)
"""An outbox lag above this shows in orange (the operator guide's alert fires at the same age)."""
JOB_OUTCOME_COLORS = {JobOutcome.RUNNING: "info", JobOutcome.SUCCEEDED: "success", JobOutcome.FAILED: "danger"}
BROKER_STATES = {
    "reachable": ("Reachable", "success"),
    "unreachable": ("Unreachable", "danger"),
    "in_process": ("In-process", "info"),
    "not_measured": ("Not measured", "warning"),
}


@dataclass(frozen=True)
class Figure:
    """A headline number at the top of the page."""

    title: str
    value: str
    variant: str = ""


@dataclass(frozen=True)
class Section:
    """One table of the page: headers, rows of HTML-safe cells, and what to say when it is empty."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    empty: str = "Nothing to show."
    intro: str = ""


def duration_text(span: timedelta | None) -> str:
    """A span as an operator reads it: 0.4 s, 42 s, 3 min 20 s, 5 h 12 min, 2 d 3 h."""
    if span is None:
        return "-"
    seconds = span.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _retry_button(request: HttpRequest, url_name: str, pk: int, *, label: str = "Retry") -> str:
    return format_html(
        '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<button type="submit" class="text-primary-600 dark:text-primary-500 font-medium">{}</button></form>',
        reverse(f"admin:{url_name}", args=[pk]),
        get_token(request),
        label,
    )


def _outbox_list(**filters: str) -> str:
    return reverse("admin:workflows_outboxevent_changelist") + "?" + urlencode(filters)


def outbox_by_type(request: HttpRequest) -> Section:
    pending, failed = selectors.pending_by_type(), selectors.failed_by_type()

    def count(status: str, event_type: str, counts: dict[str, int]) -> str:
        number = counts.get(event_type, 0)
        if not number:
            return "0"
        return admin_link(_outbox_list(status__exact=status, event_type=event_type), str(number))

    return Section(
        key="outbox-by-type",
        title="Outbox by event type",
        headers=["Event type", "Pending", "Failed (given up)"],
        rows=[
            [event_type, count(EventStatus.PENDING, event_type, pending), count(EventStatus.FAILED, event_type, failed)]
            for event_type in sorted(pending.keys() | failed.keys())
        ],
        empty="No event is pending or failed.",
    )


def failed_handlers(request: HttpRequest) -> Section:
    may_retry = request.user.has_perm(RETRY_EVENT)
    return Section(
        key="failed-events",
        title="Failed handlers",
        intro="Events whose handlers failed on every attempt; the outbox gave up on them until retried.",
        headers=["Event", "Type", "Attempts", "Recorded", "Last error", ""],
        rows=[
            [
                admin_link(change_url(event), f"#{event.pk}"),
                event.event_type,
                str(event.attempts),
                _when(event.created_at),
                format_html('<span title="{}">{}</span>', event.last_error, error_excerpt(event.last_error)),
                _retry_button(request, "workflows_operations_retry_event", event.pk) if may_retry else "",
            ]
            for event in selectors.failed_events()
        ],
        empty="No handler has failed.",
    )


def failed_deliveries(request: HttpRequest) -> Section:
    may_retry = request.user.has_perm(RETRY_DELIVERY)
    return Section(
        key="failed-deliveries",
        title="Failed deliveries",
        intro="Deliveries backing off after a failed attempt, and those given up.",
        headers=["Delivery", "Channel", "Status", "Attempts", "Next attempt", "Last error", ""],
        rows=[
            [
                admin_link(change_url(delivery), f"{delivery.recipient}: {delivery.subject}"),
                delivery.get_channel_display(),
                badge(delivery.get_status_display(), DELIVERY_STATUS_COLORS.get(delivery.status, "")),
                str(delivery.attempts),
                _when(delivery.next_attempt_at),
                format_html('<span title="{}">{}</span>', delivery.last_error, error_excerpt(delivery.last_error)),
                _retry_button(request, "workflows_operations_retry_delivery", delivery.pk) if may_retry else "",
            ]
            for delivery in selectors.failed_deliveries()
        ],
        empty="No delivery has failed.",
    )


def failing_webhooks(request: HttpRequest) -> Section:
    may_replay = request.user.has_perm(REPLAY_WEBHOOK)
    return Section(
        key="failing-webhooks",
        title="Failing partner webhooks",
        intro="Webhook deliveries backing off after a failed attempt, and the dead letters.",
        headers=["Delivery", "Subscription", "Status", "Attempts", "Next attempt", "Last error", ""],
        rows=[
            [
                admin_link(change_url(delivery), f"#{delivery.pk} {delivery.event_type}"),
                delivery.subscription.url,
                badge(delivery.get_status_display(), WEBHOOK_STATUS_COLORS.get(delivery.status, "")),
                str(delivery.attempts),
                _when(delivery.next_attempt_at),
                format_html('<span title="{}">{}</span>', delivery.last_error, error_excerpt(delivery.last_error)),
                _retry_button(request, "workflows_operations_replay_webhook", delivery.pk, label="Replay")
                if may_replay
                else "",
            ]
            for delivery in webhook_selectors.failing_deliveries()[: selectors.RECENT_FAILURES]
        ],
        empty="No webhook delivery is failing.",
    )


def celery_queues(request: HttpRequest) -> Section:
    queues = selectors.queue_depths()
    label, variant = BROKER_STATES[queues.state]
    return Section(
        key="celery-queues",
        title="Celery queues",
        intro=format_html("Broker: {} {}", badge(label, variant), queues.detail),
        headers=["Queue", "Messages waiting"],
        rows=[[queue, str(length)] for queue, length in queues.lengths.items()],
        empty="The broker's queues cannot be measured now.",
    )


def scheduled_jobs(request: HttpRequest) -> Section:
    def status(job: selectors.ScheduledJobStatus) -> str:
        if job.last_run is None:
            return badge("Never ran", "warning")
        return badge("Late", "danger") if job.late else badge("On time", "success")

    return Section(
        key="scheduled-jobs",
        title="Scheduled jobs",
        intro="Late: not started for twice its interval (is beat running?).",
        headers=["Job", "Every", "Last started", "Outcome", "Duration", "Last success", "", "Last error"],
        rows=[
            [
                format_html("{}<br><span class='text-xs'>{}</span>", job.job, job.task),
                duration_text(job.interval),
                _when(job.last_run.started_at if job.last_run else None),
                badge(job.last_run.get_outcome_display(), JOB_OUTCOME_COLORS[job.last_run.outcome])
                if job.last_run
                else "-",
                duration_text(job.last_run.duration if job.last_run else None),
                _when(job.last_run.last_succeeded_at if job.last_run else None),
                status(job),
                error_excerpt(job.last_run.last_error) if job.last_run else "",
            ]
            for job in selectors.scheduled_jobs()
        ],
        empty="No job is scheduled (CELERY_BEAT_SCHEDULE is empty).",
    )


SECTIONS: list[Callable[[HttpRequest], Section]] = [
    outbox_by_type,
    failed_handlers,
    failed_deliveries,
    failing_webhooks,
    celery_queues,
    scheduled_jobs,
]


def headline_figures() -> list[Figure]:
    lag = selectors.outbox_lag()
    pending = sum(selectors.pending_by_type().values())
    failed = sum(selectors.failed_by_type().values())
    deliveries = selectors.deliveries_by_status_and_channel()
    failing = sum(
        n for (status, _), n in deliveries.items() if status in {DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP}
    )
    return [
        Figure(
            "Outbox lag",
            "none" if lag is None else duration_text(lag),
            "warning" if lag and lag > LAG_WARNING else "",
        ),
        Figure("Pending events", str(pending)),
        Figure("Failed events", str(failed), "danger" if failed else ""),
        Figure("Failing deliveries", str(failing), "danger" if failing else ""),
    ]


@admin.register(OperationsView)
class OperationsAdmin(ModelAdmin):
    """The page itself (the proxy's list) and its two retry buttons."""

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(VIEW_OUTBOX)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.changelist_view), name="workflows_operationsview_changelist"),
            path("retry-event/<int:event_id>/", view(self.retry_event_view), name="workflows_operations_retry_event"),
            path(
                "retry-delivery/<int:delivery_id>/",
                view(self.retry_delivery_view),
                name="workflows_operations_retry_delivery",
            ),
            path(
                "replay-webhook/<int:delivery_id>/",
                view(self.replay_webhook_view),
                name="workflows_operations_replay_webhook",
            ),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Operations",
            "figures": headline_figures(),
            "sections": [build(request) for build in SECTIONS],
        }
        return TemplateResponse(request, "admin/workflows/operations.html", context)

    @method_decorator(require_POST)
    def retry_event_view(self, request: HttpRequest, event_id: int) -> HttpResponse:
        if not request.user.has_perm(RETRY_EVENT):
            raise PermissionDenied
        event = get_object_or_404(OutboxEvent, pk=event_id)
        if services.retry_event(event=event):
            messages.success(request, f"Event #{event.pk} ({event.event_type}) is back in line for a worker.")
        else:
            messages.info(request, f"Event #{event.pk} ({event.event_type}) is already done: nothing to retry.")
        return HttpResponseRedirect(reverse("admin:workflows_operationsview_changelist"))

    @method_decorator(require_POST)
    def retry_delivery_view(self, request: HttpRequest, delivery_id: int) -> HttpResponse:
        if not request.user.has_perm(RETRY_DELIVERY):
            raise PermissionDenied
        delivery = get_object_or_404(Delivery, pk=delivery_id)
        if services.retry_delivery(delivery=delivery):
            messages.success(request, f"The delivery to {delivery.recipient} is back in line for a worker.")
        else:
            messages.info(request, f"The delivery to {delivery.recipient} is not failing: nothing to retry.")
        return HttpResponseRedirect(reverse("admin:workflows_operationsview_changelist"))

    @method_decorator(require_POST)
    def replay_webhook_view(self, request: HttpRequest, delivery_id: int) -> HttpResponse:
        if not request.user.has_perm(REPLAY_WEBHOOK):
            raise PermissionDenied
        delivery = get_object_or_404(WebhookDelivery, pk=delivery_id)
        try:
            replay_and_send(request, delivery)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Webhook delivery #{delivery.pk} is sent again now.")
        return HttpResponseRedirect(reverse("admin:workflows_operationsview_changelist"))
