"""Automation rules in the admin: the rules (edited as JSON with a reference of the chosen event's
fields, operators and actions beside them, checked on save), their version history, a dry run of a
saved rule or of the edited draft, the run log (by rule, status or customer: the customer's
timeline), and the delayed steps waiting to resume, which staff can cancel. Saving goes through
workflows.rules.services, which keeps every version."""

import json

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from otc.admin import badge, call_for_each, call_once, change_url, service_form_page
from otc.events import catalogue
from workflows.admin.outbox import ReadOnlyAdminMixin
from workflows.models import (
    AutomationRule,
    AutomationRuleVersion,
    DelayedStep,
    DelayedStepStatus,
    RuleRun,
    RuleRunStatus,
)
from workflows.rules.actions import ACTIONS
from workflows.rules.conditions import OPERATORS, operators_for
from workflows.rules.dry_run import DRY_RUN_DAYS, dry_run
from workflows.rules.fields import fields_for
from workflows.rules.runner import cancel_delayed_step
from workflows.rules.services import BUILTIN_EDITABLE, create_rule, rule_problems, update_rule

RUN_STATUS_COLORS = {
    RuleRunStatus.DONE: "success",
    RuleRunStatus.NOT_MATCHED: "",
    RuleRunStatus.WAITING: "info",
    RuleRunStatus.CANCELLED: "warning",
    RuleRunStatus.FAILED: "danger",
    RuleRunStatus.LOOP_STOPPED: "warning",
}
CONDITIONS_EXAMPLE = (
    '{"all": [{"field": "customer.country", "op": "eq", "value": "DE"}, '
    '{"field": "event.gross_total", "op": "gt", "value": "10000"}]}'
)
ACTIONS_EXAMPLE = '[{"type": "notify", "template": "order_confirmation", "to": "sales_rep"}]'


def reference_html(event_type: str | None) -> str:
    """The fields a rule on `event_type` may test (with their operators), and every action."""
    if not event_type or event_type not in catalogue():
        return "Choose the event type and save (or open this page with ?event_type=...) to list its fields."
    rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (field.name, field.type, ", ".join(operators_for(field)), field.description + _choices(field.choices))
            for field in fields_for(event_type).values()
        ),
    )
    action_rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
        (
            (
                action.type,
                action.label,
                "; ".join(f"{p.name}{'' if p.required else ' (optional)'}: {p.help}" for p in action.params) or "-",
            )
            for action in ACTIONS.values()
        ),
    )
    operators = ", ".join(f"{op} ({text})" for op, text in OPERATORS.items())
    return format_html(
        "<p>Fields of <code>{}</code>:</p><table class='text-xs'><tr><th>Field</th><th>Type</th><th>Operators</th>"
        "<th>About</th></tr>{}</table><p>Operators: {}. Groups: all, any, not.</p>"
        "<p>Actions (in order; a wait re-checks the conditions before the next):</p>"
        "<table class='text-xs'><tr><th>Type</th><th>Does</th><th>Parameters</th></tr>{}</table>",
        event_type,
        rows,
        operators,
        action_rows,
    )


def _choices(choices: tuple[str, ...]) -> str:
    if not choices:
        return ""
    return f" (one of {', '.join(choices[:15])}{' ...' if len(choices) > 15 else ''})"


