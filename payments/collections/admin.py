"""Collections in the admin: dunning policies with their levels and assignments, runs (started here
or by the scheduler) and letters with their PDF, promises to pay and payment plans. Thin: every write
is one collections service call with the signed-in user as actor.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextInputWidget,
)

from invoicing.models import Invoice
from otc.admin import (
    AuditHistory,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    admin_link,
    apply_domain_error,
    badge,
    change_url,
    money_text,
    service_form_page,
)
from otc.audit import acting
from otc.errors import DomainError
from payments.admin_helpers import amount_field, autofocus_first_field, customer_field
from payments.collections import services as dunning
from payments.collections.letters import dunning_letter_document
from payments.models import (
    DunningAssignment,
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    PaymentPlan,
    PaymentPlanInstalment,
    PromiseStatus,
    PromiseToPay,
)

PROMISE_COLORS = {PromiseStatus.OPEN: "info", PromiseStatus.KEPT: "success", PromiseStatus.BROKEN: "danger"}


def invoice_numbers(text: str) -> list[str]:
    return [number.strip() for number in text.replace(";", ",").replace("\n", ",").split(",") if number.strip()]


class AuditedConfigMixin(AuditHistory):
    """Configuration without a service (dunning policies, levels, assignments): the admin saves it
    directly, labelled with the signed-in user in the audit trail."""

    audit_label = "dunning policy"

    def save_model(self, request, obj, form, change):
        with acting(request.user, self.audit_label):
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        with acting(request.user, self.audit_label):
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        with acting(request.user, self.audit_label):
            super().delete_model(request, obj)


# --------------------------------------------------------------------------------------------------
# Collections: dunning configuration
# --------------------------------------------------------------------------------------------------


class DunningLevelInline(TabularInline):
    model = DunningLevel
    fields = ["level", "days_after_due", "template", "fee", "interest_rate_percent_per_year", "places_credit_hold"]
    extra = 0
    ordering = ["level"]


@admin.register(DunningPolicy)
class DunningPolicyAdmin(AuditedConfigMixin, ModelAdmin):
    list_display = ["name", "is_default", "level_count"]
    search_fields = ["name"]
    inlines = [DunningLevelInline]

    def get_queryset(self, request) -> QuerySet[DunningPolicy]:
        return super().get_queryset(request).annotate(levels_count=Count("levels"))

    @display(description="Levels")
    def level_count(self, policy: DunningPolicy) -> int:
        return policy.levels_count


@admin.register(DunningAssignment)
class DunningAssignmentAdmin(AuditedConfigMixin, ModelAdmin):
    """Customers dunned by another policy than the default one."""

    list_display = ["customer", "policy"]
    list_filter = ["policy"]
    search_fields = ["customer__number", "customer__legal_name"]
    list_select_related = ["customer", "policy"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-pk"]


# --------------------------------------------------------------------------------------------------
# Collections: runs, letters
# --------------------------------------------------------------------------------------------------


@admin.register(DunningRun)
class DunningRunAdmin(ReadOnlyModelAdmin):
    """One run a day; started from here (or by the scheduler). Invoice holds (disputes) keep invoices out of it."""

    list_display = ["run_date", "letters_count", "started_by", "started_at", "finished_at", "letters_link"]
    list_select_related = ["started_by"]
    ordering = ["-run_date"]
    fields = ["run_date", "letters_count", "started_by", "started_at", "finished_at", "letters_link"]
    readonly_fields = fields
    actions_list = ["run_today"]

    def has_run_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("payments.add_dunningrun")

    @display(description="Letters")
    def letters_link(self, run: DunningRun) -> str:
        url = reverse("admin:payments_dunningletter_changelist") + f"?run__id__exact={run.pk}"
        return admin_link(url, f"{run.letters_count} letter(s)")

    @action(description="Run dunning for today", permissions=["run"], url_path="run", icon="mail")
    def run_today(self, request) -> HttpResponse:
        today = timezone.localdate()
        if request.method == "POST":
            earlier = DunningRun.objects.filter(run_date=today, finished_at__isnull=False).first()
            try:
                run = dunning.run_dunning(run_date=today, actor=request.user)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                if earlier is not None:
                    messages.info(request, f"Dunning ran already today: {run.letters_count} letter(s).")
                else:
                    messages.success(request, f"Dunning run {today:%Y-%m-%d}: {run.letters_count} letter(s) issued.")
            return HttpResponseRedirect(reverse("admin:payments_dunningrun_changelist"))
        return service_form_page(
            request,
            self,
            title=f"Run dunning for {today:%Y-%m-%d}",
            form=forms.Form(),
            submit_label="Run dunning",
            intro=(
                "Every overdue invoice not held by a dispute, a promise to pay or a payment plan goes one level up "
                "where its policy says so; one letter per customer and currency. A second run today does nothing."
            ),
        )


class LetterItemInline(ReadOnlyInline):
    model = DunningLetterItem
    fields = ["invoice_link", "level", "days_overdue", "open_amount", "interest_amount"]
    readonly_fields = fields
    verbose_name_plural = "invoices"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("payments.view_dunningletter")  # a letter's items show with the letter

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice")

    @display(description="Invoice")
    def invoice_link(self, item: DunningLetterItem) -> str:
        return admin_link(change_url(item.invoice), str(item.invoice))


@admin.register(DunningLetter)
class DunningLetterAdmin(ReadOnlyModelAdmin):
    list_display = ["letter", "customer", "level", "template", "total", "run", "created_at", "pdf_link"]
    list_filter = [("template", ChoicesDropdownFilter), ("created_at", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["customer__number", "customer__legal_name"]
    list_select_related = ["customer", "run"]
    ordering = ["-pk"]
    fields = ["run", "customer", "level", "template", "currency", "fee", "interest", "total", "created_at", "pdf_link"]
    readonly_fields = fields
    inlines = [LetterItemInline]

    @display(description="Letter", ordering="pk")
    def letter(self, letter: DunningLetter) -> str:
        return f"#{letter.pk}"

    @display(description="Total due", ordering="total_due")
    def total(self, letter: DunningLetter) -> str:
        return money_text(letter.total_due, letter.currency)

    @display(description="Fee")
    def fee(self, letter: DunningLetter) -> str:
        return money_text(letter.fee_amount, letter.currency)

    @display(description="Interest")
    def interest(self, letter: DunningLetter) -> str:
        return money_text(letter.interest_amount, letter.currency)

    @display(description="PDF")
    def pdf_link(self, letter: DunningLetter) -> str:
        return admin_link(reverse("admin:payments_dunningletter_pdf", args=[letter.pk]), "PDF")

    def get_urls(self):
        pdf = self.admin_site.admin_view(self.pdf_view)
        return [path("<path:object_id>/pdf/", pdf, name="payments_dunningletter_pdf"), *super().get_urls()]

    def pdf_view(self, request, object_id) -> HttpResponse:
        """The letter as sent: its stored PDF, rendered and stored the first time anyone asks."""
        letter = self.get_object(request, unquote(object_id))
        if letter is None or not self.has_view_permission(request, letter):
            raise PermissionDenied
        try:
            document = dunning_letter_document(letter=letter)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(change_url(letter))
        return FileResponse(document.file.open("rb"), filename=document.filename, content_type=document.content_type)


# --------------------------------------------------------------------------------------------------
# Collections: promises to pay and payment plans
# --------------------------------------------------------------------------------------------------


class PromiseForm(forms.Form):
    customer = customer_field()
    invoices = forms.CharField(
        label="Invoice numbers",
        max_length=500,
        widget=UnfoldAdminTextInputWidget,
        help_text="The customer's open invoices the promise covers, separated by commas.",
    )
    promised_date = forms.DateField(widget=UnfoldAdminSingleDateWidget)
    amount = amount_field("Amount")
    note = forms.CharField(max_length=300, required=False, widget=UnfoldAdminTextInputWidget)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        autofocus_first_field(self)

    def clean(self) -> dict:
        cleaned = super().clean()
        customer, numbers = cleaned.get("customer"), invoice_numbers(cleaned.get("invoices") or "")
        if customer is None or not numbers:
            return cleaned
        found = {invoice.number: invoice for invoice in Invoice.objects.filter(customer=customer, number__in=numbers)}
        missing = [number for number in numbers if number not in found]
        if missing:
            self.add_error("invoices", f"Not invoices of {customer}: {', '.join(missing)}.")
        cleaned["invoice_list"] = list(found.values())
        return cleaned


@admin.register(PromiseToPay)
class PromiseToPayAdmin(AuditHistory, ModelAdmin):
    list_display = ["promise", "customer", "invoice_list", "promised_date", "amount_text", "status_badge", "created_by"]
    list_filter = [("status", ChoicesDropdownFilter), ("promised_date", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["customer__number", "customer__legal_name", "invoices__number"]
    list_select_related = ["customer", "created_by"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-promised_date", "-pk"]
    fields = [
        "customer",
        "invoice_list",
        "promised_date",
        "amount_text",
        "status_badge",
        "note",
        "created_by",
        "created_at",
        "resolved_on",
    ]
    readonly_fields = fields

    def get_queryset(self, request) -> QuerySet[PromiseToPay]:
        return super().get_queryset(request).prefetch_related("invoices")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description="Promise", ordering="pk")
    def promise(self, promise: PromiseToPay) -> str:
        return f"#{promise.pk}"

    @display(description="Invoices")
    def invoice_list(self, promise: PromiseToPay) -> str:
        return ", ".join(sorted(invoice.number for invoice in promise.invoices.all())) or "-"

    @display(description="Amount", ordering="amount")
    def amount_text(self, promise: PromiseToPay) -> str:
        return money_text(promise.amount, promise.currency)

    @display(description="Status", ordering="status")
    def status_badge(self, promise: PromiseToPay) -> str:
        return badge(promise.get_status_display(), PROMISE_COLORS.get(promise.status, ""))

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PromiseForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                promise = dunning.record_promise_to_pay(
                    customer=data["customer"],
                    invoices=data["invoice_list"],
                    promised_date=data["promised_date"],
                    amount=data["amount"],
                    actor=request.user,
                    note=data.get("note") or "",
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, f"{promise} recorded; dunning leaves its invoices alone until then.")
                return HttpResponseRedirect(change_url(promise))
        return service_form_page(
            request,
            self,
            title="Record promise to pay",
            form=form,
            submit_label="Record promise",
            intro="The customer promised to pay these invoices by a date; a broken promise resumes dunning.",
        )


class InstalmentInline(ReadOnlyInline):
    model = PaymentPlanInstalment
    fields = ["due_date", "amount", "paid"]
    readonly_fields = fields
    verbose_name_plural = "instalments"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("payments.view_paymentplan")  # a plan's instalments show with the plan


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ReadOnlyModelAdmin):
    list_display = ["plan", "customer", "invoice_list", "total", "created_by", "created_at"]
    search_fields = ["customer__number", "customer__legal_name", "invoices__number"]
    list_select_related = ["customer", "created_by"]
    ordering = ["-pk"]
    fields = ["customer", "invoice_list", "total", "created_by", "created_at"]
    readonly_fields = fields
    inlines = [InstalmentInline]

    def get_queryset(self, request) -> QuerySet[PaymentPlan]:
        return super().get_queryset(request).prefetch_related("invoices")

    @display(description="Plan", ordering="pk")
    def plan(self, plan: PaymentPlan) -> str:
        return f"#{plan.pk}"

    @display(description="Invoices")
    def invoice_list(self, plan: PaymentPlan) -> str:
        return ", ".join(sorted(invoice.number for invoice in plan.invoices.all())) or "-"

    @display(description="Total", ordering="total_amount")
    def total(self, plan: PaymentPlan) -> str:
        return money_text(plan.total_amount, plan.currency)
