"""The customer 360: the customer's change page gains a summary panel (balance, overdue, exposure
against the credit limit, held orders, last payments and open promises, open orders and invoices,
tickets, open disputes with their tickets, survey scores) and a statement of account as PDF. Customers
sit below the service desk, so the service desk extends their admin rather than the other way round."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from customers.admin import CustomerAdmin
from customers.models import Customer
from invoicing.documents.services import statement_pdf
from otc.documents import pdf_download
from otc.errors import DomainError
from service.selectors import customer_360

STATEMENT_DAYS = 90


class CustomerWith360Admin(CustomerAdmin):
    change_form_before_template = "admin/service/customer_360.html"

    def get_urls(self):
        statement = self.admin_site.admin_view(self.statement_view)
        return [
            path("<path:object_id>/statement/", statement, name="customers_customer_statement"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        if customer is not None:
            extra_context = {**(extra_context or {}), "customer_360": customer_360(customer)}
        return super().change_view(request, object_id, form_url, extra_context)

    def statement_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The statement of account of the last 90 days as a PDF, as the customer gets it in the portal;
        without a company profile, the customer's page says what to set up first."""
        if not request.user.has_perm("invoicing.view_invoice"):
            raise PermissionDenied
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            raise Http404("No such customer.")
        end = timezone.localdate()
        try:
            pdf = statement_pdf(customer=customer, start=end - timedelta(days=STATEMENT_DAYS), end=end)
        except DomainError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))
        return pdf_download(filename=pdf.filename, content=pdf.content)


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWith360Admin)