class RuleForm(forms.ModelForm):
    event_type = forms.ChoiceField(choices=[])
    conditions = forms.JSONField(
        required=False, widget=forms.Textarea(attrs={"rows": 8}), help_text=f"Example: {CONDITIONS_EXAMPLE}"
    )
    actions = forms.JSONField(
        required=False, widget=forms.Textarea(attrs={"rows": 8}), help_text=f"Example: {ACTIONS_EXAMPLE}"
    )
    dry_run_only = forms.BooleanField(
        required=False,
        label="Dry run this draft instead of saving",
        help_text=f"Shows what the rule as edited would have done over the last {DRY_RUN_DAYS} days; saves nothing.",
    )

    class Meta:
        model = AutomationRule
        fields = ["name", "description", "event_type", "conditions", "actions", "active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = [(t, t) for t in catalogue()]
        if self.instance.is_builtin:
            for name in set(self.fields) - {*BUILTIN_EDITABLE, "dry_run_only"}:
                self.fields[name].disabled = True

    def clean(self) -> dict:
        data = super().clean()
        if "event_type" not in data:
            return data
        problems = rule_problems(
            event_type=data["event_type"],
            conditions=data.get("conditions") or {},
            actions=data.get("actions") if data.get("actions") is not None else [],
            builtin=self.instance.is_builtin,
        )
        for name, messages in problems.items():
            for message in messages:
                self.add_error(name, message)
        return data


class VersionInline(ReadOnlyAdminMixin, TabularInline):
    model = AutomationRuleVersion
    fields = ["version", "changed_by", "changed_at", "active", "conditions", "actions"]
    readonly_fields = fields
    extra = 0
    tab = True
    verbose_name_plural = "version history"


@admin.register(AutomationRule)
class AutomationRuleAdmin(ModelAdmin):
    form = RuleForm
    list_display = ["name", "event_type", "active_badge", "kind", "version", "updated_at", "runs_link"]
    list_filter = ["active", ("event_type", ChoicesDropdownFilter)]
    search_fields = ["name", "event_type", "builtin_handler"]
    ordering = ["event_type", "name"]
    readonly_fields = ["version", "builtin_handler", "created_by", "updated_by", "updated_at", "reference", "runs_link"]
    inlines = [VersionInline]
    actions_detail = ["dry_run_saved"]

    def get_fieldsets(self, request, obj=None):
        record = ["version", "builtin_handler", "created_by", "updated_by", "updated_at", "runs_link"]
        return [
            ("Rule", {"fields": ["name", "description", "event_type", "active"]}),
            ("Conditions and actions", {"fields": ["conditions", "actions", "dry_run_only"]}),
            ("Reference", {"fields": ["reference"], "classes": ["collapse"]}),
            ("Record", {"fields": record if obj else []}),
        ]

    def get_changeform_initial_data(self, request) -> dict:
        return {"conditions": {}, "actions": [], **super().get_changeform_initial_data(request)}

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.is_builtin  # built-in rules are switched off, never deleted

    @display(description="Active", ordering="active")
    def active_badge(self, rule: AutomationRule) -> str:
        return badge("On", "success") if rule.active else badge("Off")

    @display(description="Kind")
    def kind(self, rule: AutomationRule) -> str:
        return f"built-in: {rule.builtin_handler}" if rule.is_builtin else "rule"

    @display(description="Runs")
    def runs_link(self, rule: AutomationRule) -> str:
        url = reverse("admin:workflows_rulerun_changelist") + f"?rule__id__exact={rule.pk}"
        return format_html('<a href="{}">Run log</a>', url)

    @display(description="Fields, operators and actions")
    def reference(self, rule: AutomationRule | None) -> str:
        return reference_html(getattr(rule, "event_type", None) or getattr(self, "_requested_event_type", None))

    def add_view(self, request, form_url="", extra_context=None):
        self._requested_event_type = request.GET.get("event_type")
        return super().add_view(request, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and request.POST.get("dry_run_only"):
            obj = self.get_object(request, object_id) if object_id else None
            form = self.get_form(request, obj, change=obj is not None)(request.POST, instance=obj)
            if form.is_valid():
                data = form.cleaned_data
                title = f"Dry run of the draft of {data['name'] or 'a new rule'}"
                return self._dry_run_page(
                    request, obj, data["event_type"], data["conditions"] or {}, data["actions"] or [], title
                )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        data = {name: form.cleaned_data[name] for name in RuleForm.Meta.fields if name in form.cleaned_data}
        data["conditions"] = data.get("conditions") or {}
        if data.get("actions") is None:
            data["actions"] = []
        if change:
            saved = update_rule(rule=obj, actor=request.user, data=data)
        else:
            saved = create_rule(actor=request.user, **data)
        obj.__dict__.update(saved.__dict__)

    @action(description="Dry run", url_path="dry-run", icon="science")
    def dry_run_saved(self, request, object_id):
        rule = self.get_object(request, object_id)
        if rule is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self._dry_run_page(request, rule, rule.event_type, rule.conditions, rule.actions, f"Dry run of {rule}")

    def _dry_run_page(self, request, rule, event_type, conditions, actions, title) -> TemplateResponse:
        report = dry_run(
            event_type=event_type, conditions=conditions, actions=actions, rule_id=getattr(rule, "pk", None)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "original": rule,
            "report": report,
            "builtin": getattr(rule, "is_builtin", False),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/workflows/automationrule/dry_run.html", context)


def _json_block(value) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return format_html('<pre class="whitespace-pre-wrap text-xs">{}</pre>', text)


@admin.register(RuleRun)
class RuleRunAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["created_at", "rule", "rule_version", "event", "customer", "status_badge", "summary"]
    list_filter = [
        ("rule", RelatedDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("customer", AutocompleteSelectFilter),
    ]
    list_filter_submit = True
    list_select_related = ["rule", "event", "customer"]
    search_fields = ["=event__id", "rule__name"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-created_at", "-pk"]
    fields = [
        "rule",
        "rule_version",
        "event",
        "customer",
        "status_badge",
        "matched",
        "error",
        "trace_json",
        "actions_json",
    ]
    readonly_fields = fields

    @display(description="Status", ordering="status")
    def status_badge(self, run: RuleRun) -> str:
        return badge(run.get_status_display(), RUN_STATUS_COLORS.get(run.status, ""))

    @display(description="Actions")
    def summary(self, run: RuleRun) -> str:
        if run.error:
            return run.error[:120]
        return "; ".join(f"{a.get('status')}: {a.get('summary', a.get('type'))}" for a in run.actions)[:200] or "-"

    @display(description="Conditions' trace")
    def trace_json(self, run: RuleRun) -> str:
        return _json_block(run.trace)

    @display(description="Actions taken")
    def actions_json(self, run: RuleRun) -> str:
        return _json_block(run.actions)


@admin.register(DelayedStep)
class DelayedStepAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["run_rule", "run_event", "customer", "resume_at", "next_action", "status_badge", "note"]
    list_filter = [("status", ChoicesDropdownFilter)]
    list_select_related = ["run__rule", "run__event", "run__customer"]
    ordering = ["resume_at"]
    fields = ["run", "next_action", "resume_at", "status_badge", "resolved_at", "note"]
    readonly_fields = fields
    actions = ["cancel"]
    actions_detail = ["cancel_one"]

    def has_cancel_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("workflows.change_automationrule")

    @display(description="Rule")
    def run_rule(self, step: DelayedStep) -> str:
        return str(step.run.rule)

    @display(description="Event")
    def run_event(self, step: DelayedStep) -> str:
        return str(step.run.event)

    @display(description="Customer")
    def customer(self, step: DelayedStep) -> str:
        return str(step.run.customer or "-")

    @display(description="Status", ordering="status")
    def status_badge(self, step: DelayedStep) -> str:
        colors = {DelayedStepStatus.PENDING: "info", DelayedStepStatus.RESUMED: "success"}
        return badge(step.get_status_display(), colors.get(step.status, "warning"))

    @action(description="Cancel selected waiting steps", permissions=["cancel"])
    def cancel(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.filter(status=DelayedStepStatus.PENDING),
            lambda step: cancel_delayed_step(step=step, actor=request.user),
            done="Cancelled {count} step(s).",
        )

    @action(description="Cancel", permissions=["cancel"], url_path="cancel", icon="cancel")
    def cancel_one(self, request, object_id):
        step = self.get_object(request, object_id)
        if step is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            call_once(request, lambda: cancel_delayed_step(step=step, actor=request.user), done=f"{step} cancelled.")
            return HttpResponseRedirect(change_url(step))
        return service_form_page(
            request,
            self,
            title=f"Cancel {step}?",
            form=forms.Form(),
            obj=step,
            intro="The rule's remaining actions for this event will not run; the run log says who cancelled.",
            submit_label="Cancel the step",
            danger=True,
        )
