"""Notification templates in the admin: the editor with the variables its key offers beside it, a
preview of the draft against a real past notification (in a new tab, nothing saved), the version
history; the suppression list; staff members' quiet hours and digest."""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.admin import ModelAdmin, TabularInline

from otc.admin import ServiceChangeFormMixin, ServiceRefused
from otc.audit import acting
from otc.errors import DomainError
from workflows.models import (
    Delivery,
    NotificationTemplate,
    NotificationTemplateVersion,
    StaffNotificationSettings,
    Suppression,
)
from workflows.models.templates import template_keys
from workflows.notifications import sandbox
from workflows.notifications.suppression import lift_suppression
from workflows.notifications.templates import (
    preview_notification_template,
    preview_sources,
    save_notification_template,
    template_variables,
)


class VersionInline(TabularInline):
    model = NotificationTemplateVersion
    fields = ["version", "is_active", "saved_by", "saved_at", "subject", "body_text"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    tab = True
    verbose_name_plural = "history"


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(ServiceChangeFormMixin, ModelAdmin):
    change_form_template = "admin/workflows/notificationtemplate/change_form.html"
    list_display = ["key", "channel", "language", "is_active", "version", "updated_by", "updated_at"]
    list_filter = ["channel", "language", "is_active", "key"]
    search_fields = ["key", "subject", "body_text"]
    fields = ["key", "channel", "language", "is_active", "subject", "body_text", "body_html"]
    inlines = [VersionInline]

    def save_model(self, request: HttpRequest, obj: NotificationTemplate, form, change: bool) -> None:
        try:
            save_notification_template(template=obj, actor=request.user)
        except DomainError as error:
            raise ServiceRefused(error) from error

    def _variables(self, key: str | None) -> list[tuple[str, list[str] | None]]:
        keys = [key] if key else [choice for choice, _label in template_keys()]
        listed = []
        for name in keys:
            schema = template_variables(key=name)
            listed.append((name, sandbox.variable_names(schema) if schema is not None else None))
        return listed

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        obj = self.get_object(request, object_id) if object_id else None
        key = obj.key if obj else request.GET.get("key")
        language = obj.language if obj else request.GET.get("language", "")
        extra_context = {
            **(extra_context or {}),
            "variables": self._variables(key),
            "preview_url": reverse("admin:workflows_notificationtemplate_preview"),
            "preview_sources": preview_sources(key=key, language=language) if key else [],
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        preview = path(
            "preview/", self.admin_site.admin_view(self.preview_view), name="workflows_notificationtemplate_preview"
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """Render the posted draft against a real notification of its key; saves nothing."""
        if request.method != "POST" or not self.has_view_permission(request):
            return HttpResponse(status=405 if request.method != "POST" else 403)
        object_id = request.POST.get("_template_id") or None
        obj = self.get_object(request, object_id) if object_id else None
        form = self.get_form(request, obj, change=obj is not None)(request.POST, instance=obj)
        preview, source = None, None
        if form.is_valid():
            draft = form.save(commit=False)
            source_id = request.POST.get("_preview_source")
            source = Delivery.objects.filter(pk=source_id, template_key=draft.key).first() if source_id else None
            preview = preview_notification_template(template=draft, source=source)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Preview of a notification template",
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/workflows/notificationtemplate/preview.html", context)


@admin.register(Suppression)
class SuppressionAdmin(ModelAdmin):
    list_display = ["address", "reason", "created_at", "detail"]
    list_filter = ["reason"]
    search_fields = ["address"]
    fields = ["address", "reason", "detail", "delivery", "created_at"]
    readonly_fields = fields
    actions = ["lift_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Suppression) -> None:
        lift_suppression(suppression=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for suppression in queryset:
            lift_suppression(suppression=suppression, actor=request.user)

    @admin.action(description="Lift the suppression (mail this address again)", permissions=["delete"])
    def lift_selected(self, request: HttpRequest, queryset) -> None:
        self.delete_queryset(request, queryset)
        messages.success(request, "The addresses will receive email again.")


@admin.register(StaffNotificationSettings)
class StaffNotificationSettingsAdmin(ModelAdmin):
    list_display = ["user", "time_zone", "quiet_hours_start", "quiet_hours_end", "daily_digest"]
    list_filter = ["daily_digest"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    fields = ["user", "time_zone", "quiet_hours_start", "quiet_hours_end", "daily_digest"]

    def save_model(self, request: HttpRequest, obj: StaffNotificationSettings, form, change: bool) -> None:
        with acting(request.user, "staff notification settings"):
            super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: StaffNotificationSettings) -> None:
        with acting(request.user, "staff notification settings"):
            super().delete_model(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = db_field.related_model.objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
