from rest_framework.routers import SimpleRouter

from workflows.api import webhooks

router = SimpleRouter()
router.register("webhooks/subscriptions", webhooks.SubscriptionViewSet, basename="webhook-subscription")
router.register("webhooks/deliveries", webhooks.DeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
