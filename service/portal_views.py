"""The customer self-service portal. Every query goes through customers.selectors' portal scoping,
so another customer's object is a 404; every write goes through customers.services with the portal
user as the actor."""

from datetime import timedelta

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers import services
from customers.models import Address, Contact, PortalRole, Preferences
from customers.selectors import scoped_to_portal_user
from invoicing.documents.errors import EInvoiceInvalid
from invoicing.documents.payment_codes import bank_transfer_details
from invoicing.documents.services import document_for, statement_pdf
from invoicing.documents.statements import statement_of_account
from invoicing.models import DocumentFormat, InvoiceStatus
from invoicing.selectors import invoice_detail, invoice_list
from orders.documents import confirmation_document, delivery_note_document
from orders.errors import DocumentNotAvailable
from orders.models import Order, Shipment
from orders.selectors import order_detail, order_list, order_return_requests
from otc.documents import download, pdf_download
from service.forms import AddressForm, BankAccountRequestForm, ContactForm, PreferencesForm, StatementPeriodForm
from service.portal_access import einvoice_refusal, portal_view, submit_form
from service.selectors import pending_surveys
from service.services import survey_token


@portal_view()
def home(request: HttpRequest) -> HttpResponse:
    customer = request.portal_customer
    context = {
        "customer": customer,
        "recent_orders": scoped_to_portal_user(order_list(), user=request.user)[:5]
        if PortalRole.BUYER in request.portal_roles
        else [],
        "contacts": scoped_to_portal_user(Contact.objects.filter(is_active=True), user=request.user),
        "addresses": customer.addresses.all(),
        "preferences": customer.preferences,
    }
    return render(request, "portal/home.html", context)


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    current = get_object_or_404(scoped_to_portal_user(Preferences.objects.all(), user=request.user))
    initial = {name: getattr(current, name) for name in PreferencesForm.base_fields}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and submit_form(
        form,
        lambda data: services.update_preferences(customer=current.customer, actor=request.user, data=data),
    ):
        messages.success(request, _("Your preferences are saved."))
        return redirect("portal:home")
    return render(request, "portal/form.html", {"form": form, "title": _("Communication preferences")})


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def contact_add(request: HttpRequest) -> HttpResponse:
    customer = request.portal_customer
    form = ContactForm(request.POST or None)
    if request.method == "POST" and submit_form(
        form, lambda data: services.add_contact(customer=customer, actor=request.user, data=data)
    ):
        messages.success(request, _("Contact added."))
        return redirect("portal:home")
    return render(request, "portal/form.html", {"form": form, "title": _("Add a contact")})


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def address_add(request: HttpRequest) -> HttpResponse:
    form = AddressForm(request.POST or None, initial={"country": request.portal_customer.country})
    if request.method == "POST" and submit_form(
        form, lambda data: services.add_address(customer=request.portal_customer, actor=request.user, data=data)
    ):
        messages.success(request, _("Address added."))
        return redirect("portal:home")
    return render(request, "portal/form.html", {"form": form, "title": _("Add an address")})


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(scoped_to_portal_user(Address.objects.all(), user=request.user), pk=pk)
    form = AddressForm(request.POST or None, initial={name: getattr(address, name) for name in AddressForm.base_fields})
    if request.method == "POST" and submit_form(
        form, lambda data: services.update_address(address=address, actor=request.user, data=data)
    ):
        messages.success(request, _("Address updated."))
        return redirect("portal:home")
    return render(request, "portal/form.html", {"form": form, "title": _("Edit the address")})


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def bank_account_request(request: HttpRequest) -> HttpResponse:
    """A new bank account is a change request that our finance staff approve (four eyes), never a direct edit."""
    form = BankAccountRequestForm(request.POST or None)
    if request.method == "POST" and submit_form(
        form,
        lambda data: services.request_bank_account(
            customer=request.portal_customer,
            actor=request.user,
            holder_name=data["holder_name"],
            iban=data["iban"],
            bic=data["bic"],
            reason=data["reason"],
        ),
    ):
        messages.success(
            request,
            _("Your new bank account waits for approval by our finance team (four eyes); we use it once approved."),
        )
        return redirect("portal:home")
    return render(
        request,
        "portal/form.html",
        {
            "form": form,
            "title": _("Change the bank account"),
            "intro": _("For your safety a second person on our side approves every new bank account."),
            "submit": _("Request the change"),
        },
    )


@portal_view(PortalRole.ADMIN)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(scoped_to_portal_user(Contact.objects.all(), user=request.user), pk=pk)
    initial = {name: getattr(contact, name) for name in ContactForm.base_fields}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and submit_form(
        form, lambda data: services.update_contact(contact=contact, actor=request.user, data=data)
    ):
        messages.success(request, _("Contact updated."))
        return redirect("portal:home")
    return render(request, "portal/form.html", {"form": form, "title": _("Edit %(name)s") % {"name": contact.name}})


