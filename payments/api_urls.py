from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.api import views

router = SimpleRouter()
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("allocations", views.AllocationViewSet, basename="allocation")

urlpatterns = [
    path(
        "customers/<int:customer_pk>/balance/",
        views.CustomerBalanceViewSet.as_view({"get": "retrieve"}),
        name="customer-balance",
    ),
    path("webhooks/payments/<slug:provider>/", views.ProviderWebhookView.as_view(), name="payment-provider-webhook"),
    *router.urls,
]
