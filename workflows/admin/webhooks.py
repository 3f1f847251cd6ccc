"""Partner webhooks in the admin: subscriptions (created for an API key with the secret shown once,
edited, rotated, test-sent, disabled and enabled), the delivery log with each attempt, and the dead
letters with one-click and bulk replay. Every button calls workflows.webhooks.services."""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminEmailInputWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from otc.admin import (
    ReadOnlyInline,
    admin_link,
    badge,
    call_for_each,
    call_once,
    change_url,
    reason_field,
    service_form_page,
)
from otc.errors import DomainError
from otc.events import catalogue
from otc.forms import apply_domain_error
from otc.models import ApiKey
from workflows import tasks
from workflows.admin.outbox import ReadOnlyAdminMixin, error_excerpt
from workflows.models import (
    ALL_EVENTS,
    WebhookAttempt,
    WebhookDeadLetter,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSubscription,
)
from workflows.webhooks import services

STATUS_COLORS = {
    WebhookDeliveryStatus.PENDING: "info",
    WebhookDeliveryStatus.SENDING: "info",
    WebhookDeliveryStatus.DELIVERED: "success",
    WebhookDeliveryStatus.FAILED: "warning",
    WebhookDeliveryStatus.GIVEN_UP: "danger",
}


def event_type_choices() -> list[tuple[str, str]]:
    return [(ALL_EVENTS, "All events (present and future)")] + [
        (event_type, f"{event_type}: {event.summary()}") for event_type, event in catalogue().items()
    ]


class SubscriptionForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000, widget=UnfoldAdminTextInputWidget)
    event_types = forms.MultipleChoiceField(choices=event_type_choices, widget=UnfoldAdminCheckboxSelectMultipleWidget)
    description = forms.CharField(max_length=200, required=False, widget=UnfoldAdminTextInputWidget)
    contact_email = forms.EmailField(
        required=False, widget=UnfoldAdminEmailInputWidget, help_text="Told when the subscription is disabled."
    )


class SubscriptionCreateForm(SubscriptionForm):
    api_key = forms.ModelChoiceField(
        label="API key",
        queryset=ApiKey.objects.filter(revoked_at__isnull=True),
        widget=UnfoldAdminSelectWidget,
        help_text="The partner system the events are for.",
    )
    field_order = ["api_key", "url", "event_types", "description", "contact_email"]


class RotateForm(forms.Form):
    overlap_hours = forms.IntegerField(
        min_value=0,
        max_value=168,
        initial=24,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text="How long the current secret keeps signing beside the new one.",
    )


