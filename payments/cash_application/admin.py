"""Bank statements in the admin: upload (imported whole, then reconciled in one matching pass) and the
reconciliation queue of their lines (accept a proposal, apply by hand, ignore, undo). Thin: every
write is one cash application service call with the signed-in user as actor.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

from customers.models import Customer
from customers.validators import normalize_iban
from invoicing import selectors as invoicing_selectors
from invoicing.models import DocumentKind, Invoice
from otc.admin import (
    DetailActionsByState,
    DocumentAdmin,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ReasonForm,
    admin_link,
    apply_domain_error,
    badge,
    call_once,
    change_url,
    money_text,
    service_form_page,
)
from otc.crypto import fingerprint
from otc.errors import DomainError
from otc.money import quantize
from otc.uploads import megabytes
from payments.admin_helpers import amount_field, autofocus_first_field, customer_field
from payments.cash_application import selectors
from payments.cash_application import services as reconciliation
from payments.cash_application.bank_formats.csv_layout import CSV_LAYOUTS
from payments.cash_application.selectors import line_proposals, queue_condition, statement_list
from payments.cash_application.statement_import import import_bank_statement
from payments.cash_application.uploads import queue_statement_upload, runs_in_background
from payments.models import (
    BankStatement,
    BankStatementLine,
    BankStatementUpload,
    CompanyBankAccount,
    StatementFormat,
    StatementLineStatus,
    UploadStatus,
)
from payments.money import services

ZERO = Decimal("0")
LINE_COLORS = {
    StatementLineStatus.UNMATCHED: "warning",
    StatementLineStatus.APPLIED: "success",
    StatementLineStatus.IGNORED: "",
}
UPLOAD_COLORS = {
    UploadStatus.QUEUED: "info",
    UploadStatus.IMPORTING: "info",
    UploadStatus.RECONCILING: "info",
    UploadStatus.DONE: "success",
    UploadStatus.FAILED: "danger",
}
RECONCILE = "payments.change_bankstatementline"


def upload_form_page(request, model_admin, **kwargs) -> TemplateResponse:
    """service_form_page with a form that can carry a file."""
    response = service_form_page(request, model_admin, **kwargs)
    response.template_name = "admin/payments/upload_form.html"
    return response


def line_status_badge(line: BankStatementLine) -> str:
    return badge(line.get_status_display(), LINE_COLORS.get(line.status, ""))


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

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > settings.OTC_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {megabytes(settings.OTC_MAX_UPLOAD_BYTES)}.")
        return file

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


class CompanyBankAccountForm(forms.ModelForm):
    """Identifiers as statements write them: compact and upper-case, so an import finds the account."""

    class Meta:
        model = CompanyBankAccount
        fields = ["name", "iban", "bank_code", "account_number", "currency", "is_active"]

    def clean_iban(self) -> str:
        iban = self.cleaned_data["iban"]
        return normalize_iban(iban) if iban.strip() else ""

    def clean_bank_code(self) -> str:
        return "".join(self.cleaned_data["bank_code"].split()).upper()

    def clean_account_number(self) -> str:
        return "".join(self.cleaned_data["account_number"].split()).upper()

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("iban") and not cleaned.get("account_number"):
            self.add_error("account_number", "Enter the IBAN, or the account number where the account has none.")
        return cleaned


@admin.register(CompanyBankAccount)
class CompanyBankAccountAdmin(ModelAdmin):
    """The company's own accounts: statements of any other account are refused at import."""

    form = CompanyBankAccountForm
    list_display = ["name", "iban", "bank_code", "account_number", "currency", "is_active"]
    list_filter = ["currency", "is_active"]
    search_fields = ["name", "iban", "account_number"]

    def has_delete_permission(self, request, obj=None) -> bool:
        """An account with statements stays (deactivate it instead); its statements keep pointing at it."""
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.statements.exists())


