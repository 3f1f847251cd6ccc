"""The outbox in the admin: events with their attempts and last error, the handler runs and the
emails they queued. Everything is read-only; the one action, retry, calls workflows.services."""

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
from workflows.models import EventStatus, HandlerRun, Notification, NotificationStatus, OutboxEvent

EVENT_STATUS_COLORS = {EventStatus.PENDING: "info", EventStatus.DONE: "success", EventStatus.FAILED: "danger"}
NOTIFICATION_STATUS_COLORS = {
    NotificationStatus.QUEUED: "info",
    NotificationStatus.SENT: "success",
    NotificationStatus.FAILED: "danger",
}
ERROR_EXCERPT = 80


def _excerpt(text: str) -> str:
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


class NotificationInline(ReadOnlyAdminMixin, TabularInline):
    model = Notification
    fields = ["recipient", "subject", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    tab = True
    show_change_link = True


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, ModelAdmin):
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
        "last_error_text",
        "payload_json",
    ]
    readonly_fields = fields
    inlines = [HandlerRunInline, NotificationInline]
    actions = ["retry"]
    actions_detail = ["retry_one"]

    def has_retry_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("workflows.change_outboxevent")

    @display(description="Status", ordering="status")
    def status_badge(self, event: OutboxEvent) -> str:
        return badge(event.get_status_display(), EVENT_STATUS_COLORS.get(event.status, ""))

    @display(description="Last error")
    def error(self, event: OutboxEvent) -> str:
        return _excerpt(event.last_error)

    @display(description="Last error")
    def last_error_text(self, event: OutboxEvent) -> str:
        return format_html('<pre class="whitespace-pre-wrap text-xs">{}</pre>', event.last_error or "-")

    @display(description="Payload")
    def payload_json(self, event: OutboxEvent) -> str:
        text = json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="whitespace-pre-wrap text-xs">{}</pre>', text)

    @action(description="Retry selected events", permissions=["retry"])
    def retry(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.exclude(status=EventStatus.DONE),
            lambda event: services.retry_event(event=event),
            done="Put {count} event(s) back in line; the outbox sweeper dispatches them within seconds.",
        )

    @action(description="Retry", permissions=["retry"], url_path="retry", icon="replay")
    def retry_one(self, request, object_id):
        event = self.get_object(request, object_id)
        if event is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            call_once(request, lambda: services.retry_event(event=event), done=f"{event} is back in line.")
            return HttpResponseRedirect(change_url(event))
        return service_form_page(
            request,
            self,
            title=f"Retry {event}?",
            form=forms.Form(),
            obj=event,
            intro=f"Attempts so far: {event.attempts}. Last error: {_excerpt(event.last_error) or '-'}",
            submit_label="Retry",
        )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["recipient", "subject", "status_badge", "attempts", "sent_at", "error", "created_at"]
    list_filter = [("status", ChoicesDropdownFilter)]
    list_filter_submit = True
    search_fields = ["recipient", "subject"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-created_at"]
    fields = [
        "event",
        "handler",
        "recipient",
        "subject",
        "status_badge",
        "attempts",
        "sent_at",
        "created_at",
        "last_error",
        "body_text",
    ]
    readonly_fields = fields

    @display(description="Status", ordering="status")
    def status_badge(self, notification: Notification) -> str:
        return badge(notification.get_status_display(), NOTIFICATION_STATUS_COLORS.get(notification.status, ""))

    @display(description="Last error")
    def error(self, notification: Notification) -> str:
        return _excerpt(notification.last_error)


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
