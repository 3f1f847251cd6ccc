from rest_framework.routers import SimpleRouter

from service import api

router = SimpleRouter()
router.register("disputes", api.DisputeViewSet, basename="dispute")

urlpatterns = router.urls
