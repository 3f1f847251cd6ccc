from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("addresses", views.AddressViewSet, basename="address")
router.register("change-requests", views.ChangeRequestViewSet, basename="change-request")

urlpatterns = [
    path(
        "customers/<int:customer_pk>/contacts/",
        views.CustomerContactsViewSet.as_view({"get": "list", "post": "create"}),
        name="customer-contacts",
    ),
    path(
        "customers/<int:customer_pk>/addresses/",
        views.CustomerAddressesViewSet.as_view({"get": "list", "post": "create"}),
        name="customer-addresses",
    ),
    path(
        "customers/<int:customer_pk>/preferences/",
        views.CustomerPreferencesViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="customer-preferences",
    ),
    path(
        "customers/<int:customer_pk>/bank-accounts/",
        views.CustomerBankAccountsViewSet.as_view({"get": "list"}),
        name="customer-bank-accounts",
    ),
    *router.urls,
]
