from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from otc.api.events import EventCatalogueView
from otc.health import healthz, readyz
from otc.metrics import metrics_view

api_v1 = [
    path("", include("customers.api_urls")),
    path("", include("inventory.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("invoicing.api_urls")),
    path("", include("payments.api_urls")),
    path("", include("service.api_urls")),
    path("", include("analytics.api_urls")),
    path("", include("workflows.api.urls")),
    path("events/catalogue/", EventCatalogueView.as_view(), name="event-catalogue"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # Staff sign in through allauth so MFA applies to the admin too.
    path("admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("service.portal_urls")),
    path("surveys/", include("service.survey_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file of its own, so the page needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    # The mail provider's tracking webhooks (bounces, complaints), e.g. /anymail/postmark/tracking/,
    # behind the basic auth of ANYMAIL_WEBHOOK_SECRET.
    urlpatterns.append(path("anymail/", include("anymail.urls")))

handler404 = "otc.api.problems.not_found"
handler500 = "otc.api.problems.server_failure"
handler403 = "otc.refusals.permission_denied"
