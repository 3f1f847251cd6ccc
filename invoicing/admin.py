"""Invoicing in the admin: the invoice and credit-note list (fast over millions of rows), the read-only
document page with its lines, VAT breakdown, shipments, credit notes, postings, deliveries and files,
manual invoice entry, issuing, sending again, crediting in full or in part; the company profile and
the reference lists. The journal and the trial balance are the ledger's admin.

Thin by design: issued documents are immutable and every write is one invoicing service call with the
signed-in user as actor; a refused call (DomainError) becomes a form error or a message.
"""

from decimal import Decimal

from csp.constants import SELF
from csp.decorators import csp_replace
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import URLField
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.clickjacking import xframe_options_sameorigin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminDecimalFieldWidget

from customers.peppol import normalize_peppol_endpoint
from inventory.models import format_quantity
from invoicing import selectors, services
from invoicing.documents.render import style_preview_html
from invoicing.models import (
    DocumentFormat,
    Invoice,
    InvoiceDeliveryLog,
    InvoicedShipment,
    InvoiceHold,
    InvoiceLine,
    InvoiceStatus,
    NumberSeries,
    StoredDocument,
    TaxBreakdown,
    TaxCategoryCode,
)
from invoicing.services.company_profile import COMPANY_PROFILE_FIELDS
from ledger.admin import VIEW_LEDGER, journal_table
from ledger.models import ItemKind
from ledger.selectors import item_for_document, journal
from otc.admin import (
    DetailActionsByState,
    DocumentAdmin,
    IndexedSearch,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ReasonForm,
    ServiceChangeFormMixin,
    ServiceInlineMixin,
    ServiceRefused,
    address_text,
    admin_link,
    badge,
    bulk_with_reason,
    call_for_each,
    call_once,
    change_url,
    money_text,
    reason_field,
    service_form_page,
)
from otc.audit import acting
from otc.document_styles import DOCUMENT_STYLE_FIELDS, save_document_style
from otc.documents import download, html_to_pdf
from otc.errors import DomainError
from otc.fonts import available_families
from otc.forms import adopt_saved_row
from otc.models import CompanyProfile, DocumentStyle

STATUS_COLORS = {
    InvoiceStatus.DRAFT: "",
    InvoiceStatus.ISSUED: "info",
    InvoiceStatus.PARTIALLY_PAID: "warning",
    InvoiceStatus.PAID: "success",
    InvoiceStatus.CREDITED: "danger",
    InvoiceStatus.SETTLED: "success",
}
ISSUE, CREDIT = "invoicing.issue_invoice", "invoicing.issue_credit_note"
HEADER_FIELDS = [
    "document",
    "kind",
    "status_badge",
    "customer",
    "currency",
    "po_number",
    "order",
    "credited_invoice",
    "return_order",
    "reason",
    "preview_link",
]
DATE_FIELDS = ["issue_date", "due_date", "delivery_date", "payment_terms_days"]
TOTAL_FIELDS = ["net", "tax", "gross", "open", "credited", "exchange_rate", "company_currency"]
RECORD_FIELDS = [
    "billing_address_text",
    "shipping_address_text",
    "notes",
    "created_by",
    "created_at",
    "issued_by",
    "issued_at",
    "peppol_status",
]


def _inline_file(document: StoredDocument) -> FileResponse:
    return FileResponse(document.file.open("rb"), filename=document.filename, content_type=document.content_type)


# --------------------------------------------------------------------------------------------------
# Forms: manual entry and partial credit
# --------------------------------------------------------------------------------------------------


