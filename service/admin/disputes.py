"""Disputes in the admin: the list (filter by status, reason, expiry), opening a dispute on an invoice
by number, and resolving one by a credit note, a rejection with a reason, or the customer's withdrawal.
Thin: every write is one service call with the signed-in user as actor."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminSingleDateWidget, UnfoldAdminTextInputWidget

from invoicing import selectors as invoicing_selectors
from invoicing.models import DocumentKind
from otc.admin import (
    AuditHistory,
    admin_link,
    apply_domain_error,
    badge,
    call_once,
    change_url,
    money_text,
    reason_field,
    service_form_page,
)
from otc.errors import DomainError
from service import services
from service.models import Dispute, DisputeReason, DisputeResolution, DisputeStatus
from service.selectors import dispute_list

STATUS_COLORS = {DisputeStatus.OPEN: "warning", DisputeStatus.RESOLVED: "success"}
RESOLVE = "service.change_dispute"


def document_field(label: str, kind: str) -> forms.CharField:
    def exists(number: str) -> None:
        if invoicing_selectors.document_by_number(kind=kind, number=number) is None:
            raise forms.ValidationError(f"No {DocumentKind(kind).label.lower()} {number.strip()}.")

    return forms.CharField(label=label, max_length=40, validators=[exists], widget=UnfoldAdminTextInputWidget)


class DisputeForm(forms.Form):
    invoice_number = document_field("Invoice number", DocumentKind.INVOICE)
    reason = forms.ChoiceField(choices=DisputeReason.choices, widget=UnfoldAdminSelectWidget)
    description = reason_field("What the customer disputes")
    amount = forms.DecimalField(
        label="Disputed amount",
        required=False,
        max_digits=19,
        decimal_places=4,
        widget=UnfoldAdminTextInputWidget,
        help_text="Empty: the whole invoice.",
    )
    expires_on = forms.DateField(required=False, widget=UnfoldAdminSingleDateWidget, help_text="Empty: in 60 days.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice_number"].widget.attrs["autofocus"] = True


class CreditNoteResolutionForm(forms.Form):
    credit_note_number = document_field("Credit note number", DocumentKind.CREDIT_NOTE)
    note = reason_field("Note", required=False)


class RejectionForm(forms.Form):
    note = reason_field("Why the dispute is rejected")


class WithdrawalForm(forms.Form):
    note = reason_field("Note", required=False)


@admin.register(Dispute)
class DisputeAdmin(AuditHistory, ModelAdmin):
    """Opened and resolved through the service desk's services; never edited in place."""

    list_display = ["dispute", "invoice_link", "customer", "reason", "status_badge", "expires_on", "resolution"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("reason", ChoicesDropdownFilter),
        ("expires_on", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["invoice__number", "customer__number", "customer__legal_name"]
    show_full_result_count = False
    paginator = InfinitePaginator
    fields = [
        "invoice_link",
        "ticket_link",
        "customer",
        "reason",
        "description",
        "amount_text",
        "status_badge",
        "expires_on",
        "resolution",
        "credit_note_link",
        "resolution_note",
        "opened_by",
        "opened_at",
        "resolved_by",
        "resolved_at",
    ]
    readonly_fields = fields
    actions_detail = ["resolve_by_credit_note", "reject", "withdraw"]

    def get_queryset(self, request):
        return dispute_list()

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_resolve_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(RESOLVE)

    @display(description="Dispute", ordering="pk")
    def dispute(self, dispute: Dispute) -> str:
        return f"#{dispute.pk}"

    @display(description="Invoice", ordering="invoice__number")
    def invoice_link(self, dispute: Dispute) -> str:
        return admin_link(change_url(dispute.invoice), str(dispute.invoice))

    @display(description="Ticket")
    def ticket_link(self, dispute: Dispute) -> str:
        return admin_link(change_url(dispute.ticket), str(dispute.ticket)) if dispute.ticket else "-"

    @display(description="Credit note")
    def credit_note_link(self, dispute: Dispute) -> str:
        return admin_link(change_url(dispute.credit_note), str(dispute.credit_note)) if dispute.credit_note else "-"

    @display(description="Disputed amount")
    def amount_text(self, dispute: Dispute) -> str:
        if dispute.disputed_amount is None:
            return "the whole invoice"
        return money_text(dispute.disputed_amount, dispute.currency)

    @display(description="Status", ordering="status")
    def status_badge(self, dispute: Dispute) -> str:
        return badge(dispute.get_status_display(), STATUS_COLORS.get(dispute.status, ""))

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DisputeForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            invoice = invoicing_selectors.document_by_number(kind=DocumentKind.INVOICE, number=data["invoice_number"])
            try:
                dispute = services.open_dispute(
                    invoice=invoice,
                    reason=data["reason"],
                    description=data["description"],
                    amount=data["amount"],
                    expires_on=data["expires_on"],
                    actor=request.user,
                )
            except DomainError as error:
                apply_domain_error(form, error, field_map={"invoice": "invoice_number"})
            else:
                messages.success(request, f"{invoice} is held for the dispute; dunning leaves it alone.")
                return HttpResponseRedirect(change_url(dispute))
        return service_form_page(
            request,
            self,
            title="Open a dispute",
            form=form,
            submit_label="Hold for dispute",
            intro="The invoice is held until the dispute is resolved or expires: dunning and reminders skip it.",
        )

    def _resolve(self, request, object_id, *, form_class, resolution: str, title: str, submit_label: str, intro: str):
        dispute = get_object_or_404(dispute_list(), pk=object_id)
        form = form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            number = form.cleaned_data.get("credit_note_number", "").strip()
            credit_note = (
                invoicing_selectors.document_by_number(kind=DocumentKind.CREDIT_NOTE, number=number) if number else None
            )
            call_once(
                request,
                lambda: services.resolve_dispute(
                    dispute=dispute,
                    resolution=resolution,
                    credit_note=credit_note,
                    note=form.cleaned_data["note"],
                    actor=request.user,
                ),
                done=f"{dispute} is resolved; the next dunning run picks the invoice up again.",
            )
            return HttpResponseRedirect(change_url(dispute))
        return service_form_page(
            request, self, title=f"{title}: {dispute}", form=form, obj=dispute, submit_label=submit_label, intro=intro
        )

    @action(description="Resolve by credit note", permissions=["resolve"], url_path="credit-note", icon="receipt")
    def resolve_by_credit_note(self, request, object_id) -> HttpResponse:
        return self._resolve(
            request,
            object_id,
            form_class=CreditNoteResolutionForm,
            resolution=DisputeResolution.CREDIT_NOTE,
            title="Resolve by credit note",
            submit_label="Resolve",
            intro="Name the issued credit note against the disputed invoice; the hold is released.",
        )

    @action(description="Reject", permissions=["resolve"], url_path="reject", icon="block")
    def reject(self, request, object_id) -> HttpResponse:
        return self._resolve(
            request,
            object_id,
            form_class=RejectionForm,
            resolution=DisputeResolution.REJECTED,
            title="Reject",
            submit_label="Reject dispute",
            intro="The claim does not hold: say why. The hold is released and dunning resumes.",
        )

    @action(description="Withdrawn", permissions=["resolve"], url_path="withdraw", icon="undo")
    def withdraw(self, request, object_id) -> HttpResponse:
        return self._resolve(
            request,
            object_id,
            form_class=WithdrawalForm,
            resolution=DisputeResolution.WITHDRAWN,
            title="Withdrawn by the customer",
            submit_label="Record withdrawal",
            intro="The customer withdrew the dispute; the hold is released.",
        )