@admin.register(BankStatement)
class BankStatementAdmin(DocumentAdmin):
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
            upload = form.service_kwargs()
            try:
                if runs_in_background(content=upload["content"], format=upload["format"]):
                    return HttpResponseRedirect(change_url(queue_statement_upload(actor=request.user, **upload)))
                statements = import_bank_statement(actor=request.user, **upload)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                for statement in statements:
                    self._reconcile(request, statement)
                several = reverse("admin:payments_bankstatement_changelist")
                return HttpResponseRedirect(change_url(statements[0]) if len(statements) == 1 else several)
        return upload_form_page(
            request,
            self,
            title="Upload statement",
            form=form,
            submit_label="Upload and reconcile",
            intro=(
                "The statement is imported whole or not at all, then every incoming line the matching engine "
                f"is sure of is applied; the rest waits in the reconciliation queue. A file of more than "
                f"{settings.OTC_STATEMENT_BACKGROUND_LINES} lines is imported and reconciled in the background "
                "while its page shows the progress."
            ),
        )

    def _reconcile(self, request, statement: BankStatement) -> None:
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


@admin.register(BankStatementUpload)
class BankStatementUploadAdmin(ReadOnlyModelAdmin):
    """Long statement files, imported and reconciled by a worker: each upload's page shows its progress
    (refreshed every 2 s until it is done or failed), then leads to its statements and the queue."""

    list_display = [
        "filename",
        "format",
        "status_badge",
        "lines_read",
        "lines_reconciled",
        "applied_automatically",
        "waiting",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = [("status", ChoicesDropdownFilter)]
    search_fields = ["filename"]
    list_select_related = ["uploaded_by"]
    fields = [
        "filename",
        "format",
        "status_badge",
        "lines_read",
        "lines_reconciled",
        "applied_automatically",
        "waiting",
        "set_aside",
        "error",
        "uploaded_by",
        "uploaded_at",
        "finished_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/payments/bankstatementupload/change_form.html"

    @display(description="Status", ordering="status")
    def status_badge(self, upload: BankStatementUpload) -> str:
        return badge(upload.get_status_display(), UPLOAD_COLORS[upload.status])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        upload = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {})}
        if upload is not None:
            statements = statement_list().filter(uploads=upload).order_by("pk")
            context.update(
                upload=upload,
                percent=round(100 * upload.lines_reconciled / upload.lines_read) if upload.lines_read else 0,
                statements=[(statement, self._queue_url(statement)) for statement in statements],
                queue_url=reverse("admin:payments_bankstatementline_changelist"),
            )
        return super().change_view(request, object_id, form_url, context)

    @staticmethod
    def _queue_url(statement: BankStatement) -> str:
        return reverse("admin:payments_bankstatementline_changelist") + f"?statement__id__exact={statement.pk}"


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
            return queryset.filter(queue_condition())
        return queryset.filter(status=value)


