from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.api import reconciliation, views

router = SimpleRouter()
router.register("payments", views.PaymentViewSet, basename="payment")
router.register("allocations", views.AllocationViewSet, basename="allocation")
router.register("bank-statements", reconciliation.BankStatementViewSet, basename="bank-statement")
router.register("bank-statement-lines", reconciliation.BankStatementLineViewSet, basename="bank-statement-line")
router.register("promises-to-pay", reconciliation.PromiseToPayViewSet, basename="promise-to-pay")

urlpatterns = [
    path(
        "customers/<int:customer_pk>/balance/",
        views.CustomerBalanceViewSet.as_view({"get": "retrieve"}),
        name="customer-balance",
    ),
    path("webhooks/payments/<slug:provider>/", views.ProviderWebhookView.as_view(), name="payment-provider-webhook"),
    *router.urls,
]
