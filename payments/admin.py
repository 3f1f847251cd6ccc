"""Payments in the admin: the payment list (fast over millions of rows), recording a payment, the
read-only payment page with its allocations (undone ones too), refunds and ledger postings; allocating
a payment to the customer's open invoices, undoing an allocation, asking for a refund and deciding it
(four eyes). Bank statements (upload, then reconcile) and the reconciliation queue of their lines;
collections: dunning policies, runs and letters, promises to pay and payment plans.

Thin by design: every write is one payments service call with the signed-in user as actor; a refused
call (DomainError) becomes a form error or a message with nothing written.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

from customers.models import Customer
from invoicing import selectors as invoicing_selectors
from invoicing.admin import VIEW_LEDGER, journal_lines_table
from invoicing.models import DocumentKind, Invoice
from otc.admin import (
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ReasonForm,
    ServiceChangeFormMixin,
    ServiceRefused,
    admin_link,
    apply_domain_error,
    badge,
    call_for_each,
    call_once,
    change_url,
    money_text,
    reason_field,
    service_form_page,
)
from otc.audit import acting
from otc.errors import DomainError
from otc.money import quantize
from payments import collections as dunning
from payments import reconciliation, services
from payments.bank_formats.csv_layout import CSV_LAYOUTS
from payments.letters import dunning_letter_document
from payments.models import (
    Allocation,
    BankStatement,
    BankStatementLine,
    DunningAssignment,
    DunningLetter,
    DunningLetterItem,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    Payment,
    PaymentPlan,
    PaymentPlanInstalment,
    PaymentSource,
    PromiseStatus,
    PromiseToPay,
    Refund,
    RefundStatus,
    StatementFormat,
    StatementLineStatus,
)
from payments.statement_import import import_bank_statement

ZERO = Decimal("0")
REFUND_COLORS = {RefundStatus.REQUESTED: "warning", RefundStatus.PAID: "success", RefundStatus.REJECTED: "danger"}
HEADER_FIELDS = ["number", "customer_link", "received_on", "method", "source", "payer_name", "reference", "external_id"]
AMOUNT_FIELDS = ["amount_text", "bank_fee_text", "allocated", "refunded", "unallocated"]
RECORD_FIELDS = ["created_by", "created_at", "postings"]


def _amount_field(label: str, help_text: str = "", **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=19,
        decimal_places=4,
        help_text=help_text,
        widget=UnfoldAdminDecimalFieldWidget,
        **kwargs,
    )


# --------------------------------------------------------------------------------------------------
# Forms
# --------------------------------------------------------------------------------------------------


class RecordPaymentForm(forms.ModelForm):
    """What was received; the number, the source (staff) and the postings are the service's."""

    class Meta:
        model = Payment
        fields = [
            "customer",
            "currency",
            "amount",
            "bank_fee",
            "received_on",
            "method",
            "payer_name",
            "reference",
            "external_id",
        ]


class AllocateForm(forms.Form):
    """One amount and one write-off box per open invoice, pre-filled oldest due first with what is left."""

    def __init__(self, *args, payment: Payment, invoices: list[Invoice], **kwargs):
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        left = payment.unallocated_amount
        for invoice in invoices:
            suggested = min(left, invoice.open_amount)
            left -= suggested
            due = f", due {invoice.due_date:%Y-%m-%d}" if invoice.due_date else ""
            self.fields[f"amount_{invoice.pk}"] = _amount_field(
                f"{invoice.number}{due}: {money_text(invoice.open_amount, invoice.currency)} open",
                required=False,
                initial=quantize(suggested, invoice.currency) if suggested else None,
            )
            self.fields[f"write_off_{invoice.pk}"] = forms.BooleanField(
                label=f"Write off what {invoice.number} is still short (within tolerance)",
                required=False,
                widget=UnfoldBooleanWidget,
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not self.applications():
            raise forms.ValidationError("Enter an amount (or tick a write-off) for at least one invoice.")
        return cleaned

    def applications(self) -> list[services.Application]:
        data = self.cleaned_data
        return [
            services.Application(
                invoice, data.get(f"amount_{invoice.pk}") or ZERO, write_off=data.get(f"write_off_{invoice.pk}", False)
            )
            for invoice in self.invoices
            if data.get(f"amount_{invoice.pk}") or data.get(f"write_off_{invoice.pk}")
        ]


class RefundRequestForm(forms.Form):
    amount = _amount_field("Amount", "Paid back out of the payment's unallocated rest, once someone else approves.")
    reason = reason_field()


# --------------------------------------------------------------------------------------------------
# Inlines of the payment page
# --------------------------------------------------------------------------------------------------


class AllocationInline(ReadOnlyInline):
    """Every allocation, undone ones included (they are reversed, never deleted)."""

    model = Allocation
    fields = ["invoice_link", "amount_text", "write_off", "created_by", "created_at", "state", "undo_link"]
    readonly_fields = fields
    verbose_name_plural = "allocations"

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("invoice", "created_by", "reversed_by").order_by("created_at")
        )

    @display(description="Invoice")
    def invoice_link(self, allocation: Allocation) -> str:
        return admin_link(change_url(allocation.invoice), str(allocation.invoice))

    @display(description="Amount")
    def amount_text(self, allocation: Allocation) -> str:
        return money_text(allocation.amount, allocation.invoice.currency)

    @display(description="Written off")
    def write_off(self, allocation: Allocation) -> str:
        return money_text(allocation.write_off_amount, allocation.invoice.currency)

    @display(description="State")
    def state(self, allocation: Allocation) -> str:
        if allocation.reversed_at is None:
            return badge("Live", "success")
        undone = f"Undone {allocation.reversed_at:%Y-%m-%d} by {allocation.reversed_by}: {allocation.reversal_reason}"
        return badge(undone, "danger")

    @display(description="")
    def undo_link(self, allocation: Allocation) -> str:
        if allocation.reversed_at is not None:
            return "-"
        return admin_link(reverse("admin:payments_allocation_undo", args=[allocation.pk]), "Undo")


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["amount", "reason", "status_badge", "requested_by", "requested_at", "decided_by", "decided_at"]
    readonly_fields = fields
    verbose_name_plural = "refunds"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by", "decided_by")

    @display(description="Status")
    def status_badge(self, refund: Refund) -> str:
        return badge(refund.get_status_display(), REFUND_COLORS.get(refund.status, ""))


