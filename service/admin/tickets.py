"""The agents' screen: ticket queues (mine, my team's, unassigned, breaching soon, waiting on the
customer) with their SLA standing, search by number, customer or words, bulk assign and close; a
ticket's page shows the conversation with a reply form (canned replies, internal-note toggle,
attachment), and actions to change status, assign and link documents. "New ticket" is pre-filled
from a customer, order or invoice. Every write is one service call with the signed-in user as actor."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator
from unfold.widgets import (
    UnfoldAdminFileFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from customers.models import Customer
from invoicing.models import DocumentKind, Invoice
from orders.models import Order, Shipment
from otc.admin import admin_link, apply_domain_error, badge, call_once, change_url, service_form_page
from otc.errors import DomainError
from otc.models import User
from payments.models import Payment
from service import services
from service.admin.disputes import DisputeForm
from service.models import (
    CannedReply,
    MessageKind,
    Team,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from service.selectors import breaching_soon, conversation, sla_state, ticket_list, ticket_search

STATUS_COLORS = {
    TicketStatus.NEW: "info",
    TicketStatus.OPEN: "warning",
    TicketStatus.WAITING_ON_US: "warning",
    TicketStatus.WAITING_ON_CUSTOMER: "",
    TicketStatus.SOLVED: "success",
    TicketStatus.CLOSED: "success",
}
SLA_COLORS = {"breached": "danger", "soon": "warning", "on track": "success", "met": "success", "missed": "danger"}
CHANGE = "service.change_ticket"
DOCUMENT_KINDS = {
    "order": (Order, "Order"),
    "shipment": (Shipment, "Shipment"),
    "invoice": (Invoice, "Invoice or credit note"),
    "payment": (Payment, "Payment"),
}


def staff_choices() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=User.objects.filter(is_staff=True, is_active=True),
        required=False,
        widget=UnfoldAdminSelectWidget,
        label="Agent",
    )


def team_choices() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(queryset=Team.objects.all(), required=False, widget=UnfoldAdminSelectWidget)


def optional_number(label: str) -> forms.CharField:
    return forms.CharField(label=label, max_length=20, required=False, widget=UnfoldAdminTextInputWidget)


class NewTicketForm(forms.Form):
    customer_number = forms.CharField(label="Customer number", max_length=20, widget=UnfoldAdminTextInputWidget)
    contact_email = forms.EmailField(
        label="Contact or sender email",
        required=False,
        widget=UnfoldAdminTextInputWidget,
        help_text="A contact of the customer is linked; another address gets the replies as the sender.",
    )
    subject = forms.CharField(max_length=300, widget=UnfoldAdminTextInputWidget)
    body = forms.CharField(label="The customer's request", widget=UnfoldAdminTextareaWidget(attrs={"rows": 5}))
    category = forms.ChoiceField(choices=TicketCategory.choices, widget=UnfoldAdminSelectWidget)
    priority = forms.ChoiceField(
        choices=TicketPriority.choices, initial=TicketPriority.NORMAL, widget=UnfoldAdminSelectWidget
    )
    team = team_choices()
    assignee = staff_choices()
    order_number = optional_number("Order number")
    invoice_number = optional_number("Invoice or credit note number")
    attachment = forms.FileField(required=False, widget=UnfoldAdminFileFieldWidget)

    def clean_customer_number(self) -> Customer:
        customer = Customer.objects.filter(number=self.cleaned_data["customer_number"].strip().upper()).first()
        if customer is None:
            raise forms.ValidationError("No customer with this number.")
        return customer

    def _document(self, field: str, model) -> list:
        number = self.cleaned_data.get(field, "").strip()
        if not number:
            return []
        document = model.objects.filter(number=number).first()
        if document is None:
            self.add_error(field, f"No document {number}.")
            return []
        return [document]

    def clean(self):
        cleaned = super().clean()
        cleaned["links"] = self._document("order_number", Order) + self._document("invoice_number", Invoice)
        return cleaned


def initial_for_new_ticket(params) -> dict:
    """Pre-fill from ?customer=<id>, ?order=<id> or ?invoice=<id> (the links on those pages)."""
    initial = {}
    if (order := Order.objects.select_related("customer").filter(pk=_int(params.get("order"))).first()) is not None:
        initial.update(customer_number=order.customer.number, order_number=order.number, category="order")
    elif (
        invoice := Invoice.objects.select_related("customer").filter(pk=_int(params.get("invoice"))).first()
    ) is not None:
        initial.update(customer_number=invoice.customer.number, invoice_number=invoice.number or "", category="billing")
    elif (customer := Customer.objects.filter(pk=_int(params.get("customer"))).first()) is not None:
        initial.update(customer_number=customer.number)
    return initial


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def uploads(files) -> list[services.Upload]:
    return [services.Upload(file.name, file.read()) for file in files if file]


class ReplyForm(forms.Form):
    internal = forms.BooleanField(label="Internal note (not sent to the customer)", required=False)
    canned_reply = forms.ModelChoiceField(
        queryset=CannedReply.objects.filter(is_active=True),
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text="Its placeholders are filled from the ticket; a text typed below is used instead.",
    )
    body = forms.CharField(required=False, widget=UnfoldAdminTextareaWidget(attrs={"rows": 5}))
    status = forms.ChoiceField(
        label="Then set status",
        choices=[("", "(unchanged)"), *TicketStatus.choices],
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    attachment = forms.FileField(required=False, widget=UnfoldAdminFileFieldWidget)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("body", "").strip() and cleaned.get("canned_reply") is None:
            self.add_error("body", "Write a reply or choose a canned reply.")
        if cleaned.get("internal") and cleaned.get("canned_reply") and not cleaned.get("body", "").strip():
            self.add_error("canned_reply", "Canned replies are replies to the customer.")
        return cleaned


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=TicketStatus.choices, widget=UnfoldAdminSelectWidget)


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(
        choices=TicketPriority.choices,
        widget=UnfoldAdminSelectWidget,
        help_text="The SLA clocks restart from now under the policy for the new priority.",
    )


class AssignForm(forms.Form):
    team = team_choices()
    assignee = staff_choices()


class LinkForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(key, label) for key, (_, label) in DOCUMENT_KINDS.items()], widget=UnfoldAdminSelectWidget
    )
    number = forms.CharField(max_length=20, widget=UnfoldAdminTextInputWidget)

    def clean(self):
        cleaned = super().clean()
        if "kind" in cleaned and "number" in cleaned:
            model = DOCUMENT_KINDS[cleaned["kind"]][0]
            cleaned["document"] = model.objects.filter(number=cleaned["number"].strip()).first()
            if cleaned["document"] is None:
                self.add_error("number", f"No {DOCUMENT_KINDS[cleaned['kind']][1].lower()} {cleaned['number']}.")
        return cleaned


class QueueFilter(SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("mine", "Mine"),
            ("team", "My team's"),
            ("unassigned", "Unassigned"),
            ("breaching", "Breaching soon"),
            ("waiting", "Waiting on customer"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        active = queryset.exclude(status__in=[TicketStatus.SOLVED, TicketStatus.CLOSED])
        if value == "mine":
            return active.filter(assignee=request.user)
        if value == "team":
            return active.filter(team__members=request.user)
        if value == "unassigned":
            return active.filter(assignee__isnull=True)
        if value == "breaching":
            return breaching_soon(active, now=timezone.now())
        if value == "waiting":
            return queryset.filter(status=TicketStatus.WAITING_ON_CUSTOMER)
        return queryset


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    list_display = ["number", "subject", "customer", "status_badge", "priority", "assignee", "team", "sla_badge"]
    list_display_links = ["number", "subject"]
    list_filter = [
        QueueFilter,
        ("status", ChoicesDropdownFilter),
        ("priority", ChoicesDropdownFilter),
        ("category", ChoicesDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        ("team", RelatedDropdownFilter),
    ]
    list_filter_submit = True
    search_fields = ["number"]  # the search box; get_search_results does the real work
    search_help_text = "Ticket number, customer number, or words in the subject and messages."
    show_full_result_count = False
    paginator = InfinitePaginator
    actions = ["assign_selected", "close_selected"]
    actions_detail = ["change_status", "change_priority", "assign", "link_document", "dispute_invoice"]
    fields = [
        "number",
        "customer_link",
        "contact",
        "sender_email",
        "subject",
        "category",
        "priority",
        "status_badge",
        "channel",
        "team",
        "assignee",
        "tags",
        "documents",
        "sla_text",
        "created_at",
    ]
    readonly_fields = fields
    change_form_outer_after_template = "admin/service/ticket/conversation.html"

    def get_queryset(self, request):
        return ticket_list().select_related("sla_policy")

    def get_search_results(self, request, queryset, search_term):
        return ticket_search(queryset, search_term), False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_work_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm(CHANGE)

    # -- columns -----------------------------------------------------------------------------------------

    @display(description="Status", ordering="status")
    def status_badge(self, ticket: Ticket) -> str:
        return badge(ticket.get_status_display(), STATUS_COLORS.get(ticket.status, ""))

    @display(description="SLA", ordering="sla_due_at")
    def sla_badge(self, ticket: Ticket) -> str:
        state = sla_state(ticket, now=timezone.now())
        return badge(state, SLA_COLORS.get(state, "")) if state != "none" else "-"

    @display(description="Customer")
    def customer_link(self, ticket: Ticket) -> str:
        if ticket.customer is None:
            return ticket.sender_email or "-"
        return format_html(
            '{} · <a class="text-primary-600 underline" id="open-customer-360" href="{}#customer-360">{}</a>',
            admin_link(change_url(ticket.customer), str(ticket.customer)),
            change_url(ticket.customer),
            "open the customer 360",
        )

    @display(description="Documents")
    def documents(self, ticket: Ticket) -> str:
        linked = [
            *ticket.orders.all(),
            *ticket.shipments.all(),
            *ticket.invoices.all(),
            *ticket.payments.all(),
        ]
        if not linked:
            return "-"
        return format_html_join(", ", "{}", ((admin_link(change_url(doc), str(doc.number)),) for doc in linked))

    @display(description="SLA")
    def sla_text(self, ticket: Ticket) -> str:
        if ticket.sla_policy is None:
            return "No SLA policy"
        return format_html(
            "{} · first response due {} (given {}) · resolution due {} · {}",
            ticket.sla_policy,
            _when(ticket.first_response_due_at),
            _when(ticket.first_response_at),
            _when(ticket.resolution_due_at) if ticket.resolution_due_at else "paused",
            sla_state(ticket, now=timezone.now()),
        )

    # -- the conversation and the reply form ---------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = get_object_or_404(ticket_list(), pk=object_id)
        extra_context = {
            **(extra_context or {}),
            "conversation": conversation(ticket),
            "reply_form": ReplyForm(),
            "reply_url": reverse("admin:service_ticket_reply", args=[ticket.pk]),
            "may_reply": request.user.has_perm(CHANGE),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("<int:object_id>/reply/", self.admin_site.admin_view(self.reply_view), name="service_ticket_reply"),
            path(
                "<int:object_id>/attachments/<int:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="service_ticket_attachment",
            ),
            *super().get_urls(),
        ]

    def reply_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm(CHANGE):
            raise PermissionDenied
        ticket = get_object_or_404(Ticket, pk=object_id)
        form = ReplyForm(request.POST, request.FILES)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return HttpResponseRedirect(change_url(ticket))
        data = form.cleaned_data
        body, status = data["body"].strip(), data["status"] or None
        kind = MessageKind.INTERNAL_NOTE if data["internal"] else MessageKind.REPLY
        attachments = uploads([data["attachment"]])
        if data["canned_reply"] is not None and not body:
            call = lambda: services.apply_canned_reply(  # noqa: E731
                ticket=ticket, canned_reply=data["canned_reply"], actor=request.user, status=status
            )
        else:
            call = lambda: services.add_message(  # noqa: E731
                ticket=ticket, kind=kind, body=body, actor=request.user, attachments=attachments, status=status
            )
        done = "Internal note added." if kind == MessageKind.INTERNAL_NOTE else "Reply sent to the customer."
        call_once(request, call, done=done)
        return HttpResponseRedirect(change_url(ticket))

    def attachment_view(self, request: HttpRequest, object_id: int, attachment_id: int) -> FileResponse:
        """Attachments are served only here (and to the customer's own portal users), never from media."""
        if not request.user.has_perm("service.view_ticket"):
            raise PermissionDenied
        attachment = get_object_or_404(TicketAttachment, pk=attachment_id, message__ticket_id=object_id)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )

    # -- new ticket ------------------------------------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = NewTicketForm(request.POST, request.FILES)
        else:
            form = NewTicketForm(initial=initial_for_new_ticket(request.GET))
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            customer = data["customer_number"]
            email = (data["contact_email"] or "").lower()
            contact = customer.contacts.filter(email__iexact=email, is_active=True).first() if email else None
            try:
                ticket = services.open_ticket(
                    customer=customer,
                    contact=contact,
                    sender_email="" if contact else email,
                    subject=data["subject"],
                    body=data["body"],
                    channel=TicketChannel.STAFF,
                    category=data["category"],
                    priority=data["priority"],
                    team=data["team"],
                    assignee=data["assignee"],
                    links=data["links"],
                    attachments=uploads([data["attachment"]]),
                    actor=request.user,
                )
            except DomainError as error:
                apply_domain_error(
                    form,
                    error,
                    field_map={"links": "invoice_number", "attachments": "attachment", "contact": "contact_email"},
                )
            else:
                messages.success(request, f"{ticket} opened.")
                return HttpResponseRedirect(change_url(ticket))
        return service_form_page(request, self, title="New ticket", form=form, submit_label="Open ticket")

    # -- detail actions --------------------------------------------------------------------------------------

    def _detail(self, request, object_id, *, form_class, title: str, submit_label: str, call, done: str, initial=None):
        ticket = get_object_or_404(ticket_list(), pk=object_id)
        form = form_class(
            request.POST if request.method == "POST" else None, initial=initial(ticket) if initial else None
        )
        if form.is_bound and form.is_valid():
            call_once(request, lambda: call(ticket, form.cleaned_data), done=done)
            return HttpResponseRedirect(change_url(ticket))
        return service_form_page(
            request, self, title=f"{title}: {ticket}", form=form, obj=ticket, submit_label=submit_label
        )

    @action(description="Change status", permissions=["work"], url_path="status", icon="swap_horiz")
    def change_status(self, request, object_id) -> HttpResponse:
        return self._detail(
            request,
            object_id,
            form_class=StatusForm,
            title="Change status",
            submit_label="Change",
            initial=lambda ticket: {"status": ticket.status},
            call=lambda ticket, data: services.change_status(ticket=ticket, status=data["status"], actor=request.user),
            done="Status changed.",
        )

    @action(description="Change priority", permissions=["work"], url_path="priority", icon="priority_high")
    def change_priority(self, request, object_id) -> HttpResponse:
        return self._detail(
            request,
            object_id,
            form_class=PriorityForm,
            title="Change priority",
            submit_label="Change",
            initial=lambda ticket: {"priority": ticket.priority},
            call=lambda ticket, data: services.change_priority(
                ticket=ticket, priority=data["priority"], actor=request.user
            ),
            done="Priority changed; the SLA clocks restarted.",
        )

    @action(description="Assign", permissions=["work"], url_path="assign", icon="person")
    def assign(self, request, object_id) -> HttpResponse:
        return self._detail(
            request,
            object_id,
            form_class=AssignForm,
            title="Assign",
            submit_label="Assign",
            initial=lambda ticket: {"team": ticket.team_id, "assignee": ticket.assignee_id},
            call=lambda ticket, data: services.assign(
                ticket=ticket, team=data["team"], assignee=data["assignee"], actor=request.user
            ),
            done="Assigned.",
        )

    @action(description="Link document", permissions=["work"], url_path="link", icon="link")
    def link_document(self, request, object_id) -> HttpResponse:
        return self._detail(
            request,
            object_id,
            form_class=LinkForm,
            title="Link a document of the customer",
            submit_label="Link",
            call=lambda ticket, data: services.link_documents(
                ticket=ticket, documents=[data["document"]], actor=request.user
            ),
            done="Document linked.",
        )

    @action(description="Dispute an invoice", permissions=["dispute"], url_path="dispute", icon="gavel")
    def dispute_invoice(self, request, object_id) -> HttpResponse:
        return self._detail(
            request,
            object_id,
            form_class=DisputeForm,
            title="Dispute an invoice of the customer",
            submit_label="Hold for dispute",
            call=lambda ticket, data: services.open_dispute(
                ticket=ticket,
                invoice=Invoice.objects.get(kind=DocumentKind.INVOICE, number=data["invoice_number"].strip()),
                reason=data["reason"],
                description=data["description"],
                amount=data["amount"],
                expires_on=data["expires_on"],
                actor=request.user,
            ),
            done="The invoice is held for the dispute; its resolution will be told on this ticket.",
        )

    def has_dispute_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("service.add_dispute")

    # -- bulk actions ----------------------------------------------------------------------------------------

    @action(description="Assign selected tickets", permissions=["work"])
    def assign_selected(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            team, assignee = form.cleaned_data["team"], form.cleaned_data["assignee"]
            call_once(
                request,
                lambda: services.bulk_assign(tickets=queryset, team=team, assignee=assignee, actor=request.user),
                done=f"{queryset.count()} tickets assigned.",
            )
            return None
        return service_form_page(
            request,
            self,
            title="Assign tickets",
            form=form,
            objects=queryset,
            action_name="assign_selected",
            submit_label="Assign",
        )

    @action(description="Close selected tickets", permissions=["work"])
    def close_selected(self, request, queryset) -> None:
        tickets = list(queryset)
        call_once(
            request,
            lambda: services.bulk_close(tickets=tickets, actor=request.user),
            done=f"{len(tickets)} tickets closed.",
        )


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(ModelAdmin):
    """Listed for finding a file; opened only through the ticket (permission-checked)."""

    list_display = ["filename", "content_type", "size", "ticket_link", "created_at"]
    search_fields = ["filename", "message__ticket__number"]
    show_full_result_count = False
    paginator = InfinitePaginator
    fields = ["filename", "content_type", "size", "ticket_link", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message__ticket")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description="Ticket")
    def ticket_link(self, attachment: TicketAttachment) -> str:
        ticket = attachment.message.ticket
        url = reverse("admin:service_ticket_attachment", args=[ticket.pk, attachment.pk])
        return format_html("{} · {}", admin_link(change_url(ticket), str(ticket)), admin_link(url, "download"))
