from django.urls import path
from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter()
router.register("orders", views.OrderViewSet, basename="order")
router.register("shipments", views.ShipmentViewSet, basename="shipment")
router.register("return-requests", views.ReturnRequestViewSet, basename="return-request")

urlpatterns = [
    path(
        "customers/<str:pk>/exposure/",
        views.CustomerExposureViewSet.as_view({"get": "retrieve"}),
        name="customer-exposure",
    ),
    path(
        "orders/<str:number>/shipments/",
        views.OrderShipmentsViewSet.as_view({"get": "list", "post": "create"}),
        name="order-shipments",
    ),
    path(
        "orders/<str:number>/returns/",
        views.OrderReturnsViewSet.as_view({"get": "list", "post": "create"}),
        name="order-returns",
    ),
    path(
        "orders/<str:number>/return-requests/",
        views.OrderReturnRequestsViewSet.as_view({"get": "list", "post": "create"}),
        name="order-return-requests",
    ),
    *router.urls,
]