@portal_view(PortalRole.BUYER)
def orders(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/orders.html", {"orders": scoped_to_portal_user(order_list(), user=request.user)[:200]}
    )


@portal_view(PortalRole.BUYER)
def order(request: HttpRequest, number: str) -> HttpResponse:
    """An order with its lines, shipments, tracking timeline and return requests; another customer's
    order is a 404."""
    mine = _my_order(request.user, number)
    context = {"order": order_detail(pk=mine.pk), "return_requests": order_return_requests(order=mine)}
    return render(request, "portal/order.html", context)


def _my_order(user, number: str) -> Order:
    return get_object_or_404(scoped_to_portal_user(Order.objects.all(), user=user), number=number)


@portal_view(PortalRole.BUYER)
def order_confirmation(request: HttpRequest, number: str) -> HttpResponse:
    """The order confirmation PDF as the customer got it by email; another customer's order is a 404,
    an order never confirmed has none (back to the order with a message)."""
    mine = _my_order(request.user, number)
    try:
        return download(confirmation_document(order=mine))
    except DocumentNotAvailable:
        messages.error(request, _("This order has not been confirmed yet, so it has no confirmation."))
        return redirect("portal:order", number=mine.number)


@portal_view(PortalRole.BUYER)
def delivery_note(request: HttpRequest, number: str, shipment: str) -> FileResponse:
    """A shipment's delivery note PDF; a shipment of another customer's order is a 404."""
    mine = get_object_or_404(Shipment.objects.filter(order=_my_order(request.user, number)), number=shipment)
    return download(delivery_note_document(shipment=mine))


def _issued_documents(user) -> QuerySet:
    """The customer's issued invoices and credit notes; drafts are finance's business, not the portal's."""
    return scoped_to_portal_user(invoice_list(), user=user).exclude(status=InvoiceStatus.DRAFT)


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
def invoices(request: HttpRequest) -> HttpResponse:
    documents = _issued_documents(request.user).order_by("-issue_date", "-pk")
    only_open = request.GET.get("open") == "1"
    if only_open:
        documents = documents.filter(open_amount__gt=0)
    return render(request, "portal/invoices.html", {"invoices": documents[:200], "only_open": only_open})


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
def invoice(request: HttpRequest, pk: int) -> HttpResponse:
    """An invoice or credit note with its lines, VAT and downloads; another customer's is a 404."""
    mine = get_object_or_404(_issued_documents(request.user), pk=pk)
    context = {"invoice": invoice_detail(pk=mine.pk), "transfer": bank_transfer_details(mine)}
    return render(request, "portal/invoice.html", context)


PORTAL_FORMATS = {DocumentFormat.PDF, DocumentFormat.UBL, DocumentFormat.FACTURX, DocumentFormat.XRECHNUNG}


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
def invoice_document(request: HttpRequest, pk: int, document_format: str) -> FileResponse:
    """The stored file, rendered once (by the delivery task, or here on first download)."""
    if document_format not in PORTAL_FORMATS:
        raise Http404("Unknown format.")
    mine = get_object_or_404(_issued_documents(request.user), pk=pk)
    try:
        document = document_for(invoice=mine, format=document_format)
    except EInvoiceInvalid as invalid:
        messages.error(request, einvoice_refusal(invalid))
        return redirect("portal:invoice", pk=mine.pk)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.filename)


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
def statement(request: HttpRequest) -> HttpResponse:
    """Statement of account for a period (the last 90 days unless chosen), on screen or as PDF."""
    customer = request.portal_customer
    today = timezone.localdate()
    form = StatementPeriodForm(request.GET or {"start": today - timedelta(days=90), "end": today})
    if not form.is_valid():
        return render(request, "portal/statement.html", {"form": form, "statement": None})
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    if request.GET.get("format") == "pdf":
        pdf = statement_pdf(customer=customer, start=start, end=end)
        return pdf_download(filename=pdf.filename, content=pdf.content)
    account = statement_of_account(customer=customer, start=start, end=end)
    return render(request, "portal/statement.html", {"form": form, "statement": account})


@portal_view()
def surveys(request: HttpRequest) -> HttpResponse:
    """The customer's surveys still to answer, each with its signed link."""
    pending = pending_surveys(now=timezone.now()).filter(customer=request.portal_customer)
    context = {"surveys": [(survey, survey_token(survey)) for survey in pending]}
    return render(request, "portal/surveys.html", context)
