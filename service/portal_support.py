"""Asking and disputing in the portal: tickets (open one, optionally about an order or invoice, follow
the conversation, reply), disputing an invoice or some of its lines, and promising to pay. Writes go
through service.services and payments' collections services with the portal user as the actor."""

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.models import PortalRole
from customers.selectors import scoped_to_portal_user
from invoicing.models import DocumentKind, InvoiceStatus
from invoicing.selectors import invoice_list
from orders.models import Order
from payments.collections.services import record_promise_to_pay
from service import services
from service.forms import DisputeForm, PromiseForm, TicketForm, TicketReplyForm
from service.models import CUSTOMER_VISIBLE, MessageKind, Ticket, TicketChannel
from service.portal_access import portal_view, submit_form
from service.services import Upload


def _uploads(form) -> list[Upload]:
    upload = form.cleaned_data.get("attachment")
    return [Upload(upload.name, upload.read())] if upload else []


def _my_tickets(request: HttpRequest) -> QuerySet[Ticket]:
    return scoped_to_portal_user(Ticket.objects.all(), user=request.user)


def _open_invoices(request: HttpRequest) -> QuerySet:
    return scoped_to_portal_user(invoice_list(), user=request.user).filter(
        kind=DocumentKind.INVOICE, status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]
    )


@portal_view()
def tickets(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/tickets.html", {"tickets": _my_tickets(request).order_by("-created_at")[:200]})


@portal_view()
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    """A new request; the order and invoice lists offer what the user's roles let them see."""
    roles = request.portal_roles
    orders = scoped_to_portal_user(Order.objects.order_by("-pk"), user=request.user)
    invoices = scoped_to_portal_user(invoice_list(), user=request.user).exclude(status=InvoiceStatus.DRAFT)
    form = TicketForm(
        request.POST or None,
        request.FILES or None,
        orders=orders if PortalRole.BUYER in roles else orders.none(),
        invoices=invoices.order_by("-pk") if PortalRole.ACCOUNTS_PAYABLE in roles else invoices.none(),
    )
    opened = {}
    if request.method == "POST" and submit_form(
        form,
        lambda data: opened.setdefault(
            "ticket",
            services.open_ticket(
                customer=request.portal_customer,
                subject=data["subject"],
                body=data["body"],
                channel=TicketChannel.PORTAL,
                category=data["category"],
                actor=request.user,
                sender_email=request.user.email,
                links=[document for document in (data["order"], data["invoice"]) if document],
                attachments=_uploads(form),
            ),
        ),
    ):
        ticket = opened["ticket"]
        messages.success(request, _("Your request %(number)s is with our team.") % {"number": ticket.number})
        return redirect("portal:ticket", number=ticket.number)
    return render(request, "portal/ticket_new.html", {"form": form})


@portal_view()
@require_http_methods(["GET", "POST"])
def ticket(request: HttpRequest, number: str) -> HttpResponse:
    """The conversation (never internal notes) and the reply form."""
    mine = get_object_or_404(_my_tickets(request), number=number)
    form = TicketReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and submit_form(
        form,
        lambda data: services.add_message(
            ticket=mine,
            kind=MessageKind.CUSTOMER_MESSAGE,
            body=data["body"],
            actor=request.user,
            sender_email=request.user.email,
            attachments=_uploads(form),
        ),
    ):
        messages.success(request, _("Your reply is added."))
        return redirect("portal:ticket", number=mine.number)
    conversation = (
        mine.messages.filter(kind__in=CUSTOMER_VISIBLE).select_related("author").prefetch_related("attachments")
    ).order_by("created_at", "pk")
    context = {"ticket": mine, "conversation": conversation, "form": form}
    return render(request, "portal/ticket.html", context)


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
@require_http_methods(["GET", "POST"])
def invoice_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """Dispute the invoice or some lines: a ticket opens with the dispute on it; dunning waits."""
    invoice = get_object_or_404(_open_invoices(request), pk=pk)
    form = DisputeForm(request.POST or None, invoice_lines=invoice.lines.order_by("pk"))
    raised = {}
    if request.method == "POST" and submit_form(
        form,
        lambda data: raised.setdefault(
            "dispute",
            services.dispute_from_portal(
                invoice=invoice,
                reason=data["reason"],
                description=data["description"],
                actor=request.user,
                lines=data["lines"],
            ),
        ),
    ):
        ticket = raised["dispute"].ticket
        messages.success(
            request,
            _("Invoice %(invoice)s is disputed; we answer in request %(ticket)s.")
            % {"invoice": invoice.number, "ticket": ticket.number},
        )
        return redirect("portal:ticket", number=ticket.number)
    return render(
        request,
        "portal/form.html",
        {"form": form, "title": _("Dispute invoice %(number)s") % {"number": invoice.number}, "submit": _("Dispute")},
    )


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
@require_http_methods(["GET", "POST"])
def invoice_promise(request: HttpRequest, pk: int) -> HttpResponse:
    """Promise to pay an open invoice by a date; reminders and dunning wait until then."""
    invoice = get_object_or_404(_open_invoices(request), pk=pk)
    form = PromiseForm(request.POST or None, initial={"amount": invoice.open_amount})
    if request.method == "POST" and submit_form(
        form,
        lambda data: record_promise_to_pay(
            customer=request.portal_customer,
            invoices=[invoice],
            promised_date=data["promised_date"],
            amount=data["amount"],
            actor=request.user,
            note=data["note"],
        ),
    ):
        messages.success(
            request, _("Thank you: your promise to pay invoice %(invoice)s is noted.") % {"invoice": invoice.number}
        )
        return redirect("portal:invoice", pk=invoice.pk)
    title = _("Promise to pay invoice %(number)s (%(amount)s %(currency)s open)") % {
        "number": invoice.number,
        "amount": number_format(invoice.open_amount, decimal_pos=2),
        "currency": invoice.currency,
    }
    return render(request, "portal/form.html", {"form": form, "title": title, "submit": _("Promise to pay")})
