"""The kernel's admin: staff accounts, groups and partner API keys, plus the few helpers every app's
admin uses to run services from forms and actions.

Admin classes stay thin: a form collects input, a service validates and writes with the signed-in
user as actor, and a refused service call (a DomainError) becomes form errors or an error message
with nothing written.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, PaginationInlineFormSet, UserChangeForm, UserCreationForm
from unfold.paginator import InfinitePaginator
from unfold.views import ChangeList
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSplitDateTimeWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from otc.audit import history_of
from otc.audit_trail import Subject, audit_entries
from otc.errors import DomainError
from otc.forms import apply_domain_error
from otc.models import API_SCOPES, ApiKey, ExchangeRate, User
from otc.search import SearchSpec, indexed_search
from otc.services import create_api_key, revoke_api_key

# --------------------------------------------------------------------------------------------------
# Helpers for every app's admin
# --------------------------------------------------------------------------------------------------


class ServiceRefused(Exception):
    """Raised from save_model/save_formset when a service refuses; the admin's transaction rolls
    back and ServiceChangeFormMixin shows the same POST again with the error attached."""

    def __init__(self, error: DomainError, *, prefix: str | None = None, index: int | None = None):
        super().__init__(error.message)
        self.error, self.prefix, self.index = error, prefix, index


class ServiceChangeFormMixin:
    """For ModelAdmins whose save_model/save_formset call services.

    Django runs the whole change form in one transaction. When a service refuses, the exception
    leaves that transaction (nothing is written) and the form is validated once more with the
    service's error added, so the user sees the error at the field it concerns.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request.service_refusal = refused
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_changeform_initial_data(self, request) -> dict:
        """Values in the URL prefill the add form (?customer=12, as the customer 360's links pass); one
        that cannot name a related row (?customer=abc) is left out instead of failing the page."""
        initial = super().get_changeform_initial_data(request)
        related = {field.name for field in self.opts.get_fields() if field.many_to_one or field.one_to_one}
        return {name: value for name, value in initial.items() if name not in related or str(value).strip().isdigit()}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refused = getattr(request, "service_refusal", None)
        if refused is None or refused.prefix is not None:
            return form_class
        error = refused.error

        def clean(form):
            cleaned = super(refusing, form).clean()
            apply_domain_error(form, error)
            return cleaned

        refusing = type(form_class.__name__, (form_class,), {"clean": clean})
        return refusing


class DetailActionsByState:
    """A change form offers only the actions its object's state allows: no Issue on an issued invoice,
    no Confirm on a shipped order, no Approve on a decided request. `detail_action_states` maps an
    action (its method's name) to the owning app's rule for it; actions not named there depend on
    permissions only. The services refuse a forbidden action anyway; this keeps it off the screen."""

    detail_action_states: dict[str, Callable[[Any], bool]] = {}

    def get_actions_detail(self, request: HttpRequest, object_id) -> list:
        actions = super().get_actions_detail(request, object_id)
        obj = self.get_object(request, unquote(str(object_id)))
        if obj is None:
            return actions
        return [action for action in actions if self.detail_action_states.get(action.method.__name__, _always)(obj)]


def _always(obj: Any) -> bool:
    return True


class ServiceInlineFormSet(PaginationInlineFormSet):
    """Inline formset that can carry a refused service call back to the row it came from."""

    service_error: DomainError | None = None
    service_error_index: int | None = None

    def clean(self):
        super().clean()
        if self.service_error is None:
            return
        index = self.service_error_index
        form = self.forms[index] if index is not None and 0 <= index < len(self.forms) else None
        if form is None or (self.can_delete and self._should_delete_form(form)):
            # A refused removal (or a row we cannot point at): the error goes above the rows.
            raise ValidationError(self.service_error.message)
        apply_domain_error(form, self.service_error)


