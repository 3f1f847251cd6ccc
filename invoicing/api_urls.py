from django.urls import path
from rest_framework.routers import SimpleRouter

from invoicing.api import views

router = SimpleRouter()
router.register("invoices", views.InvoiceViewSet, basename="invoice")

urlpatterns = [
    path(
        "customers/<int:customer_pk>/statement/",
        views.CustomerStatementViewSet.as_view({"get": "retrieve"}),
        name="customer-statement",
    ),
    path(
        "customers/<int:customer_pk>/open-items/",
        views.CustomerOpenItemsViewSet.as_view({"get": "list"}),
        name="customer-open-items",
    ),
    *router.urls,
]