class ApplyLineForm(forms.Form):
    """The clerk's own split: whose payment it is (chosen, or found through one of their open invoices),
    then that customer's open invoices in the line's currency, oldest due first, to tick, each with the
    amount to apply (what is open, to start) and a write-off box for a short rest. Nothing ticked puts
    the whole amount on the customer's account as credit."""

    def __init__(self, *args, line: BankStatementLine, customer: Customer | None, ticked: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line
        self.customer = customer
        self.fields["customer"] = customer_field(
            required=False, initial=customer, help_text="Whose payment this is. Another customer: choose and save."
        )
        self.fields["find"] = forms.CharField(
            label="Or find an open invoice",
            max_length=40,
            required=False,
            widget=UnfoldAdminTextInputWidget,
            help_text="Any customer's invoice number, as typed (year, prefix and zeros may be left out).",
        )
        self.fields["shown_for"] = forms.CharField(
            required=False, widget=forms.HiddenInput, initial=customer.pk if customer else ""
        )
        self.invoices = list(
            invoicing_selectors.open_items(customer=customer)
            .filter(kind=DocumentKind.INVOICE, currency=line.currency)
            .order_by("due_date", "pk")
            if customer
            else []
        )
        for invoice in self.invoices:
            due = f"due {invoice.due_date:%Y-%m-%d}" if invoice.due_date else "no due date"
            self.fields[f"take_{invoice.pk}"] = forms.BooleanField(
                label=f"{invoice.number} · {due} · {money_text(invoice.open_amount, invoice.currency)} open",
                required=False,
                initial=invoice.pk in ticked,
                widget=UnfoldBooleanWidget,
            )
            self.fields[f"amount_{invoice.pk}"] = amount_field(
                f"Amount for {invoice.number}", required=False, initial=quantize(invoice.open_amount, invoice.currency)
            )
            self.fields[f"write_off_{invoice.pk}"] = forms.BooleanField(
                label=f"Write off what {invoice.number} is still short", required=False, widget=UnfoldBooleanWidget
            )
        self._applications: list[services.Application] = []

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.customer is None:
            raise forms.ValidationError("Choose the customer, or find one of their open invoices by number.")
        for invoice in self.invoices:
            if not cleaned.get(f"take_{invoice.pk}"):
                continue
            amount, write_off = cleaned.get(f"amount_{invoice.pk}"), cleaned.get(f"write_off_{invoice.pk}", False)
            if not amount and not write_off:
                self.add_error(f"amount_{invoice.pk}", "Enter an amount (or tick the write-off).")
            else:
                self._applications.append(services.Application(invoice, amount or ZERO, write_off=write_off))
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
class BankStatementLineAdmin(DetailActionsByState, ReadOnlyModelAdmin):
    """The reconciliation queue: each waiting line with its ranked proposals, accepted in one click,
    applied by hand, or ignored with a reason; an applied line can be undone."""

    list_display = [
        "line",
        "booking_date",
        "amount_text",
        "counterparty_name",
        "payer_iban",
        "remittance",
        "statement_link",
        "status_badge",
    ]
    list_display_links = ["line"]
    list_filter = [LineStatusFilter, ("booking_date", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["counterparty_name", "remittance_information", "structured_reference"]
    search_help_text = "Payer name, remittance text or reference, or the payer's full IBAN."
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
        "decision",
        "decision_reasons",
    ]
    readonly_fields = fields
    change_form_template = "admin/payments/bankstatementline/change_form.html"
    actions_detail = ["apply_by_hand", "ignore", "undo"]
    detail_action_states = {
        "apply_by_hand": selectors.is_waiting,
        "ignore": selectors.is_undecided,
        "undo": selectors.has_payment,
    }

    def get_queryset(self, request) -> QuerySet[BankStatementLine]:
        return super().get_queryset(request).select_related("statement", "payment")

    def has_reconcile_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(RECONCILE)

    # -- list and read-only fields ----------------------------------------------------------------------

    @display(description="Line", ordering="pk")
    def line(self, line: BankStatementLine) -> str:
        return f"{line.statement.statement_id}/{line.line_no}"

    def get_search_results(self, request, queryset, search_term):
        """The IBAN is stored encrypted: a search term that is a whole IBAN finds its lines by fingerprint."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            iban = normalize_iban(search_term)
        except ValidationError:
            return found, may_have_duplicates
        return found | queryset.filter(counterparty_iban_fingerprint=fingerprint(iban)), may_have_duplicates

    @display(description="Payer IBAN")
    def payer_iban(self, line: BankStatementLine) -> str:
        return line.counterparty_iban_masked or "-"

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

    @display(description="Applied")
    def decision(self, line: BankStatementLine) -> str:
        if not line.payment_id:
            return "-"
        if not line.applied_automatically:
            return "By a clerk"
        return f"Automatically, with {round(line.match_confidence * 100)} % confidence"

    @display(description="Why")
    def decision_reasons(self, line: BankStatementLine) -> str:
        """The reasons the matching engine applied the line with, one a line, as a clerk checks them."""
        return format_html_join(format_html("<br>"), "{}", ((reason,) for reason in line.match_reasons)) or "-"

    # -- the line's page: its proposals ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        line = self.get_object(request, unquote(object_id))
        context = {**(extra_context or {}), "proposals": [], "can_reconcile": False}
        if line is not None and line.status == StatementLineStatus.UNMATCHED and line.amount > ZERO:
            context["proposals"] = self._proposal_rows(line)
            context["can_reconcile"] = request.user.has_perm(RECONCILE)
            context["accept_url"] = reverse("admin:payments_bankstatementline_accept", args=[line.pk])
            context["apply_url"] = reverse("admin:payments_bankstatementline_apply_by_hand", args=[line.pk])
            context["skip_url"] = self._skip_url(line)
        return super().change_view(request, object_id, form_url, context)

    def _proposal_rows(self, line: BankStatementLine) -> list[dict]:
        proposals = line_proposals(line=line)
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
        proposals = line_proposals(line=line)
        if not 0 <= rank < len(proposals) or proposal_key(proposals[rank]) != request.POST.get("key"):
            messages.warning(request, "The proposals for this line changed since the page was shown; check them again.")
            return HttpResponseRedirect(change_url(line))
        accepted = call_once(
            request,
            lambda: reconciliation.accept_proposal(line=line, proposal=proposals[rank], actor=request.user),
            done=f"Line {line.line_no} of {line.statement.statement_id} applied as proposed.",
        )
        return HttpResponseRedirect(self._next_url(line) if accepted else change_url(line))

    def _skip_url(self, line: BankStatementLine) -> str:
        """The line after this one in the queue's order (newest first), wrapping round to the first."""
        waiting = BankStatementLine.objects.filter(status=StatementLineStatus.UNMATCHED, amount__gt=0).order_by(
            "-booking_date", "-pk"
        )
        after = waiting.filter(
            Q(booking_date__lt=line.booking_date) | Q(booking_date=line.booking_date, pk__lt=line.pk)
        ).first()
        following = after or waiting.exclude(pk=line.pk).first()
        return change_url(following) if following else reverse("admin:payments_bankstatementline_changelist")

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
        customer, ticked, applying = self._hand_choice(request, line)
        form = ApplyLineForm(request.POST if applying else None, line=line, customer=customer, ticked=ticked)
        if form.is_bound and form.is_valid():
            try:
                payment = reconciliation.apply_line(
                    line=line, customer=customer, applications=form.applications(), actor=request.user
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
            submit_label="Apply" if customer else "Show open invoices",
            intro=(
                f"Remittance: {line.remittance_information or line.structured_reference or '-'}. Tick the invoices "
                f"this money pays and adjust the amounts; what is not allocated stays on {customer or 'the'} "
                "customer's account as credit."
            ),
        )

    def _hand_choice(self, request, line: BankStatementLine) -> tuple[Customer | None, set[int], bool]:
        """Whose open invoices to show, which to tick, and whether the post applies the line (it shows
        another customer's invoices instead when the clerk chose or found another customer)."""
        if request.method != "POST":
            best = line_proposals(line=line, limit=1)
            customer = Customer.objects.filter(pk=best[0].customer_id).first() if best else None
            return customer, set(best[0].invoice_ids) if best else set(), False
        number = request.POST.get("find", "").strip()
        if number:
            invoice = invoicing_selectors.open_invoice_by_typed_number(number, currency=line.currency)
            if invoice is None:
                messages.error(request, f"No open {line.currency} invoice numbered {number}.")
            else:
                return invoice.customer, {invoice.pk}, False
        chosen = Customer.objects.filter(pk=request.POST.get("customer") or None).first()
        shown = request.POST.get("shown_for", "")
        return chosen, set(), bool(chosen) and shown == str(chosen.pk) and not number

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
