"""The customer 360: the customer's change page gains a summary panel (balance, overdue, open orders and
invoices, tickets, open disputes with their tickets, survey scores). Customers sit below the service
desk, so the service desk extends their admin rather than the other way round."""

from django.contrib import admin

from customers.admin import CustomerAdmin
from customers.models import Customer
from service.selectors import customer_360


class CustomerWith360Admin(CustomerAdmin):
    change_form_before_template = "admin/service/customer_360.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        customer = self.get_object(request, object_id)
        if customer is not None:
            extra_context = {**(extra_context or {}), "customer_360": customer_360(customer)}
        return super().change_view(request, object_id, form_url, extra_context)


admin.site.unregister(Customer)
admin.site.register(Customer, CustomerWith360Admin)
