from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("availability", views.AvailabilityViewSet, basename="availability")
router.register("stock-receipts", views.StockReceiptViewSet, basename="stock-receipt")
router.register("stock-adjustments", views.StockAdjustmentViewSet, basename="stock-adjustment")

urlpatterns = [
    path("prices/", views.PriceQuoteView.as_view(), name="price-quote"),
    *router.urls,
]
