"""Read side of collections: promises to pay with their invoices' numbers, at a constant query cost."""

from django.db.models import Prefetch, QuerySet

from invoicing.models import Invoice
from payments.models import PromiseToPay


def promise_list() -> QuerySet[PromiseToPay]:
    invoices = Invoice.objects.only("id", "number").order_by("pk")
    return PromiseToPay.objects.select_related("customer").prefetch_related(Prefetch("invoices", queryset=invoices))
