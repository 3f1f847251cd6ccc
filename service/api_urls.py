from rest_framework.routers import SimpleRouter

from service import api, ticket_api

router = SimpleRouter()
router.register("disputes", api.DisputeViewSet, basename="dispute")
router.register("tickets", ticket_api.TicketViewSet, basename="ticket")

urlpatterns = router.urls
