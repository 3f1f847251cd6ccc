"""Paying in the portal (accounts payable): choose open invoices and pay them online through the
payment provider (payments.money.providers), and download several invoices at once as a ZIP."""

import zipfile
from io import BytesIO

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.models import PortalRole
from customers.selectors import scoped_to_portal_user
from invoicing.documents.errors import EInvoiceInvalid
from invoicing.documents.services import document_for
from invoicing.models import DocumentFormat, DocumentKind, InvoiceStatus
from invoicing.selectors import invoice_list
from otc.money import quantize
from payments.models import Checkout, CheckoutStatus
from payments.money.checkouts import OPEN_STATUSES, start_checkout
from payments.money.providers import TestProvider, online_provider, receive_checkout_notification
from service.forms import InvoiceChoiceForm
from service.portal_access import einvoice_refusal, portal_view, submit_form

ZIP_FORMATS = {DocumentFormat.PDF: "pdf", DocumentFormat.UBL: "ubl"}


def _open_invoices(request: HttpRequest):
    return (
        scoped_to_portal_user(invoice_list(), user=request.user)
        .filter(kind=DocumentKind.INVOICE, status__in=OPEN_STATUSES, open_amount__gt=0)
        .order_by("due_date", "pk")
    )


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest) -> HttpResponse:
    """Choose the open invoices to pay; the provider's page takes the payment."""
    provider = online_provider()
    form = InvoiceChoiceForm(request.POST or None, invoices=_open_invoices(request))
    started = {}
    if (
        provider is not None
        and request.method == "POST"
        and submit_form(
            form,
            lambda data: started.setdefault(
                "checkout",
                start_checkout(
                    customer=request.portal_customer,
                    invoices=list(data["invoices"]),
                    provider=provider.name,
                    actor=request.user,
                ),
            ),
        )
    ):
        return redirect(provider.hosted_page_url(started["checkout"]))
    return render(request, "portal/pay.html", {"form": form, "provider": provider})


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
@require_http_methods(["GET", "POST"])
def test_provider_page(request: HttpRequest, token: str) -> HttpResponse:
    """The test provider's hosted checkout page: paying posts its signed notification, which books
    the payment exactly as a real provider's webhook would."""
    provider = online_provider()
    if not isinstance(provider, TestProvider):
        raise Http404("The test payment provider is off.")
    checkout = get_object_or_404(
        scoped_to_portal_user(Checkout.objects.prefetch_related("items__invoice"), user=request.user),
        token=token,
        provider=provider.name,
    )
    if request.method == "POST" and checkout.status == CheckoutStatus.OPEN:
        body, headers = provider.signed_notification(checkout)
        payment = receive_checkout_notification(provider=provider.name, body=body, headers=headers)
        amount = number_format(quantize(payment.amount, payment.currency), decimal_pos=2)
        messages.success(
            request,
            _("Thank you: %(amount)s %(currency)s received (%(payment)s).")
            % {"amount": amount, "currency": payment.currency, "payment": payment.number},
        )
        return redirect("portal:invoices")
    return render(request, "portal/test_provider.html", {"checkout": checkout})


@portal_view(PortalRole.ACCOUNTS_PAYABLE)
def invoices_zip(request: HttpRequest) -> HttpResponse:
    """The chosen invoices (ids in `invoice`) as one ZIP of PDFs, or of UBL files with format=ubl."""
    document_format = DocumentFormat.UBL if request.GET.get("format") == "ubl" else DocumentFormat.PDF
    ids = [value for value in request.GET.getlist("invoice") if value.isdigit()]
    chosen = list(
        scoped_to_portal_user(invoice_list(), user=request.user)
        .exclude(status=InvoiceStatus.DRAFT)
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if not chosen or len(chosen) != len(set(ids)):
        raise Http404("Choose your own issued invoices.")
    buffer = BytesIO()
    try:
        documents = [document_for(invoice=invoice, format=document_format) for invoice in chosen]
    except EInvoiceInvalid as invalid:
        messages.error(request, einvoice_refusal(invalid))
        return redirect("portal:invoices")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            with document.file.open("rb") as file:
                archive.writestr(document.filename, file.read())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="invoices-{ZIP_FORMATS[document_format]}.zip"'
    return response
