from rest_framework.routers import SimpleRouter

from service import api, survey_api, ticket_api

router = SimpleRouter()
router.register("disputes", api.DisputeViewSet, basename="dispute")
router.register("tickets", ticket_api.TicketViewSet, basename="ticket")
router.register("surveys", survey_api.SurveyViewSet, basename="survey")

urlpatterns = router.urls