class ManualInvoiceForm(forms.ModelForm):
    """The header of a manual invoice; lines, taxes, totals and the number are the service's."""

    issue = forms.BooleanField(
        required=False, initial=True, help_text="Issue at once (numbered, posted, sent). Off: keep a draft."
    )

    class Meta:
        model = Invoice
        fields = ["customer", "currency", "po_number", "notes"]
        help_texts = {"currency": "Empty: the customer's default currency."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:
            currency = self.fields["currency"]
            currency.required = False
            currency.choices = [("", "The customer's default"), *[c for c in currency.choices if c[0]]]


class ManualLineForm(forms.ModelForm):
    class Meta:
        model = InvoiceLine
        fields = ["description", "product", "quantity", "unit_price", "discount_percent", "tax_rate", "tax_category"]
        labels = {"tax_rate": "VAT %", "discount_percent": "Discount %", "tax_category": "VAT category"}
        help_texts = {
            "tax_rate": "Empty: the product's rate for the customer.",
            "tax_category": "Empty: derived from the rate.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("discount_percent", "tax_rate", "tax_category"):
            self.fields[name].required = False
        self.fields["discount_percent"].initial = None
        self.fields["tax_category"].choices = [("", "From the rate"), *TaxCategoryCode.choices]

    def _get_validation_exclusions(self):
        # Empty rate, category and discount mean "the service decides"; create_manual_invoice checks them.
        return {*super()._get_validation_exclusions(), "discount_percent", "tax_rate", "tax_category"}


def _amount_field(label: str, help_text: str, *, decimal_places: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=19,
        decimal_places=decimal_places,
        required=False,
        help_text=help_text,
        widget=UnfoldAdminDecimalFieldWidget,
    )


class CreditNoteForm(forms.Form):
    """Per invoice line: a quantity to credit at its price, or an amount off (a price reduction)."""

    reason = reason_field()

    def __init__(self, *args, lines: list[InvoiceLine], currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            label = f"Line {line.line_no}: {line.description}"
            self.fields[f"quantity_{line.pk}"] = _amount_field(
                f"{label} — quantity",
                f"{format_quantity(line.quantity)} invoiced at {line.unit_price:.2f} {currency}.",
                decimal_places=3,
            )
            self.fields[f"amount_{line.pk}"] = _amount_field(
                f"{label} — or amount off",
                f"Net, in {currency}; the line's net was {line.net_amount:.2f}.",
                decimal_places=2,
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        for line in self.lines:
            if cleaned.get(f"quantity_{line.pk}") and cleaned.get(f"amount_{line.pk}"):
                self.add_error(f"amount_{line.pk}", "Give a quantity or an amount, not both.")
        if not self.errors and not self.credit_lines():
            raise forms.ValidationError("Enter a quantity or an amount on at least one line.")
        return cleaned

    def credit_lines(self) -> list[services.CreditLine]:
        data = self.cleaned_data
        return [
            services.CreditLine(
                line,
                quantity=data.get(f"quantity_{line.pk}") or None,
                net_amount=data.get(f"amount_{line.pk}") or None,
            )
            for line in self.lines
            if data.get(f"quantity_{line.pk}") or data.get(f"amount_{line.pk}")
        ]


# --------------------------------------------------------------------------------------------------
# Inlines of the document page
# --------------------------------------------------------------------------------------------------


class InvoicePartInline(ReadOnlyInline):
    """Parts of a document are visible to whoever may see the document."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("invoicing.view_invoice")


class ManualLineInline(ServiceInlineMixin, TabularInline):
    """The lines as typed; create_manual_invoice prices, taxes and writes them."""

    model = InvoiceLine
    form = ManualLineForm
    fields = ManualLineForm.Meta.fields
    autocomplete_fields = ["product"]
    extra = 3
    min_num = 1
    verbose_name_plural = "lines"

    def has_add_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(ISSUE)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(ISSUE)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(ISSUE)


class InvoiceLineInline(InvoicePartInline):
    model = InvoiceLine
    fields = [
        "line_no",
        "product",
        "description",
        "quantity_text",
        "unit",
        "unit_price",
        "discount_percent",
        "tax_category",
        "tax_rate",
        "net_amount",
    ]
    readonly_fields = fields
    verbose_name_plural = "lines"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    @display(description="Quantity")
    def quantity_text(self, line: InvoiceLine) -> str:
        return format_quantity(line.quantity)


class TaxBreakdownInline(InvoicePartInline):
    model = TaxBreakdown
    fields = ["tax_category", "tax_rate", "taxable_amount", "tax_amount", "exemption_reason"]
    readonly_fields = fields
    verbose_name_plural = "VAT breakdown"


class InvoicedShipmentInline(InvoicePartInline):
    model = InvoicedShipment
    fields = ["shipment_link", "dispatched_at"]
    readonly_fields = fields
    verbose_name_plural = "shipments"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipment")

    @display(description="Shipment")
    def shipment_link(self, row: InvoicedShipment) -> str:
        return admin_link(reverse("admin:orders_order_change", args=[row.shipment.order_id]), row.shipment.number)

    @display(description="Dispatched")
    def dispatched_at(self, row: InvoicedShipment):
        return row.shipment.dispatched_at


class CreditNoteInline(InvoicePartInline):
    model = Invoice
    fk_name = "credited_invoice"
    fields = ["note", "status_badge", "issue_date", "gross", "reason"]
    readonly_fields = fields
    verbose_name_plural = "credit notes"

    @display(description="Credit note")
    def note(self, note: Invoice) -> str:
        return admin_link(change_url(note), str(note))

    @display(description="Status")
    def status_badge(self, note: Invoice) -> str:
        return badge(note.get_status_display(), STATUS_COLORS.get(note.status, ""))

    @display(description="Gross")
    def gross(self, note: Invoice) -> str:
        return money_text(note.gross_total, note.currency)


class HoldInline(InvoicePartInline):
    """Holds keep collections away while active; placed and released by the services (disputes)."""

    model = InvoiceHold
    fields = [
        "kind",
        "reason_code",
        "text",
        "source",
        "placed_by",
        "placed_at",
        "released_by",
        "released_at",
        "release_note",
    ]
    readonly_fields = fields
    verbose_name_plural = "holds"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("placed_by", "released_by")


class DeliveryInline(InvoicePartInline):
    model = InvoiceDeliveryLog
    fields = ["created_at", "channel", "recipient_list", "format_list", "is_resend", "requested_by"]
    readonly_fields = fields
    verbose_name_plural = "deliveries"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")

    @display(description="Recipients")
    def recipient_list(self, delivery: InvoiceDeliveryLog) -> str:
        return ", ".join(delivery.recipients) or "-"

    @display(description="Formats")
    def format_list(self, delivery: InvoiceDeliveryLog) -> str:
        return ", ".join(delivery.formats) or "-"


class StoredDocumentInline(InvoicePartInline):
    model = StoredDocument
    fields = ["download", "format", "size", "sha256", "created_at"]
    readonly_fields = fields
    verbose_name_plural = "documents"

    @display(description="File")
    def download(self, document: StoredDocument) -> str:
        url = reverse("admin:invoicing_invoice_document", args=[document.invoice_id, document.pk])
        return admin_link(url, document.filename)


# --------------------------------------------------------------------------------------------------
# Invoices and credit notes
# --------------------------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.overdue_condition())
        if self.value() == "no":
            return queryset.exclude(selectors.overdue_condition())
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(IndexedSearch, DetailActionsByState, ServiceChangeFormMixin, DocumentAdmin):
    form = ManualInvoiceForm
    list_display = [
        "document",
        "customer",
        "kind",
        "status_badge",
        "issue_date",
        "due_date",
        "gross",
        "open",
        "currency",
    ]
    list_display_links = ["document"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("kind", ChoicesDropdownFilter),
        ("currency", ChoicesDropdownFilter),
        OverdueFilter,
        ("customer", AutocompleteSelectFilter),
        ("issue_date", RangeDateFilter),
    ]
    list_filter_submit = True
    search_fields = ["number", "po_number", "customer__number", "customer__legal_name", "customer__trading_name"]
    search_spec = selectors.INVOICE_SEARCH
    search_help_text = "Invoice number (whole or its start), PO number, customer number or any part of the name"
    list_select_related = ["customer"]
    ordering = ["-pk"]
    autocomplete_fields = ["customer"]

    actions = ["issue_selected", "resend_selected", "credit_selected"]
    actions_detail = [
        "preview",
        {"title": "Download", "icon": "download", "items": ["download_pdf", "download_ubl", "download_facturx"]},
        "check_einvoice",
        "issue_one",
        "resend_one",
        {"title": "Credit", "icon": "undo", "items": ["credit_in_full", "credit_in_part"]},
        "discard_one",
    ]
    detail_action_states = {
        "download_pdf": selectors.is_issued,
        "download_ubl": selectors.is_issued,
        "download_facturx": selectors.is_issued,
        "issue_one": selectors.is_draft,
        "discard_one": selectors.is_draft,
        "resend_one": selectors.is_issued,
        "credit_in_full": selectors.is_creditable,
        "credit_in_part": selectors.is_creditable,
    }
    add_fieldsets = [("Manual invoice", {"fields": ["customer", "currency", "po_number", "notes", "issue"]})]
    fieldsets = [
        ("Document", {"fields": HEADER_FIELDS}),
        ("Dates", {"fields": DATE_FIELDS}),
        ("Totals", {"fields": TOTAL_FIELDS}),
        ("Record", {"fields": RECORD_FIELDS}),
    ]

    # -- permissions: issued documents are immutable; drafts change only through services -------------

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm(ISSUE)

    def has_issue_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(ISSUE)

    def has_resend_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(ISSUE)

    def has_credit_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(CREDIT)

    # -- list and read-only fields ----------------------------------------------------------------------

    @display(description="Number", ordering="pk")
    def document(self, invoice: Invoice) -> str:
        return str(invoice)

    @display(description="Status", ordering="status")
    def status_badge(self, invoice: Invoice) -> str:
        return badge(invoice.get_status_display(), STATUS_COLORS.get(invoice.status, ""))

    @display(description="Gross", ordering="gross_total")
    def gross(self, invoice: Invoice) -> str:
        return money_text(invoice.gross_total, invoice.currency)

    @display(description="Open", ordering="open_amount")
    def open(self, invoice: Invoice) -> str:
        return money_text(invoice.open_amount, invoice.currency)

    @display(description="Net")
    def net(self, invoice: Invoice) -> str:
        return money_text(invoice.net_total, invoice.currency)

    @display(description="VAT")
    def tax(self, invoice: Invoice) -> str:
        return money_text(invoice.tax_total, invoice.currency)

    @display(description="Credited")
    def credited(self, invoice: Invoice) -> str:
        return money_text(invoice.credited_amount, invoice.currency)

    @display(description="Billing address")
    def billing_address_text(self, invoice: Invoice) -> str:
        return address_text(invoice.billing_address)

    @display(description="Shipping address")
    def shipping_address_text(self, invoice: Invoice) -> str:
        return address_text(invoice.shipping_address)

    @display(description="E-invoice (Peppol)")
    def peppol_status(self, invoice: Invoice) -> str:
        problems = selectors.peppol_endpoint_problems(invoice)
        return " ".join(problems) or "Seller and buyer have Peppol IDs; the e-invoice is validated when it is sent."

    @display(description="Preview")
    def preview_link(self, invoice: Invoice) -> str:
        label = "Preview (draft, HTML)" if invoice.status == InvoiceStatus.DRAFT else "PDF"
        return admin_link(reverse("admin:invoicing_invoice_preview", args=[invoice.pk]), label)

    # -- the change page is read-only; the add page is manual entry --------------------------------------

    def get_inlines(self, request, obj):
        if obj is None:
            return [ManualLineInline]
        return [
            InvoiceLineInline,
            TaxBreakdownInline,
            InvoicedShipmentInline,
            HoldInline,
            CreditNoteInline,
            DeliveryInline,
            StoredDocumentInline,
        ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        if request.user.has_perm(VIEW_LEDGER):
            return [*self.fieldsets, ("Ledger postings", {"fields": ["postings"]})]
        return self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*HEADER_FIELDS, *DATE_FIELDS, *TOTAL_FIELDS, *RECORD_FIELDS, "postings"]

    @display(description="Postings")
    def postings(self, invoice: Invoice) -> str:
        item = item_for_document(kind=ItemKind(invoice.kind), document_id=invoice.pk)
        return journal_table(journal(item=item).order_by("pk")) if item is not None else "-"

    def save_model(self, request, obj, form, change) -> None:
        """The invoice is written in save_related, where its lines are known."""

    def save_formset(self, request, form, formset, change) -> None:
        """Entry lines are handed to create_manual_invoice in save_related."""

    def save_related(self, request, form, formsets, change) -> None:
        if change:
            return
        lines = [
            services.ManualLine(
                description=data["description"],
                quantity=data["quantity"],
                unit_price=data["unit_price"],
                product=data.get("product"),
                discount_percent=data.get("discount_percent") or Decimal("0"),
                tax_rate=data.get("tax_rate"),
                tax_category=data.get("tax_category") or "",
            )
            for formset in formsets
            for data in (line_form.cleaned_data for line_form in formset.forms)
            if data and not data.get("DELETE")
        ]
        data = form.cleaned_data
        try:
            invoice = services.create_manual_invoice(
                actor=request.user,
                customer=data["customer"],
                lines=lines,
                currency=data.get("currency") or None,
                po_number=data.get("po_number") or "",
                notes=data.get("notes") or "",
                issue=data.get("issue", False),
            )
        except DomainError as error:
            about_lines = bool(error.fields) and set(error.fields) <= {"lines", *ManualLineForm.Meta.fields}
            raise ServiceRefused(error, prefix="lines" if about_lines else None) from error
        obj = form.instance
        adopt_saved_row(obj, invoice)

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"{obj} entered: {money_text(obj.gross_total, obj.currency)}.")
        return HttpResponseRedirect(change_url(obj))

    def construct_change_message(self, request, form, formsets, add=False):
        return []  # create_manual_invoice writes the lines, not their formset

    def log_addition(self, request, obj, message):
        return None  # the audit trail records the entry

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The page links to "Register payment" (payments' admin) while the invoice has something open."""
        invoice = self.get_object(request, unquote(object_id))
        payable = invoice is not None and selectors.is_payable(invoice)
        extra_context = {**(extra_context or {}), "payable": payable}
        return super().change_view(request, object_id, form_url, extra_context)

    # -- files ------------------------------------------------------------------------------------------

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/documents/<int:document_id>/",
                self.admin_site.admin_view(self.document_view),
                name="invoicing_invoice_document",
            ),
        ]
        return custom + super().get_urls()

    def document_view(self, request: HttpRequest, object_id: str, document_id: int) -> FileResponse:
        """A stored file of the document, as it was sent."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _inline_file(get_object_or_404(StoredDocument, pk=document_id, invoice_id=unquote(object_id)))

    @action(description="Preview", permissions=["view"], url_path="preview", icon="visibility")
    def preview(self, request, object_id) -> HttpResponse:
        """A draft as the HTML it would print as; an issued document as its stored PDF."""
        from invoicing.documents.render import invoice_html
        from invoicing.documents.services import document_for

        invoice = self._invoice(request, object_id)
        try:
            if invoice.status == InvoiceStatus.DRAFT:
                return HttpResponse(invoice_html(invoice))
            return _inline_file(document_for(invoice=invoice, format=DocumentFormat.PDF))
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(change_url(invoice))

    @action(description="PDF", permissions=["view"], url_path="download-pdf", icon="picture_as_pdf")
    def download_pdf(self, request, object_id) -> HttpResponse:
        return self._download(request, object_id, DocumentFormat.PDF)

    @action(description="UBL (EN 16931 XML)", permissions=["view"], url_path="download-ubl", icon="code")
    def download_ubl(self, request, object_id) -> HttpResponse:
        return self._download(request, object_id, DocumentFormat.UBL)

    @action(description="Factur-X (PDF/A-3)", permissions=["view"], url_path="download-facturx", icon="description")
    def download_facturx(self, request, object_id) -> HttpResponse:
        return self._download(request, object_id, DocumentFormat.FACTURX)

    def _download(self, request, object_id, format: str) -> HttpResponse:
        """The issued document in any format, whatever the customer receives: rendered, validated and
        stored once on first request, then served as stored; a document that fails validation says why."""
        from invoicing.documents.services import document_for

        invoice = self._invoice(request, object_id)
        try:
            stored = document_for(invoice=invoice, format=format)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(change_url(invoice))
        return download(stored)

    @action(description="Check e-invoice", permissions=["view"], url_path="check-einvoice", icon="fact_check")
    def check_einvoice(self, request, object_id) -> HttpResponse:
        """Validate the UBL and the CII now, without storing or sending them: each broken rule is listed."""
        from invoicing.documents.services import einvoice_reports

        invoice = self._invoice(request, object_id)
        try:
            reports = einvoice_reports(invoice=invoice)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(change_url(invoice))
        for syntax, report in reports.items():
            if report.is_valid:
                checked = ", ".join(report.rule_sets)
                messages.success(request, f"{syntax} passes {checked} ({report.seconds * 1000:.0f} ms).")
            else:
                messages.error(request, f"{syntax} breaks: " + "; ".join(str(error) for error in report.errors))
        return HttpResponseRedirect(change_url(invoice))

    # -- bulk actions -----------------------------------------------------------------------------------

    @action(description="Issue selected drafts", permissions=["issue"])
    def issue_selected(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset.order_by("pk"),
            lambda invoice: self._issue_and_warn(request, invoice),
            done="Issued {count} invoice(s).",
        )

    @action(description="Send selected again", permissions=["resend"])
    def resend_selected(self, request, queryset):
        from invoicing.documents.services import request_resend

        return bulk_with_reason(
            self,
            request,
            queryset.order_by("pk"),
            action_name="resend_selected",
            title="Send invoices again",
            submit_label="Send again",
            service=lambda invoice, reason: request_resend(invoice=invoice, actor=request.user, reason=reason),
            done="Queued {count} document(s) to be sent again.",
            intro="The stored documents go to the customer's invoice contacts again; the reason is logged.",
        )

    @action(description="Credit selected in full", permissions=["credit"])
    def credit_selected(self, request, queryset):
        return bulk_with_reason(
            self,
            request,
            queryset.order_by("pk"),
            action_name="credit_selected",
            title="Credit invoices in full",
            submit_label="Issue credit notes",
            service=lambda invoice, reason: services.issue_credit_note(
                invoice=invoice, actor=request.user, reason=reason
            ),
            done="Issued {count} credit note(s).",
            intro="Each invoice gets a credit note for everything not yet credited. This cannot be undone.",
            danger=True,
        )

    # -- detail actions ---------------------------------------------------------------------------------

    @action(description="Issue", permissions=["issue"], url_path="issue", icon="send")
    def issue_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=forms.Form,
            title="Issue {invoice}?",
            submit_label="Issue",
            call=lambda invoice, form: self._issue_and_warn(request, invoice),
            done="{invoice} issued.",
            intro="It gets its number, is posted to the ledger and sent; from then on it cannot change.",
        )

    @action(description="Send again", permissions=["resend"], url_path="resend", icon="forward_to_inbox")
    def resend_one(self, request, object_id):
        from invoicing.documents.services import request_resend

        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Send {invoice} again",
            submit_label="Send again",
            call=lambda invoice, form: request_resend(
                invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            done="{invoice} will be sent again.",
        )

    @action(description="Credit in full", permissions=["credit"], url_path="credit", icon="undo")
    def credit_in_full(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Credit {invoice} in full",
            submit_label="Issue credit note",
            call=lambda invoice, form: services.issue_credit_note(
                invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"]
            ),
            done="Credit note for {invoice} issued.",
            intro="Credits everything not yet credited; what was already paid becomes the customer's credit.",
            danger=True,
        )

    @action(description="Credit note (partial)", permissions=["credit"], url_path="credit-note", icon="rule")
    def credit_in_part(self, request, object_id):
        invoice = self._invoice(request, object_id)
        form = CreditNoteForm(
            request.POST if request.method == "POST" else None,
            lines=list(invoice.lines.all()),
            currency=invoice.currency,
        )
        if form.is_bound and form.is_valid():
            credited = call_once(
                request,
                lambda: services.issue_credit_note(
                    invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"], lines=form.credit_lines()
                ),
                done=f"Credit note for {invoice} issued.",
            )
            if credited:
                return HttpResponseRedirect(change_url(invoice))
        return service_form_page(
            request,
            self,
            title=f"Credit note for {invoice}",
            form=form,
            obj=invoice,
            submit_label="Issue credit note",
            intro="Per line, a quantity to credit at the invoiced price, or a net amount off the line.",
        )

    @action(description="Discard draft", permissions=["issue"], url_path="discard", icon="delete")
    def discard_one(self, request, object_id):
        invoice = self._invoice(request, object_id)
        if request.method == "POST":
            discarded = call_once(
                request,
                lambda: services.discard_draft(invoice=invoice, actor=request.user),
                done=f"{invoice} discarded.",
            )
            changelist = reverse("admin:invoicing_invoice_changelist")
            return HttpResponseRedirect(changelist if discarded else change_url(invoice))
        return service_form_page(
            request,
            self,
            title=f"Discard {invoice}?",
            form=forms.Form(),
            obj=invoice,
            submit_label="Discard",
            intro="Only drafts can be discarded; issued documents are corrected by credit notes.",
            danger=True,
        )

    def _invoice(self, request, object_id) -> Invoice:
        invoice = self.get_object(request, unquote(object_id))
        if invoice is None:
            raise PermissionDenied
        return invoice

    def _issue_and_warn(self, request, invoice: Invoice) -> Invoice:
        """Issue, then say at once when its e-invoice cannot reach a Peppol access point."""
        issued = services.issue_invoice(invoice=invoice, actor=request.user)
        for problem in selectors.peppol_endpoint_problems(issued):
            messages.warning(request, problem)
        return issued

    def _form_action(
        self, request, object_id, *, form_class, title, submit_label, call, done, intro="", danger=False
    ) -> HttpResponse:
        invoice = self._invoice(request, object_id)
        form = form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            call_once(request, lambda: call(invoice, form), done=done.format(invoice=invoice))
            return HttpResponseRedirect(change_url(invoice))
        return service_form_page(
            request,
            self,
            title=title.format(invoice=invoice),
            form=form,
            obj=invoice,
            submit_label=submit_label,
            intro=intro,
            danger=danger,
        )


# --------------------------------------------------------------------------------------------------
# Settings and reference lists
# --------------------------------------------------------------------------------------------------


class CompanyProfileForm(forms.ModelForm):
    class Meta:
        model = CompanyProfile
        fields = [*COMPANY_PROFILE_FIELDS, "logo"]

    def clean(self) -> dict:
        """The Peppol ID is checked against the EAS code list, or looked up from the VAT ID."""
        data = super().clean()
        try:
            data["peppol_scheme"], data["peppol_id"] = normalize_peppol_endpoint(
                data.get("peppol_scheme", ""), data.get("peppol_id", ""), data.get("tax_id", "")
            )
        except ValidationError as error:
            self.add_error("peppol_id", error)
        return data


@admin.register(CompanyProfile)
class CompanyProfileAdmin(ModelAdmin):
    """One row: who issues the documents. Added once, then only changed."""

    form = CompanyProfileForm
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    fieldsets = [
        ("Company", {"fields": ["legal_name", "line1", "line2", "postal_code", "city", "country"]}),
        ("Registration", {"fields": ["tax_id", "registration"]}),
        ("E-invoicing (Peppol)", {"fields": ["peppol_scheme", "peppol_id"]}),
        ("Contact", {"fields": ["contact_name", "email", "phone", "website"]}),
        ("Bank", {"fields": ["bank_name", "iban", "bic"]}),
        ("Documents", {"fields": ["logo", "legal_text", "payment_instructions"]}),
    ]

    def has_add_permission(self, request) -> bool:
        may = super().has_add_permission(request) or self.has_change_permission(request)
        return may and not CompanyProfile.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        """There is no list of one: go to the profile, or to the form that creates it."""
        profile = CompanyProfile.objects.first()
        if profile is not None:
            return HttpResponseRedirect(change_url(profile))
        if self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:otc_companyprofile_add"))
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        obj.pk = 1
        with acting(request.user, "admin: company profile"):
            super().save_model(request, obj, form, change)


class DocumentStyleForm(forms.ModelForm):
    """The style's fields; fonts only from the safe families installed here, colours as #rrggbb."""

    font_family = forms.ChoiceField(choices=())

    class Meta:
        model = DocumentStyle
        fields = list(DOCUMENT_STYLE_FIELDS)
        widgets = {
            "accent_colour": forms.TextInput(attrs={"type": "color"}),
            "text_colour": forms.TextInput(attrs={"type": "color"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["font_family"].choices = [(family, family) for family in available_families()]

    def _get_validation_exclusions(self) -> set[str]:
        # Making a style the default takes it from the old default on save (save_document_style).
        return {*super()._get_validation_exclusions(), "is_default"}


@admin.register(DocumentStyle)
class DocumentStyleAdmin(ModelAdmin):
    """The look of the documents customers receive, with a preview of the unsaved form on a real
    invoice. Saving changes documents rendered from now on; stored documents keep their look."""

    form = DocumentStyleForm
    change_form_template = "admin/otc/documentstyle/change_form.html"
    list_display = ["name", "is_default", "font_family", "accent_colour", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "is_default"]}),
        ("Look", {"fields": ["logo", "accent_colour", "text_colour", "font_family"]}),
        ("Header", {"fields": ["header_text_en", "header_text_de", "header_text_fr"]}),
        ("Footer", {"fields": ["footer_text_en", "footer_text_de", "footer_text_fr"]}),
        ("Payment terms", {"fields": ["payment_terms_en", "payment_terms_de", "payment_terms_fr"]}),
        ("Columns", {"fields": ["show_sku", "show_gtin", "show_discount", "show_unit", "show_tax_rate"]}),
        ("Fields", {"fields": ["show_po_number", "show_delivery_address", "show_customer_number"]}),
    ]

    def get_urls(self) -> list:
        # Shown in a frame of the style's own change page, so this one response may be framed by our origin.
        preview = xframe_options_sameorigin(
            csp_replace({"frame-ancestors": [SELF]})(self.admin_site.admin_view(self.preview_view))
        )
        return [
            path("preview/", preview, name="otc_documentstyle_preview"),
            path("<path:object_id>/preview/", preview, name="otc_documentstyle_preview"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["preview_url"] = (
            reverse("admin:otc_documentstyle_preview", args=[obj.pk])
            if obj is not None
            else reverse("admin:otc_documentstyle_preview")
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """The posted, unsaved form values applied to the latest issued invoice (or a sample), as
        HTML or PDF. Nothing is saved or stored."""
        style = get_object_or_404(DocumentStyle, pk=unquote(object_id)) if object_id else None
        if request.method != "POST" or not (
            self.has_change_permission(request, style) if style else self.has_add_permission(request)
        ):
            raise PermissionDenied
        form = self.get_form(request, style)(request.POST, request.FILES, instance=style)
        if not form.is_valid():
            errors = format_html_join("", "<li>{}: {}</li>", ((name, " ".join(e)) for name, e in form.errors.items()))
            return HttpResponse(format_html("<ul>{}</ul>", errors), status=422)
        html = style_preview_html(form.save(commit=False))
        if request.POST.get("_preview") == "pdf":
            return HttpResponse(html_to_pdf(html), content_type="application/pdf")
        return HttpResponse(html)

    def save_model(self, request, obj, form, change) -> None:
        save_document_style(actor=request.user, style=obj, data={})


@admin.register(NumberSeries)
class NumberSeriesAdmin(ReadOnlyModelAdmin):
    """The last number given per series and year; raised only inside the issuing transaction."""

    list_display = ["code", "year", "last_value"]
    list_filter = ["code"]


@admin.register(InvoiceDeliveryLog)
class InvoiceDeliveryLogAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "invoice_link", "channel", "recipient_list", "is_resend", "requested_by"]
    list_filter = [("channel", ChoicesDropdownFilter), "is_resend"]
    search_fields = ["invoice__number"]
    list_select_related = ["invoice", "requested_by"]
    ordering = ["-pk"]

    @display(description="Invoice")
    def invoice_link(self, delivery: InvoiceDeliveryLog) -> str:
        return admin_link(change_url(delivery.invoice), str(delivery.invoice))

    @display(description="Recipients")
    def recipient_list(self, delivery: InvoiceDeliveryLog) -> str:
        return ", ".join(delivery.recipients) or "-"
