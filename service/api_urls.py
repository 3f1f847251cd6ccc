from django.urls import path
from rest_framework.routers import SimpleRouter

from service import api, inbound_views, survey_api, ticket_api

router = SimpleRouter()
router.register("disputes", api.DisputeViewSet, basename="dispute")
router.register("tickets", ticket_api.TicketViewSet, basename="ticket")
router.register("surveys", survey_api.SurveyViewSet, basename="survey")

urlpatterns = [
    path("webhooks/inbound-mail/", inbound_views.InboundMailView.as_view(), name="inbound-mail"),
    *router.urls,
]
