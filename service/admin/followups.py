"""Follow-up tasks in the admin: everyone's list opens on "my follow-ups" (open ones assigned to the
signed-in user); done through the service, which records who and when."""

from django.contrib import admin
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from otc.admin import badge, call_for_each
from service.models import FollowUpTask
from service.services.followups import complete_follow_up


class MineFilter(admin.SimpleListFilter):
    """Defaults to the signed-in user's open follow-ups; "everyone" shows all."""

    title = "whose"
    parameter_name = "whose"

    def lookups(self, request, model_admin):
        return [("mine", "My open follow-ups"), ("open", "All open"), ("all", "Everyone, done too")]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "mine") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "mine"
        if value == "mine":
            return queryset.filter(assignee=request.user, done_at__isnull=True)
        if value == "open":
            return queryset.filter(done_at__isnull=True)
        return queryset


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ModelAdmin):
    list_display = ["title", "customer", "assignee", "due_on", "state", "source"]
    list_filter = [MineFilter, "due_on"]
    list_select_related = ["customer", "assignee"]
    search_fields = ["title", "customer__number", "customer__legal_name"]
    autocomplete_fields = ["customer"]
    fields = ["title", "customer", "assignee", "due_on", "note", "source", "created_by", "created_at", "done_at"]
    readonly_fields = ["source", "created_by", "created_at", "done_at"]
    actions = ["mark_done"]

    @display(description="State")
    def state(self, task: FollowUpTask) -> str:
        return badge("Done", "success") if task.is_done else badge("Open", "info")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @action(description="Mark as done")
    def mark_done(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.filter(done_at__isnull=True),
            lambda task: complete_follow_up(task=task, actor=request.user),
            done="{count} follow-up(s) done.",
        )