class ServiceInlineMixin:
    """For inlines of a ServiceChangeFormMixin admin: their rows are saved by services too."""

    formset = ServiceInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset_class = super().get_formset(request, obj, **kwargs)
        refused = getattr(request, "service_refusal", None)
        if refused is None or refused.prefix != formset_class.get_default_prefix():
            return formset_class
        attrs = {"service_error": refused.error, "service_error_index": refused.index}
        return type(formset_class.__name__, (formset_class,), attrs)


def service_form_page(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    title: str,
    form: forms.BaseForm,
    submit_label: str,
    obj: Any = None,
    intro: str = "",
    objects: Iterable[Any] = (),
    action_name: str = "",
    cancel_url: str = "",
    danger: bool = False,
) -> TemplateResponse:
    """One page for every 'ask, then call a service' step: detail actions, bulk actions, add forms.

    With `action_name`, the page re-posts a changelist bulk action for `objects`.
    """
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "app_label": opts.app_label,
        "original": obj,
        "form": form,
        "submit_label": submit_label,
        "intro": intro,
        "objects": list(objects),
        "action_name": action_name,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "cancel_url": cancel_url or _default_cancel_url(model_admin, obj),
        "danger": danger,
        "media": model_admin.media + form.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/service_form.html", context)


def _default_cancel_url(model_admin: admin.ModelAdmin, obj: Any) -> str:
    opts = model_admin.model._meta
    if obj is not None and getattr(obj, "pk", None) is not None:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def reason_field(label: str = "Reason", *, required: bool = True, max_length: int = 300) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=required, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3})
    )


class ReasonForm(forms.Form):
    """Holds, blocks, rejections: the reason goes into the audit trail and the emails that follow."""

    reason = reason_field()


class OptionalReasonForm(forms.Form):
    reason = reason_field(required=False)


def bulk_with_reason(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset,
    *,
    action_name: str,
    title: str,
    submit_label: str,
    service: Callable[[Any, str], Any],
    done: str,
    intro: str,
    danger: bool = False,
):
    """A bulk action that asks for a reason first; its submit (with "apply") runs the service per object."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        call_for_each(request, queryset, lambda obj: service(obj, form.cleaned_data["reason"]), done=done)
        return None
    return service_form_page(
        request,
        model_admin,
        title=title,
        form=form,
        objects=queryset,
        action_name=action_name,
        submit_label=submit_label,
        intro=intro,
        danger=danger,
    )


def call_for_each(request: HttpRequest, objects: Iterable[Any], service: Callable[[Any], Any], *, done: str) -> int:
    """Run a service per selected object, each in its own transaction; report successes and refusals.

    `done` is a message with a `{count}` placeholder. Returns how many succeeded.
    """
    succeeded = 0
    for obj in objects:
        try:
            service(obj)
        except DomainError as error:
            messages.error(request, f"{obj}: {error.message}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, done.format(count=succeeded))
    return succeeded


def call_once(request: HttpRequest, service: Callable[[], Any], *, done: str) -> bool:
    """Run one service call; a refusal becomes an error message. Returns whether it succeeded."""
    try:
        service()
    except DomainError as error:
        messages.error(request, error.message)
        return False
    messages.success(request, done)
    return True


class AuditHistory:
    """History shows the audit trail (who, when, before and after, why) of the record and of the rows
    that reference it, instead of Django's admin log, which the services do not write."""

    history_order: Sequence[str] = ()  # models ("app.Model") in the order one transaction's changes show
    history_subjects: Mapping[str, Subject] = {}
    history_limit = 200

    def history_events(self, obj: Any) -> QuerySet:
        return history_of(obj)[: self.history_limit]

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {obj}",
            "opts": self.opts,
            "original": obj,
            "entries": audit_entries(
                self.history_events(obj), order=self.history_order, subjects=self.history_subjects
            ),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit_history.html", context)


# Deep pages read and skip every row before them (OFFSET): lists page this far, then ask for a filter.
MAX_LIST_PAGES = 100


