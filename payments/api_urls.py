from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.cash_application.api import views as cash_application
from payments.collections.api import views as collections
from payments.money.api import views as money

router = SimpleRouter()
router.register("payments", money.PaymentViewSet, basename="payment")
router.register("allocations", money.AllocationViewSet, basename="allocation")
router.register("bank-statements", cash_application.BankStatementViewSet, basename="bank-statement")
router.register("bank-statement-uploads", cash_application.BankStatementUploadViewSet, basename="bank-statement-upload")
router.register("bank-statement-lines", cash_application.BankStatementLineViewSet, basename="bank-statement-line")
router.register("promises-to-pay", collections.PromiseToPayViewSet, basename="promise-to-pay")

urlpatterns = [
    path(
        "customers/<int:customer_pk>/balance/",
        money.CustomerBalanceViewSet.as_view({"get": "retrieve"}),
        name="customer-balance",
    ),
    path("webhooks/payments/<slug:provider>/", money.ProviderWebhookView.as_view(), name="payment-provider-webhook"),
    *router.urls,
]
