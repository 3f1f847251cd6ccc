from django.urls import path

from analytics.api import ENDPOINTS

urlpatterns = [path(f"analytics/{slug}/", view.as_view(), name=f"analytics-{slug}") for slug, view in ENDPOINTS.items()]