class DisableForm(forms.Form):
    reason = reason_field()


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration_ms", "remote_address", "response_status", "response_body", "error"]
    readonly_fields = fields


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ModelAdmin):
    list_display = ["url", "api_key", "event_list", "state", "consecutive_failures", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["api_key"]
    search_fields = ["url", "description", "api_key__name", "api_key__prefix"]
    ordering = ["-created_at"]
    fields = [
        "api_key",
        "url",
        "description",
        "event_list",
        "contact_email",
        "state",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "previous_secret_expires_at",
        "deliveries_link",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    actions_detail = ["edit", "test_send", "rotate", "disable", "enable"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_manage_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("workflows.change_webhooksubscription")

    @display(description="Event types")
    def event_list(self, subscription: WebhookSubscription) -> str:
        return "all" if subscription.receives_all_events else ", ".join(subscription.event_types)

    @display(description="Deliveries")
    def deliveries_link(self, subscription: WebhookSubscription) -> str:
        query = urlencode({"q": subscription.url})
        return admin_link(f"{reverse('admin:workflows_webhookdelivery_changelist')}?{query}", "Delivery log")

    @display(description="State")
    def state(self, subscription: WebhookSubscription) -> str:
        return badge("Active", "success") if subscription.is_active else badge("Disabled", "danger")

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SubscriptionCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                subscription, secret = services.create_subscription(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                return self._show_secret_once(request, subscription, secret, "created")
        return service_form_page(request, self, title="Add webhook subscription", form=form, submit_label="Subscribe")

    def _show_secret_once(self, request: HttpRequest, subscription, secret: str, what: str) -> TemplateResponse:
        """The only page the secret appears on; the response must not be cached anywhere."""
        context = {
            **self.admin_site.each_context(request),
            "title": f"Webhook subscription {what}",
            "opts": self.model._meta,
            "subscription": subscription,
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/workflows/webhooksubscription/secret.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private"
        return response

    def _subscription_or_redirect(self, request, object_id):
        subscription = self.get_object(request, object_id)
        if subscription is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return subscription, None

    @action(description="Edit", permissions=["manage"], url_path="edit", icon="edit")
    def edit(self, request, object_id):
        subscription, missing = self._subscription_or_redirect(request, object_id)
        if missing:
            return missing
        initial = {name: getattr(subscription, name) for name in SubscriptionForm.base_fields}
        form = SubscriptionForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.update_subscription(subscription=subscription, actor=request.user, **form.cleaned_data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Saved.")
                return HttpResponseRedirect(change_url(subscription))
        return service_form_page(
            request, self, title=f"Edit {subscription}", form=form, obj=subscription, submit_label="Save"
        )

    @action(description="Send a test event", permissions=["manage"], url_path="test-send", icon="send")
    def test_send(self, request, object_id):
        subscription, missing = self._subscription_or_redirect(request, object_id)
        if missing:
            return missing
        if request.method != "POST":
            return service_form_page(
                request,
                self,
                title=f"Send a test event to {subscription}?",
                form=forms.Form(),
                obj=subscription,
                intro="A signed webhook.test event goes out now, once; the answer is shown here and logged.",
                submit_label="Send test event",
            )
        delivery = services.queue_test_delivery(subscription=subscription, actor=request.user)
        result = services.send_webhook(delivery_id=delivery.pk)
        attempt = result.delivery.attempt_log.last() if result else None
        if attempt is not None and attempt.succeeded:
            messages.success(request, f"The endpoint answered {attempt.response_status} in {attempt.duration_ms} ms.")
        else:
            messages.error(request, f"The test delivery failed: {attempt.error if attempt else 'not sent'}")
        return HttpResponseRedirect(change_url(subscription))

    @action(description="Rotate secret", permissions=["manage"], url_path="rotate", icon="key")
    def rotate(self, request, object_id):
        subscription, missing = self._subscription_or_redirect(request, object_id)
        if missing:
            return missing
        form = RotateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            overlap = timedelta(hours=form.cleaned_data["overlap_hours"])
            secret = services.rotate_secret(subscription=subscription, actor=request.user, overlap=overlap)
            subscription.refresh_from_db()
            return self._show_secret_once(request, subscription, secret, "secret rotated")
        return service_form_page(
            request,
            self,
            title=f"Rotate the secret of {subscription}?",
            form=form,
            obj=subscription,
            intro="A new secret is shown once. During the overlap every delivery carries both signatures.",
            submit_label="Rotate secret",
        )

    @action(description="Disable", permissions=["manage"], url_path="disable", icon="block")
    def disable(self, request, object_id):
        subscription, missing = self._subscription_or_redirect(request, object_id)
        if missing:
            return missing
        form = DisableForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            call_once(
                request,
                lambda: services.disable_subscription(
                    subscription=subscription, reason=form.cleaned_data["reason"], actor=request.user
                ),
                done=f"Disabled {subscription}; its open deliveries are dead letters now.",
            )
            return HttpResponseRedirect(change_url(subscription))
        return service_form_page(
            request,
            self,
            title=f"Disable {subscription}?",
            form=form,
            obj=subscription,
            intro="No events are queued for it until it is enabled; open deliveries become dead letters.",
            submit_label="Disable",
            danger=True,
        )

    @action(description="Enable", permissions=["manage"], url_path="enable", icon="check_circle")
    def enable(self, request, object_id):
        subscription, missing = self._subscription_or_redirect(request, object_id)
        if missing:
            return missing
        if request.method == "POST":
            call_once(
                request,
                lambda: services.enable_subscription(subscription=subscription, actor=request.user),
                done=f"Enabled {subscription}.",
            )
            return HttpResponseRedirect(change_url(subscription))
        return service_form_page(
            request,
            self,
            title=f"Enable {subscription}?",
            form=forms.Form(),
            obj=subscription,
            intro="Events are delivered again from now on; replay the dead letters you still need.",
            submit_label="Enable",
        )


def replay_and_send(request, delivery: WebhookDelivery) -> None:
    """Replay (workflows.webhooks.services) and send it at once, rather than at the sweeper's next pass."""
    services.replay_delivery(delivery=delivery, actor=request.user)
    tasks.deliver_webhook.delay(delivery.pk)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The delivery log: every delivery with its attempts (response code, time taken, answer)."""

    list_display = [
        "event_type",
        "subscription",
        "status_badge",
        "attempts",
        "last_response_status",
        "next_attempt_at",
        "created_at",
        "error",
    ]
    list_filter = [("status", ChoicesDropdownFilter), "is_test"]
    list_filter_submit = True
    list_select_related = ["subscription"]
    search_fields = ["=idempotency_key", "event_type", "subscription__url"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-created_at"]
    fields = [
        "subscription",
        "event",
        "event_type",
        "handler",
        "webhook_id",
        "is_test",
        "status_badge",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "delivered_at",
        "given_up_at",
        "created_at",
        "last_response_status",
        "last_error",
        "body",
    ]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["replay"]
    actions_detail = ["replay_one"]

    def has_replay_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("workflows.change_webhookdelivery")

    @display(description="webhook-id")
    def webhook_id(self, delivery: WebhookDelivery) -> str:
        return delivery.message_id

    @display(description="Status", ordering="status")
    def status_badge(self, delivery: WebhookDelivery) -> str:
        return badge(delivery.get_status_display(), STATUS_COLORS.get(delivery.status, ""))

    @display(description="Last error")
    def error(self, delivery: WebhookDelivery) -> str:
        return error_excerpt(delivery.last_error)

    @action(description="Replay selected", permissions=["replay"])
    def replay(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.filter(status__in=services.REPLAYABLE_STATUSES),
            lambda delivery: replay_and_send(request, delivery),
            done="Replaying {count} delivery(ies) now, with their original webhook-id.",
        )

    @action(description="Replay", permissions=["replay"], url_path="replay", icon="replay")
    def replay_one(self, request, object_id):
        delivery = self.get_object(request, object_id)
        if delivery is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            call_once(request, lambda: replay_and_send(request, delivery), done=f"Replaying {delivery} now.")
            return HttpResponseRedirect(change_url(delivery))
        return service_form_page(
            request,
            self,
            title=f"Replay {delivery}?",
            form=forms.Form(),
            obj=delivery,
            intro=f"Attempts so far: {delivery.attempts}. Last error: {error_excerpt(delivery.last_error) or '-'}",
            submit_label="Replay",
        )


@admin.register(WebhookDeadLetter)
class WebhookDeadLetterAdmin(WebhookDeliveryAdmin):
    """Deliveries given up after the last retry (or when their subscription was disabled), most recent
    first, for replay one by one or in bulk."""

    list_display = ["event_type", "subscription", "attempts", "last_response_status", "given_up_at", "error"]
    list_filter = ["is_test"]
    ordering = ["-given_up_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=WebhookDeliveryStatus.GIVEN_UP)