# --------------------------------------------------------------------------------------------------
# Payments
# --------------------------------------------------------------------------------------------------


class UnallocatedFilter(admin.SimpleListFilter):
    title = "unallocated"
    parameter_name = "unallocated"

    def lookups(self, request, model_admin):
        return [("yes", "Money left to allocate"), ("no", "Fully used")]

    def queryset(self, request, queryset):
        left = {"amount__gt": F("allocated_amount") + F("refunded_amount")}
        if self.value() == "yes":
            return queryset.filter(**left)
        if self.value() == "no":
            return queryset.exclude(**left)
        return queryset


@admin.register(Payment)
class PaymentAdmin(ServiceChangeFormMixin, ModelAdmin):
    form = RecordPaymentForm
    list_display = [
        "number",
        "customer",
        "received_on",
        "method",
        "source",
        "amount_text",
        "allocated",
        "unallocated",
        "currency",
    ]
    list_display_links = ["number"]
    list_filter = [
        ("method", ChoicesDropdownFilter),
        ("source", ChoicesDropdownFilter),
        ("currency", ChoicesDropdownFilter),
        UnallocatedFilter,
        ("customer", AutocompleteSelectFilter),
        ("received_on", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["number", "customer__number", "customer__legal_name", "reference", "external_id"]
    list_select_related = ["customer"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-pk"]
    autocomplete_fields = ["customer"]

    actions_detail = ["allocate", "request_refund"]
    add_fieldsets = [
        ("Payment", {"fields": ["customer", "currency", "amount", "bank_fee", "received_on", "method"]}),
        ("Remittance", {"fields": ["payer_name", "reference", "external_id"]}),
    ]
    fieldsets = [
        ("Payment", {"fields": HEADER_FIELDS}),
        ("Amounts", {"fields": AMOUNT_FIELDS}),
    ]

    # -- permissions: a payment changes only through services ------------------------------------------

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_allocate_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("payments.add_allocation")

    def has_refund_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("payments.add_refund")

    # -- list and read-only fields ----------------------------------------------------------------------

    @display(description="Amount", ordering="amount")
    def amount_text(self, payment: Payment) -> str:
        return money_text(payment.amount, payment.currency)

    @display(description="Bank fee")
    def bank_fee_text(self, payment: Payment) -> str:
        return money_text(payment.bank_fee, payment.currency)

    @display(description="Allocated")
    def allocated(self, payment: Payment) -> str:
        return money_text(payment.allocated_amount, payment.currency)

    @display(description="Refunded")
    def refunded(self, payment: Payment) -> str:
        return money_text(payment.refunded_amount, payment.currency)

    @display(description="Unallocated")
    def unallocated(self, payment: Payment) -> str:
        left = payment.unallocated_amount
        return badge(money_text(left, payment.currency), "warning") if left else money_text(left, payment.currency)

    @display(description="Customer")
    def customer_link(self, payment: Payment) -> str:
        return admin_link(change_url(payment.customer), str(payment.customer))

    @display(description="Ledger postings")
    def postings(self, payment: Payment) -> str:
        """Receipt, allocations, write-offs, reversals and refunds: every entry the payment's services posted."""
        entries = invoicing_selectors.journal().filter(source=f"payment:{payment.pk}").order_by("pk")
        return (
            format_html_join(
                "",
                '<div class="mb-3"><div>{} · {} · {} · {}</div>{}</div>',
                (
                    (
                        admin_link(change_url(entry), f"JE-{entry.pk}"),
                        entry.posted_on,
                        entry.get_kind_display(),
                        entry.memo,
                        journal_lines_table(entry),
                    )
                    for entry in entries
                ),
            )
            or "-"
        )

    # -- the change page is read-only; the add page records a payment ------------------------------------

    def get_inlines(self, request, obj):
        return [] if obj is None else [AllocationInline, RefundInline]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        return [*self.fieldsets, ("Record", {"fields": self._record_fields(request)})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [*HEADER_FIELDS, *AMOUNT_FIELDS, *self._record_fields(request)]

    def _record_fields(self, request) -> list[str]:
        """The postings show only to those who may read the ledger."""
        return RECORD_FIELDS if request.user.has_perm(VIEW_LEDGER) else RECORD_FIELDS[:-1]

    def get_changeform_initial_data(self, request) -> dict:
        return {"received_on": timezone.localdate(), "bank_fee": ZERO, **super().get_changeform_initial_data(request)}

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Record payment"}
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        data = form.cleaned_data
        try:
            payment = services.record_payment(
                actor=request.user,
                source=PaymentSource.STAFF,
                customer=data["customer"],
                amount=data["amount"],
                currency=data["currency"],
                method=data["method"],
                received_on=data.get("received_on"),
                bank_fee=data.get("bank_fee") or ZERO,
                external_id=data.get("external_id") or "",
                reference=data.get("reference") or "",
                payer_name=data.get("payer_name") or "",
            )
        except DomainError as error:
            raise ServiceRefused(error) from error
        for field in Payment._meta.concrete_fields:
            setattr(obj, field.attname, getattr(payment, field.attname))
        obj._state.adding, obj._state.db = False, payment._state.db

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"{obj} recorded: {money_text(obj.amount, obj.currency)}. Allocate it next.")
        return HttpResponseRedirect(change_url(obj))

    def log_addition(self, request, obj, message):
        return None  # the audit trail records the payment

    # -- detail actions ---------------------------------------------------------------------------------

    @action(description="Allocate", permissions=["allocate"], url_path="allocate", icon="call_split")
    def allocate(self, request, object_id) -> HttpResponse:
        payment = self._payment(request, object_id)
        invoices = list(
            invoicing_selectors.open_items(customer=payment.customer).filter(
                kind=DocumentKind.INVOICE, currency=payment.currency
            )
        )
        form = AllocateForm(request.POST if request.method == "POST" else None, payment=payment, invoices=invoices)
        if form.is_bound and form.is_valid():
            allocated = call_once(
                request,
                lambda: services.allocate_payment(
                    payment=payment, applications=form.applications(), actor=request.user
                ),
                done=f"{payment} allocated.",
            )
            if allocated:
                return HttpResponseRedirect(change_url(payment))
        left = money_text(payment.unallocated_amount, payment.currency)
        return service_form_page(
            request,
            self,
            title=f"Allocate {payment}",
            form=form,
            obj=payment,
            submit_label="Allocate",
            intro=(
                f"{left} left to allocate to {payment.customer}'s open invoices in {payment.currency}, oldest due "
                "first. Adjust the amounts; a short rest within tolerance can be written off."
                if invoices
                else f"{payment.customer} has no open invoices in {payment.currency}; {left} stays as credit."
            ),
        )

    @action(description="Request refund", permissions=["refund"], url_path="refund", icon="currency_exchange")
    def request_refund(self, request, object_id) -> HttpResponse:
        payment = self._payment(request, object_id)
        form = RefundRequestForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            requested = call_once(
                request,
                lambda: services.request_refund(
                    payment=payment,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                ),
                done=f"Refund from {payment} requested; someone else approves it under Refunds.",
            )
            if requested:
                return HttpResponseRedirect(change_url(payment))
        return service_form_page(
            request,
            self,
            title=f"Refund from {payment}",
            form=form,
            obj=payment,
            submit_label="Request refund",
            intro=f"{money_text(payment.unallocated_amount, payment.currency)} unallocated can be paid back.",
        )

    def _payment(self, request, object_id) -> Payment:
        payment = self.get_object(request, unquote(object_id))
        if payment is None:
            raise PermissionDenied
        return payment


# --------------------------------------------------------------------------------------------------
# Allocations and refunds
# --------------------------------------------------------------------------------------------------


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("undone", "Undone")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(reversed_at__isnull=True)
        if self.value() == "undone":
            return queryset.filter(reversed_at__isnull=False)
        return queryset


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyModelAdmin):
    """Read-only: allocations are made from the payment page and undone here (reversed, never deleted)."""

    list_display = ["allocation", "payment_link", "invoice_link", "amount_text", "write_off", "created_at", "state"]
    list_filter = [LiveFilter, ("created_at", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["payment__number", "invoice__number"]
    list_select_related = ["payment", "invoice"]
    ordering = ["-pk"]
    fields = [
        "payment_link",
        "invoice_link",
        "amount_text",
        "write_off",
        "journal_entry",
        "created_by",
        "created_at",
        "state",
        "reversed_at",
        "reversed_by",
        "reversal_reason",
    ]
    readonly_fields = fields
    actions_detail = ["undo"]

    def get_queryset(self, request) -> QuerySet[Allocation]:
        return (
            super()
            .get_queryset(request)
            .select_related("payment", "invoice", "created_by", "reversed_by", "journal_entry")
        )

    def has_undo_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("payments.change_allocation")

    @display(description="Allocation", ordering="pk")
    def allocation(self, allocation: Allocation) -> str:
        return f"#{allocation.pk}"

    @display(description="Payment")
    def payment_link(self, allocation: Allocation) -> str:
        return admin_link(change_url(allocation.payment), str(allocation.payment))

    @display(description="Invoice")
    def invoice_link(self, allocation: Allocation) -> str:
        return admin_link(change_url(allocation.invoice), str(allocation.invoice))

    amount_text = AllocationInline.amount_text
    write_off = AllocationInline.write_off
    state = AllocationInline.state

    @action(description="Undo allocation", permissions=["undo"], url_path="undo", icon="undo")
    def undo(self, request, object_id) -> HttpResponse:
        allocation = self.get_object(request, unquote(object_id))
        if allocation is None:
            raise PermissionDenied
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            call_once(
                request,
                lambda: services.unallocate(
                    allocation=allocation, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                done=f"Allocation of {allocation.payment} to {allocation.invoice} undone.",
            )
            return HttpResponseRedirect(change_url(allocation.payment))
        return service_form_page(
            request,
            self,
            title=f"Undo the allocation of {allocation.payment} to {allocation.invoice}",
            form=form,
            obj=allocation,
            submit_label="Undo allocation",
            intro="The posting is reversed, the invoice reopens and the payment gets the amount back as credit.",
            cancel_url=change_url(allocation.payment),
            danger=True,
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyModelAdmin):
    """Refunds are asked for on the payment page and decided here by someone other than the requester."""

    list_display = [
        "refund",
        "payment_link",
        "customer",
        "amount_text",
        "status_badge",
        "reason",
        "requested_by",
        "requested_at",
        "decided_by",
    ]
    list_filter = [("status", ChoicesDropdownFilter)]
    list_filter_submit = True
    search_fields = ["payment__number", "payment__customer__number", "payment__customer__legal_name"]
    list_select_related = ["payment__customer", "requested_by", "decided_by"]
    ordering = ["-pk"]
    fields = [
        "payment_link",
        "amount_text",
        "status_badge",
        "reason",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "journal_entry",
    ]
    readonly_fields = fields
    actions = ["approve_selected", "reject_selected"]

    def has_approve_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("payments.approve_refund")

    @display(description="Refund", ordering="pk")
    def refund(self, refund: Refund) -> str:
        return f"#{refund.pk}"

    @display(description="Payment")
    def payment_link(self, refund: Refund) -> str:
        return admin_link(change_url(refund.payment), str(refund.payment))

    @display(description="Customer")
    def customer(self, refund: Refund) -> str:
        return str(refund.payment.customer)

    @display(description="Amount", ordering="amount")
    def amount_text(self, refund: Refund) -> str:
        return money_text(refund.amount, refund.payment.currency)

    @display(description="Status", ordering="status")
    def status_badge(self, refund: Refund) -> str:
        return badge(refund.get_status_display(), REFUND_COLORS.get(refund.status, ""))

    @action(description="Approve and pay out selected", permissions=["approve"])
    def approve_selected(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True, done="Approved and paid out {count} refund(s).")

    @action(description="Reject selected", permissions=["approve"])
    def reject_selected(self, request, queryset) -> None:
        self._decide(request, queryset, approve=False, done="Rejected {count} refund(s).")

    def _decide(self, request, queryset, *, approve: bool, done: str) -> None:
        call_for_each(
            request,
            queryset.order_by("pk"),
            lambda refund: services.decide_refund(refund=refund, actor=request.user, approve=approve),
            done=done,
        )


# --------------------------------------------------------------------------------------------------
# Shared bits of the statement and collections pages
# --------------------------------------------------------------------------------------------------

LINE_COLORS = {
    StatementLineStatus.UNMATCHED: "warning",
    StatementLineStatus.APPLIED: "success",
    StatementLineStatus.IGNORED: "",
}
PROMISE_COLORS = {PromiseStatus.OPEN: "info", PromiseStatus.KEPT: "success", PromiseStatus.BROKEN: "danger"}
RECONCILE = "payments.change_bankstatementline"
HAND_ROWS = 5


def autofocus_first_field(form: forms.BaseForm) -> None:
    """Form pages are typed through: the cursor starts in the first field."""
    first = next(iter(form.fields.values()), None)
    if first is not None:
        first.widget.attrs["autofocus"] = True


def customer_field(**kwargs) -> forms.ModelChoiceField:
    """A customer, searched as the payment page searches them (there may be many)."""
    return forms.ModelChoiceField(
        queryset=Customer.objects.all(),
        widget=AutocompleteSelect(Payment._meta.get_field("customer"), admin.site),
        **kwargs,
    )


def upload_form_page(request, model_admin, **kwargs) -> TemplateResponse:
    """service_form_page with a form that can carry a file."""
    response = service_form_page(request, model_admin, **kwargs)
    response.template_name = "admin/payments/upload_form.html"
    return response


def line_status_badge(line: BankStatementLine) -> str:
    return badge(line.get_status_display(), LINE_COLORS.get(line.status, ""))


def invoice_numbers(text: str) -> list[str]:
    return [number.strip() for number in text.replace(";", ",").replace("\n", ",").split(",") if number.strip()]


class AuditedConfigMixin:
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
# Bank statements: upload, then reconcile
# --------------------------------------------------------------------------------------------------


class UploadStatementForm(forms.Form):
    file = forms.FileField(widget=UnfoldAdminFileFieldWidget)
    format = forms.ChoiceField(choices=StatementFormat.choices, widget=UnfoldAdminSelectWidget)
    csv_layout = forms.ChoiceField(
        label="CSV layout",
        choices=[(name, name) for name in CSV_LAYOUTS],
        initial="generic",
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text="CSV only: which bank's export this is.",
    )
    csv_account_iban = forms.CharField(
        label="Account IBAN",
        max_length=42,
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text="CSV only: the company's account the export is of.",
    )
    csv_statement_id = forms.CharField(
        label="Statement id",
        max_length=35,
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text="CSV only, optional: named after the period when empty.",
    )
    csv_period_start = forms.DateField(
        label="Period from", required=False, widget=UnfoldAdminSingleDateWidget, help_text="CSV only, optional."
    )
    csv_period_end = forms.DateField(
        label="Period to", required=False, widget=UnfoldAdminSingleDateWidget, help_text="CSV only, optional."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        autofocus_first_field(self)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("format") == StatementFormat.CSV:
            if not cleaned.get("csv_account_iban"):
                self.add_error("csv_account_iban", "A CSV export does not name the account; enter its IBAN.")
            if bool(cleaned.get("csv_period_start")) != bool(cleaned.get("csv_period_end")):
                self.add_error("csv_period_end", "Give both ends of the period, or neither.")
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        upload = data["file"]
        period = (data["csv_period_start"], data["csv_period_end"]) if data.get("csv_period_start") else None
        return {
            "content": upload.read(),
            "filename": upload.name,
            "format": data["format"],
            "csv_layout": data.get("csv_layout") or "generic",
            "csv_account_iban": data.get("csv_account_iban") or "",
            "csv_statement_id": data.get("csv_statement_id") or "",
            "csv_period": period,
        }


class StatementLineInline(ReadOnlyInline):
    model = BankStatementLine
    fields = ["line_link", "booking_date", "amount_text", "counterparty_name", "remittance", "status", "payment"]
    readonly_fields = fields
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment").order_by("line_no")

    @display(description="Line")
    def line_link(self, line: BankStatementLine) -> str:
        return admin_link(change_url(line), f"#{line.line_no}")

    @display(description="Amount")
    def amount_text(self, line: BankStatementLine) -> str:
        return money_text(line.amount, line.currency)

    @display(description="Remittance")
    def remittance(self, line: BankStatementLine) -> str:
        return line.remittance_information or line.structured_reference or "-"

    @display(description="Status")
    def status(self, line: BankStatementLine) -> str:
        return line_status_badge(line)

    @display(description="Payment")
    def payment(self, line: BankStatementLine) -> str:
        return admin_link(change_url(line.payment), str(line.payment)) if line.payment_id else "-"


@admin.register(BankStatement)
class BankStatementAdmin(ModelAdmin):
    """Statements as the bank sent them: uploaded (imported, then reconciled), never edited."""

    list_display = [
        "statement_id",
        "account_iban",
        "period",
        "format",
        "line_count",
        "unmatched",
        "imported_by",
        "imported_at",
    ]
    list_filter = [("format", ChoicesDropdownFilter), ("period_end", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["statement_id", "account_iban", "filename"]
    list_select_related = ["imported_by"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-period_end", "-pk"]
    fields = [
        "statement_id",
        "account_iban",
        "period",
        "format",
        "currency",
        "opening_balance",
        "closing_balance",
        "filename",
        "line_count",
        "unmatched",
        "imported_by",
        "imported_at",
    ]
    readonly_fields = fields
    inlines = [StatementLineInline]

    def get_queryset(self, request) -> QuerySet[BankStatement]:
        waiting = Count("lines", filter=Q(lines__status=StatementLineStatus.UNMATCHED, lines__amount__gt=0))
        return super().get_queryset(request).annotate(unmatched_count=waiting)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description="Period", ordering="period_end")
    def period(self, statement: BankStatement) -> str:
        return f"{statement.period_start:%Y-%m-%d} – {statement.period_end:%Y-%m-%d}"

    @display(description="Unmatched")
    def unmatched(self, statement: BankStatement) -> str:
        count = statement.unmatched_count
        if not count:
            return "0"
        url = reverse("admin:payments_bankstatementline_changelist") + f"?statement__id__exact={statement.pk}"
        return format_html('<a href="{}">{}</a>', url, badge(str(count), "warning"))

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadStatementForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                statement = import_bank_statement(actor=request.user, **form.service_kwargs())
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                return self._reconcile(request, statement)
        return upload_form_page(
            request,
            self,
            title="Upload statement",
            form=form,
            submit_label="Upload and reconcile",
            intro=(
                "The statement is imported whole or not at all, then every incoming line the matching engine "
                "is sure of is applied; the rest waits in the reconciliation queue."
            ),
        )

    def _reconcile(self, request, statement: BankStatement) -> HttpResponse:
        try:
            result = reconciliation.reconcile_statement(statement=statement, actor=request.user)
        except DomainError as error:
            messages.warning(request, f"{statement} imported, but reconciling it stopped: {error.message}")
        else:
            messages.success(
                request,
                f"{statement} imported with {statement.line_count} line(s): {len(result.applied)} applied "
                f"automatically, {len(result.queued)} waiting, {len(result.ignored)} set aside.",
            )
        return HttpResponseRedirect(change_url(statement))


class LineStatusFilter(admin.SimpleListFilter):
    """The queue by default: incoming lines nobody has applied or ignored yet."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*StatementLineStatus.choices, ("all", "All")]

    def value(self):
        return super().value() or StatementLineStatus.UNMATCHED

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        if value == StatementLineStatus.UNMATCHED:
            return queryset.filter(status=value, amount__gt=0)
        return queryset.filter(status=value)


class ApplyLineForm(forms.Form):
    """The clerk's own split: a customer and up to five invoices of theirs (by number) with amounts."""

    def __init__(self, *args, line: BankStatementLine, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line
        self.fields["customer"] = customer_field(help_text="Whose payment this is.")
        for row in range(1, HAND_ROWS + 1):
            self.fields[f"invoice_{row}"] = forms.CharField(
                label=f"Invoice {row}", max_length=40, required=False, widget=UnfoldAdminTextInputWidget
            )
            self.fields[f"amount_{row}"] = _amount_field(f"Amount {row}", required=False)
            self.fields[f"write_off_{row}"] = forms.BooleanField(
                label=f"Write off what invoice {row} is still short", required=False, widget=UnfoldBooleanWidget
            )
        autofocus_first_field(self)
        self._applications: list[services.Application] = []

    def clean(self) -> dict:
        cleaned = super().clean()
        customer = cleaned.get("customer")
        if customer is None:
            return cleaned
        rows = {
            row: (cleaned.get(f"invoice_{row}") or "").strip()
            for row in range(1, HAND_ROWS + 1)
            if (cleaned.get(f"invoice_{row}") or "").strip() or cleaned.get(f"amount_{row}")
        }
        found = {
            invoice.number: invoice
            for invoice in invoicing_selectors.open_items(customer=customer).filter(
                kind=DocumentKind.INVOICE, currency=self.line.currency, number__in=[n for n in rows.values() if n]
            )
        }
        for row, number in rows.items():
            amount, write_off = cleaned.get(f"amount_{row}"), cleaned.get(f"write_off_{row}", False)
            if not number:
                self.add_error(f"invoice_{row}", "Which invoice is this amount for?")
            elif number not in found:
                self.add_error(f"invoice_{row}", f"{number} is no open {self.line.currency} invoice of {customer}.")
            elif not amount and not write_off:
                self.add_error(f"amount_{row}", "Enter an amount (or tick the write-off).")
            else:
                self._applications.append(services.Application(found[number], amount or ZERO, write_off=write_off))
        return cleaned

    def applications(self) -> list[services.Application]:
        return self._applications


class FocusedReasonForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        autofocus_first_field(self)


def proposal_key(proposal) -> str:
    """What the clerk saw of a proposal; a different key on accept means the proposals moved."""
    amounts = ",".join(str(amount) for amount in proposal.amounts)
    return f"{proposal.customer_id}:{','.join(map(str, proposal.invoice_ids))}:{amounts}:{proposal.write_off}"


@admin.register(BankStatementLine)
class BankStatementLineAdmin(ReadOnlyModelAdmin):
    """The reconciliation queue: each waiting line with its ranked proposals, accepted in one click,
    applied by hand, or ignored with a reason; an applied line can be undone."""

    list_display = [
        "line",
        "booking_date",
        "amount_text",
        "counterparty_name",
        "counterparty_iban",
        "remittance",
        "statement_link",
        "status_badge",
    ]
    list_display_links = ["line"]
    list_filter = [LineStatusFilter, ("booking_date", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["counterparty_name", "counterparty_iban", "remittance_information", "structured_reference"]
    list_select_related = ["statement"]
    ordering = ["-booking_date", "-pk"]
    fields = [
        "statement_link",
        "line_no",
        "booking_date",
        "value_date",
        "amount_text",
        "counterparty_name",
        "counterparty_iban",
        "counterparty_bic",
        "remittance_information",
        "structured_reference",
        "end_to_end_id",
        "bank_reference",
        "status_badge",
        "payment_link",
    ]
    readonly_fields = fields
    change_form_template = "admin/payments/bankstatementline/change_form.html"
    actions_detail = ["apply_by_hand", "ignore", "undo"]

    def get_queryset(self, request) -> QuerySet[BankStatementLine]:
        return super().get_queryset(request).select_related("statement", "payment")

    def has_reconcile_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(RECONCILE)

    # -- list and read-only fields ----------------------------------------------------------------------

    @display(description="Line", ordering="pk")
    def line(self, line: BankStatementLine) -> str:
        return f"{line.statement.statement_id}/{line.line_no}"

    @display(description="Amount", ordering="amount")
    def amount_text(self, line: BankStatementLine) -> str:
        return money_text(line.amount, line.currency)

    @display(description="Remittance")
    def remittance(self, line: BankStatementLine) -> str:
        text = line.remittance_information or line.structured_reference
        return (text[:60] + "…" if len(text) > 60 else text) or "-"

    @display(description="Statement")
    def statement_link(self, line: BankStatementLine) -> str:
        return admin_link(change_url(line.statement), str(line.statement))

    @display(description="Status", ordering="status")
    def status_badge(self, line: BankStatementLine) -> str:
        return line_status_badge(line)

    @display(description="Payment")
    def payment_link(self, line: BankStatementLine) -> str:
        return admin_link(change_url(line.payment), str(line.payment)) if line.payment_id else "-"

    # -- the line's page: its proposals ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        line = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {}), "proposals": [], "can_reconcile": False}
        if line is not None and line.status == StatementLineStatus.UNMATCHED and line.amount > ZERO:
            context["proposals"] = self._proposal_rows(line)
            context["can_reconcile"] = request.user.has_perm(RECONCILE)
            context["accept_url"] = reverse("admin:payments_bankstatementline_accept", args=[line.pk])
        return super().change_view(request, object_id, form_url, context)

    def _proposal_rows(self, line: BankStatementLine) -> list[dict]:
        proposals = reconciliation.line_proposals(line=line)
        customers = Customer.objects.in_bulk({proposal.customer_id for proposal in proposals})
        invoices = Invoice.objects.in_bulk({pk for proposal in proposals for pk in proposal.invoice_ids})
        return [
            {
                "rank": rank,
                "key": proposal_key(proposal),
                "confidence": round(proposal.confidence * 100),
                "customer": customers.get(proposal.customer_id),
                "applications": [
                    (invoices.get(pk), money_text(amount, line.currency))
                    for pk, amount in zip(proposal.invoice_ids, proposal.amounts, strict=True)
                ],
                "reasons": proposal.reasons,
                "difference": money_text(proposal.difference, line.currency) if proposal.difference else "",
                "write_off": proposal.write_off,
            }
            for rank, proposal in enumerate(proposals)
        ]

    def get_urls(self):
        accept = self.admin_site.admin_view(self.accept_view)
        return [
            path("<path:object_id>/accept/", accept, name="payments_bankstatementline_accept"),
            *super().get_urls(),
        ]

    def accept_view(self, request, object_id) -> HttpResponse:
        """One click on a proposal: the proposals are worked out again and the one at the clicked rank
        is applied only if it is still what the clerk saw."""
        line = self._line(request, object_id)
        if request.method != "POST":
            return HttpResponseRedirect(change_url(line))
        if not request.user.has_perm(RECONCILE):
            raise PermissionDenied
        try:
            rank = int(request.POST.get("rank", ""))
        except ValueError:
            rank = -1
        proposals = reconciliation.line_proposals(line=line)
        if not 0 <= rank < len(proposals) or proposal_key(proposals[rank]) != request.POST.get("key"):
            messages.warning(request, "The proposals for this line changed since the page was shown; check them again.")
            return HttpResponseRedirect(change_url(line))
        accepted = call_once(
            request,
            lambda: reconciliation.accept_proposal(line=line, proposal=proposals[rank], actor=request.user),
            done=f"Line {line.line_no} of {line.statement.statement_id} applied as proposed.",
        )
        return HttpResponseRedirect(self._next_url(line) if accepted else change_url(line))

    def _next_url(self, line: BankStatementLine) -> str:
        """After a line is settled: the next one waiting, so the queue can be worked through."""
        waiting = (
            BankStatementLine.objects.filter(status=StatementLineStatus.UNMATCHED, amount__gt=0)
            .exclude(pk=line.pk)
            .order_by("-booking_date", "-pk")
            .first()
        )
        return change_url(waiting) if waiting else reverse("admin:payments_bankstatementline_changelist")

    def _line(self, request, object_id) -> BankStatementLine:
        line = self.get_object(request, unquote(object_id))
        if line is None:
            raise PermissionDenied
        return line

    # -- detail actions -----------------------------------------------------------------------------------

    @action(description="Apply by hand", permissions=["reconcile"], url_path="apply", icon="call_split")
    def apply_by_hand(self, request, object_id) -> HttpResponse:
        line = self._line(request, object_id)
        form = ApplyLineForm(request.POST if request.method == "POST" else None, line=line)
        if form.is_bound and form.is_valid():
            try:
                payment = reconciliation.apply_line(
                    line=line,
                    customer=form.cleaned_data["customer"],
                    applications=form.applications(),
                    actor=request.user,
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, f"Line {line.line_no} of {line.statement.statement_id} booked as {payment}.")
                return HttpResponseRedirect(self._next_url(line))
        return service_form_page(
            request,
            self,
            title=f"Apply {money_text(line.amount, line.currency)} from {line.counterparty_name or 'an unknown payer'}",
            form=form,
            obj=line,
            submit_label="Apply",
            intro=(
                f"Remittance: {line.remittance_information or line.structured_reference or '-'}. Give the customer "
                f"and how the amount splits over their open {line.currency} invoices (by number); what is not "
                "allocated stays on the customer's account as credit."
            ),
        )

    @action(description="Ignore", permissions=["reconcile"], url_path="ignore", icon="block")
    def ignore(self, request, object_id) -> HttpResponse:
        line = self._line(request, object_id)
        form = FocusedReasonForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            ignored = call_once(
                request,
                lambda: reconciliation.ignore_line(line=line, actor=request.user, reason=form.cleaned_data["reason"]),
                done=f"Line {line.line_no} of {line.statement.statement_id} set aside.",
            )
            return HttpResponseRedirect(self._next_url(line) if ignored else change_url(line))
        return service_form_page(
            request,
            self,
            title=f"Ignore line {line.line_no} of {line.statement.statement_id}",
            form=form,
            obj=line,
            submit_label="Ignore line",
            intro="Not a customer's payment (a transfer between own accounts, money coming back): say why.",
            danger=True,
        )

    @action(description="Undo", permissions=["reconcile"], url_path="undo", icon="undo")
    def undo(self, request, object_id) -> HttpResponse:
        line = self._line(request, object_id)
        form = FocusedReasonForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            call_once(
                request,
                lambda: reconciliation.undo_line(line=line, actor=request.user, reason=form.cleaned_data["reason"]),
                done=f"What line {line.line_no} was applied to is undone; {line.payment} stays as credit.",
            )
            return HttpResponseRedirect(change_url(line))
        return service_form_page(
            request,
            self,
            title=f"Undo line {line.line_no} of {line.statement.statement_id}",
            form=form,
            obj=line,
            submit_label="Undo",
            intro=(
                "Every allocation of the line's payment is reversed: the invoices reopen and the money stays on the "
                "customer's account, to be allocated again on the payment."
            ),
            danger=True,
        )


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
    amount = _amount_field("Amount")
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
class PromiseToPayAdmin(ModelAdmin):
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
