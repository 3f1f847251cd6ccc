"""Payments in the admin: the payment list (fast over millions of rows), recording a payment, the
read-only payment page with its allocations (undone ones too), refunds and ledger postings; allocating
a payment to the customer's open invoices, undoing an allocation, asking for a refund and deciding it
(four eyes). Thin: every write is one service call with the signed-in user as actor; a refused call
(DomainError) becomes a form error or a message with nothing written.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

from customers.selectors import currency_for_customer
from invoicing import selectors as invoicing_selectors
from invoicing.models import DocumentKind, Invoice
from ledger import selectors as ledger_selectors
from ledger.admin import VIEW_LEDGER, journal_lines_table
from otc.admin import (
    DocumentAdmin,
    IndexedSearch,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ReasonForm,
    ServiceChangeFormMixin,
    ServiceRefused,
    admin_link,
    badge,
    call_for_each,
    call_once,
    change_url,
    money_text,
    reason_field,
    service_form_page,
)
from otc.errors import DomainError
from otc.forms import adopt_saved_row
from otc.money import quantize
from payments.admin_helpers import amount_field
from payments.models import (
    Allocation,
    Payment,
    PaymentMethod,
    PaymentSource,
    Refund,
    RefundStatus,
)
from payments.money import selectors, services

ZERO = Decimal("0")
REFUND_COLORS = {RefundStatus.REQUESTED: "warning", RefundStatus.PAID: "success", RefundStatus.REJECTED: "danger"}
HEADER_FIELDS = ["number", "customer_link", "received_on", "method", "source", "payer_name", "reference", "external_id"]
AMOUNT_FIELDS = ["amount_text", "bank_fee_text", "allocated", "refunded", "unallocated"]
RECORD_FIELDS = ["created_by", "created_at", "postings"]


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
            self.fields[f"amount_{invoice.pk}"] = amount_field(
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


class InvoicePaymentForm(forms.Form):
    """Money received for one invoice; the amount starts at what is open, the currency is the invoice's."""

    amount = amount_field("Amount received")
    received_on = forms.DateField(label="Received on", widget=UnfoldAdminDateWidget)
    method = forms.ChoiceField(choices=PaymentMethod.choices, widget=UnfoldAdminSelectWidget)
    bank_fee = amount_field("Bank fee", "Deducted by the banks on the way; booked as an expense.", required=False)
    reference = forms.CharField(max_length=300, required=False, widget=UnfoldAdminTextInputWidget)


class RefundRequestForm(forms.Form):
    amount = amount_field("Amount", "Paid back out of the payment's unallocated rest, once someone else approves.")
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
class PaymentAdmin(IndexedSearch, ServiceChangeFormMixin, DocumentAdmin):
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
    search_spec = selectors.PAYMENT_SEARCH
    search_help_text = "Payment number (whole or its start), provider id, remittance text, customer number or name"
    list_select_related = ["customer"]
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
        entries = ledger_selectors.journal().filter(source=f"payment:{payment.pk}").order_by("pk")
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
        """Received today, in the currency of the customer the page was opened for (else the company's)."""
        return {
            "received_on": timezone.localdate(),
            "bank_fee": ZERO,
            "currency": currency_for_customer(request.GET.get("customer")),
            **super().get_changeform_initial_data(request),
        }

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
        adopt_saved_row(obj, payment)

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

    # -- "Register payment" from an invoice's page -----------------------------------------------------

    def get_urls(self):
        register = path(
            "register/<path:invoice_id>/",
            self.admin_site.admin_view(self.register_for_invoice),
            name="payments_payment_register",
        )
        return [register, *super().get_urls()]

    def register_for_invoice(self, request, invoice_id) -> HttpResponse:
        """Record money received for one invoice and apply it there, in one step and one transaction."""
        if not (self.has_add_permission(request) and self.has_allocate_permission(request)):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=unquote(invoice_id))
        initial = {
            "amount": quantize(invoice.open_amount, invoice.currency),
            "received_on": timezone.localdate(),
            "method": PaymentMethod.BANK_TRANSFER,
            "reference": invoice.number,
        }
        form = InvoicePaymentForm(request.POST if request.method == "POST" else None, initial=initial)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            registered = call_once(
                request,
                lambda: services.register_invoice_payment(
                    invoice=invoice,
                    amount=data["amount"],
                    method=data["method"],
                    received_on=data["received_on"],
                    bank_fee=data.get("bank_fee") or ZERO,
                    reference=data.get("reference") or "",
                    actor=request.user,
                ),
                done=f"Payment for {invoice} registered and applied to it.",
            )
            if registered:
                return HttpResponseRedirect(change_url(invoice))
        open_text = money_text(invoice.open_amount, invoice.currency)
        return service_form_page(
            request,
            self,
            title=f"Register payment for {invoice}",
            form=form,
            submit_label="Register payment",
            intro=(
                f"{invoice.customer}: {open_text} open, due {invoice.due_date:%Y-%m-%d}. The payment is booked in "
                f"{invoice.currency} and applied to {invoice.number}; more than is open stays as the customer's credit."
            ),
            cancel_url=change_url(invoice),
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
