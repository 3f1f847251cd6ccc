"""The outbox in the admin: events with their attempts and last error, the handler runs and the
deliveries (emails) they queued. Everything is read-only; the one action, retry, calls workflows.services."""

import json

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from otc.admin import badge, call_for_each, call_once, change_url, service_form_page
from otc.events import catalogue
from workflows import services
from workflows.models import Delivery, DeliveryStatus, EventStatus, HandlerRun, OutboxEvent

EVENT_STATUS_COLORS = {EventStatus.PENDING: "info", EventStatus.DONE: "success", EventStatus.FAILED: "danger"}
DELIVERY_STATUS_COLORS = {
    DeliveryStatus.PENDING: "info",
    DeliveryStatus.SENDING: "info",
    DeliveryStatus.SENT: "success",
    DeliveryStatus.FAILED: "warning",
    DeliveryStatus.GIVEN_UP: "danger",
}
ERROR_EXCERPT = 80


def error_excerpt(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return first_line if len(first_line) <= ERROR_EXCERPT else first_line[: ERROR_EXCERPT - 1] + "…"


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EventTypeFilter(admin.SimpleListFilter):
    """The catalogue's event types, without a DISTINCT over the whole outbox table."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(event_type, event_type) for event_type in catalogue()]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class HandlerRunInline(ReadOnlyAdminMixin, TabularInline):
    model = HandlerRun
    fields = ["handler", "completed_at"]
    readonly_fields = fields
    extra = 0
    tab = True


class DeliveryInline(ReadOnlyAdminMixin, TabularInline):
    model = Delivery
    fields = ["recipient", "subject", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    tab = True
    show_change_link = True


class RetryActionsMixin:
    """Retry from the list (the selected rows) and from a row's own page, through `retry_row`, which
    calls the app's retry service; rows already done are left alone by that service."""

    actions = ["retry"]
    actions_detail = ["retry_one"]
    retry_permission: str
    retryable_statuses: list[str]

    def retry_row(self, obj) -> None:
        raise NotImplementedError

    def has_retry_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(self.retry_permission)

    @action(description="Retry selected", permissions=["retry"])
    def retry(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.filter(status__in=self.retryable_statuses),
            self.retry_row,
            done="Put {count} row(s) back in line; the outbox sweeper takes them within seconds.",
        )

    @action(description="Retry", permissions=["retry"], url_path="retry", icon="replay")
    def retry_one(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            call_once(request, lambda: self.retry_row(obj), done=f"{obj} is back in line.")
            return HttpResponseRedirect(change_url(obj))
        return service_form_page(
            request,
            self,
            title=f"Retry {obj}?",
            form=forms.Form(),
            obj=obj,
            intro=f"Attempts so far: {obj.attempts}. Last error: {error_excerpt(obj.last_error) or '-'}",
            submit_label="Retry",
        )


@admin.register(OutboxEvent)
class OutboxEventAdmin(RetryActionsMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["id", "event_type", "version", "status_badge", "attempts", "available_at", "created_at", "error"]
    list_filter = [("status", ChoicesDropdownFilter), EventTypeFilter]
    list_filter_submit = True
    search_fields = ["=id"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-created_at"]
    fields = [
        "event_type",
        "version",
        "status_badge",
        "attempts",
        "available_at",
        "created_at",
        "processed_at",
        "rule_chain",
        "last_error_text",
        "payload_json",
    ]
    readonly_fields = fields
    inlines = [HandlerRunInline, DeliveryInline]
    retry_permission = "workflows.change_outboxevent"
    retryable_statuses = [EventStatus.PENDING, EventStatus.FAILED]

    def retry_row(self, event: OutboxEvent) -> None:
        services.retry_event(event=event)

    @display(description="Status", ordering="status")
    def status_badge(self, event: OutboxEvent) -> str:
        return badge(event.get_status_display(), EVENT_STATUS_COLORS.get(event.status, ""))

    @display(description="Last error")
    def error(self, event: OutboxEvent) -> str:
        return error_excerpt(event.last_error)

    @display(description="Last error")
    def last_error_text(self, event: OutboxEvent) -> str:
        return format_html('<pre class="whitespace-pre-wrap text-xs">{}</pre>', event.last_error or "-")

    @display(description="Payload")
    def payload_json(self, event: OutboxEvent) -> str:
        text = json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="whitespace-pre-wrap text-xs">{}</pre>', text)


@admin.register(Delivery)
class DeliveryAdmin(RetryActionsMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "recipient",
        "subject",
        "channel",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "error",
    ]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        ("outcome", ChoicesDropdownFilter),
    ]
    list_filter_submit = True
    search_fields = ["recipient", "subject", "=idempotency_key", "=template_key"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-created_at"]
    fields = [
        "event",
        "handler",
        "channel",
        "recipient",
        "subject",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "created_at",
        "idempotency_key",
        "last_error",
        "template_key",
        "template",
        "template_version",
        "language",
        "outcome",
        "outcome_reason",
        "outcome_at",
        "provider_message_id",
        "body_text",
    ]
    readonly_fields = fields
    retry_permission = "workflows.change_delivery"
    retryable_statuses = [DeliveryStatus.FAILED, DeliveryStatus.GIVEN_UP]

    def retry_row(self, delivery: Delivery) -> None:
        services.retry_delivery(delivery=delivery)

    @display(description="Status", ordering="status")
    def status_badge(self, delivery: Delivery) -> str:
        return badge(delivery.get_status_display(), DELIVERY_STATUS_COLORS.get(delivery.status, ""))

    @display(description="Last error")
    def error(self, delivery: Delivery) -> str:
        return error_excerpt(delivery.last_error)


@admin.register(HandlerRun)
class HandlerRunAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["event", "handler", "completed_at"]
    list_select_related = ["event"]
    search_fields = ["handler", "=event__id"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-completed_at"]
    fields = ["event", "handler", "completed_at"]
    readonly_fields = fields