class BoundedChangeList(ChangeList):
    """A list that stays fast at a million rows: pages stop at MAX_LIST_PAGES with a message saying how
    to reach the rest. (Such lists take a date range filter, not a date hierarchy: its years are a
    DISTINCT over the whole table.)"""

    def get_results(self, request):
        if self.page_num > MAX_LIST_PAGES:
            messages.warning(
                request,
                f"Lists page up to page {MAX_LIST_PAGES}; this is the last. Narrow the list with a filter or "
                "a search (or change the sort) to reach the rows after it.",
            )
            self.page_num = MAX_LIST_PAGES
        super().get_results(request)


class IndexedSearch:
    """Admin list search as `search_spec` says (otc.search): every way a field is searched has its
    index, so a number typed whole finds its row in milliseconds among a million. `search_fields`
    stays declared: it is what shows the search box."""

    search_spec: SearchSpec

    def get_search_results(self, request, queryset, search_term):
        return indexed_search(queryset, search_term, self.search_spec), False

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList


class DocumentAdmin(AuditHistory, ModelAdmin):
    """Documents and records that only services write (issued invoices, payments, bank statements):
    shown, never changed or deleted here; long lists page without a full count. Whether one may be
    added (through a service's add view) is the subclass's to say."""

    show_full_result_count = False
    paginator = InfinitePaginator

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyModelAdmin(DocumentAdmin):
    """Rows that only services write (or nobody, once written): shown, never added here either."""

    def has_add_permission(self, request) -> bool:
        return False


class ReadOnlyInline(TabularInline):
    """Related rows shown on a read-only page, in a tab."""

    extra = 0
    tab = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def admin_link(url: str, text: str) -> str:
    """A link to another admin page, styled like the theme's."""
    return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, text)


def money_text(amount, currency: str) -> str:
    """An amount as finance reads it in lists: thousands separated, two decimals, currency code."""
    return f"{amount:,.2f} {currency}"


def address_text(snapshot: dict) -> str:
    """An address snapshot (orders, invoices) on one line."""
    parts = [snapshot.get(key, "") for key in ("name", "line1", "line2", "postal_code", "city", "country")]
    return ", ".join(part for part in parts if part) or "-"


def badge(text: str, variant: str = "") -> str:
    """A coloured status label (success, info, warning, danger), for lists and read-only fields alike."""
    return mark_safe(render_to_string("unfold/helpers/label.html", {"text": text, "variant": variant}))  # noqa: S308


def change_url(obj: Any) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# --------------------------------------------------------------------------------------------------
# Staff accounts and groups
# --------------------------------------------------------------------------------------------------


class StaffUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("A user with this email already exists.")
        return email


class StaffUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError("A user with this email already exists.")
        return email


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    """Accounts sign in with their email; staff roles are the groups (finance, sales, service, admin)."""

    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "is_service_account", "group_names"]
    list_filter = ["is_staff", "is_superuser", "is_active", "is_service_account", "groups"]
    search_fields = ["email", "full_name"]
    filter_horizontal = ["groups", "user_permissions"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name",)}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "is_service_account", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2", "is_staff", "groups"),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @display(description="Groups")
    def group_names(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all())) or "-"


# --------------------------------------------------------------------------------------------------
# Partner API keys
# --------------------------------------------------------------------------------------------------


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=100, widget=UnfoldAdminTextInputWidget, help_text="The partner system it is for.")
    scopes = forms.MultipleChoiceField(choices=API_SCOPES, widget=UnfoldAdminCheckboxSelectMultipleWidget)
    user = forms.ModelChoiceField(
        label="Acting user",
        queryset=User.objects.filter(Q(is_service_account=True) | Q(is_staff=True), is_active=True),
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text="The account the key acts as in the audit trail. Leave empty to create a service account for it.",
    )
    expires_at = forms.SplitDateTimeField(
        label="Expires",
        required=False,
        widget=UnfoldAdminSplitDateTimeWidget,
        help_text="Keys acting for finance or admin staff expire after 90 days at the latest, whatever is set here.",
    )
    allowed_networks = forms.CharField(
        label="Allowed address ranges",
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        help_text="One address or CIDR range per line (e.g. 203.0.113.0/24). Empty: any address.",
    )

    def clean_allowed_networks(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_networks"].splitlines() if line.strip()]


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", "Usable"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "usable":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ModelAdmin):
    """Keys are created through create_api_key (the plaintext is shown once, only its hash is kept)
    and revoked through revoke_api_key; nothing else about a key can be edited."""

    list_display = ["name", "prefix", "scope_list", "user", "created_at", "last_used_at", "revoked_at", "state"]
    list_filter = [ApiKeyStateFilter]
    list_select_related = ["user"]
    search_fields = ["name", "prefix"]
    ordering = ["-created_at"]
    fields = [
        "name",
        "state",
        "prefix",
        "scope_list",
        "user",
        "created_by",
        "created_at",
        "expires_at",
        "allowed_networks",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    readonly_fields = fields
    actions = ["revoke_keys"]
    actions_detail = ["revoke_key"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("otc.change_apikey")

    @display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes) or "-"

    @display(description="State")
    def state(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return badge("Revoked", "danger")
        if not key.is_usable:
            return badge("Expired", "warning")
        return badge("Usable", "success")

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                key, plaintext = create_api_key(
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    user=form.cleaned_data["user"],
                    actor=request.user,
                    expires_at=form.cleaned_data["expires_at"],
                    allowed_networks=form.cleaned_data["allowed_networks"],
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                return self._show_key_once(request, key, plaintext)
        return service_form_page(request, self, title="Add API key", form=form, submit_label="Create key")

    def _show_key_once(self, request: HttpRequest, key: ApiKey, plaintext: str) -> TemplateResponse:
        """The only place the plaintext ever appears; the response must not be cached anywhere."""
        context = {
            **self.admin_site.each_context(request),
            "title": f"API key {key.name} created",
            "opts": self.model._meta,
            "key": key,
            "plaintext": plaintext,
        }
        response = TemplateResponse(request, "admin/otc/apikey/created.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, private"
        return response

    @action(description="Revoke selected keys", permissions=["revoke"])
    def revoke_keys(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset,
            lambda key: revoke_api_key(api_key=key, actor=request.user),
            done="Revoked {count} key(s).",
        )

    @action(description="Revoke", permissions=["revoke"], url_path="revoke", icon="block")
    def revoke_key(self, request, object_id) -> HttpResponse:
        key = self.get_object(request, object_id)
        if key is None:
            return HttpResponseRedirect(reverse("admin:otc_apikey_changelist"))
        if request.method == "POST":
            call_once(request, lambda: revoke_api_key(api_key=key, actor=request.user), done=f"Revoked the key {key}.")
            return HttpResponseRedirect(change_url(key))
        return service_form_page(
            request,
            self,
            title=f"Revoke {key}?",
            form=forms.Form(),
            obj=key,
            intro="Partner systems using this key are refused from now on. This cannot be undone.",
            submit_label="Revoke key",
            danger=True,
        )


# --------------------------------------------------------------------------------------------------
# Exchange rates
# --------------------------------------------------------------------------------------------------


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "rate_date", "rate", "source"]

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate is not None and rate <= 0:
            raise ValidationError("A rate must be more than zero.")
        return rate


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ModelAdmin):
    """Company-currency units per unit of a currency, by day. Issued documents keep the rate they were
    issued with, so a corrected rate changes only what is issued from then on."""

    form = ExchangeRateForm
    list_display = ["currency", "rate_date", "rate", "source", "created_at"]
    list_filter = [("currency", ChoicesDropdownFilter), ("rate_date", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["currency", "source"]
    ordering = ["currency", "-rate_date"]
