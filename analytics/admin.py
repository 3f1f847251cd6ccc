"""Analytics in the admin: the dashboard, every report as a page (filters, drill-down, CSV/XLSX
export), the customer behaviour snapshot, and a segment filter on the customer list.

The segment filter lives here, not in customers: customers sits below analytics and must not import
it. Once every app's admin is registered (analytics comes after customers in INSTALLED_APPS, and
autodiscovery follows that order), this module appends the filter to the registered customer
admin's `list_filter`. import-linter sees only analytics importing customers, which is allowed.
"""

import json
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, DropdownFilter

from analytics.models import CustomerBehaviour, Segment
from analytics.reports import REPORTS, Params, ReportFilters, Table, parse_params
from analytics.selectors import behaviour, forecast, receivables
from customers.models import Customer
from otc.errors import DomainError

VIEW_ANALYTICS = "analytics.view_customerbehaviour"
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class SegmentFilter(DropdownFilter):
    """Customers by the RFM segment of the latest snapshot."""

    title = "segment"
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return Segment.choices

    def queryset(self, request, queryset):
        if self.value() in Segment.values:
            return queryset.filter(pk__in=behaviour.customers_in_segment(self.value()).values("pk"))
        return queryset


customer_admin = admin.site.get_model_admin(Customer)
customer_admin.list_filter = [*customer_admin.list_filter, SegmentFilter]


def _chart(labels: list, datasets: dict[str, list]) -> str:
    """Chart.js data for unfold's chart components; amounts as exact decimal text."""
    return json.dumps(
        {
            "labels": [str(label) for label in labels],
            "datasets": [
                {"label": name, "data": [str(value) for value in values]} for name, values in datasets.items()
            ],
        }
    )


@admin.register(CustomerBehaviour)
class CustomerBehaviourAdmin(ModelAdmin):
    """The behaviour snapshot, one row per invoiced customer; the dashboard and reports hang off it."""

    list_display = [
        "customer",
        "segment",
        "churn_risk",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "invoices",
        "revenue",
        "days_since_last",
        "average_interval_days",
    ]
    list_filter = [("segment", ChoicesDropdownFilter), ("churn_risk", ChoicesDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["customer"]
    search_fields = ["customer__number", "customer__legal_name"]
    ordering = ["-revenue"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        taken = behaviour.snapshot_taken_at()
        title = f"Customer behaviour, snapshot of {taken:%Y-%m-%d %H:%M}" if taken else "Customer behaviour"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_urls(self):
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="analytics_dashboard"),
            path("reports/<slug:slug>/", self.admin_site.admin_view(self.report_view), name="analytics_report"),
            *super().get_urls(),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not request.user.has_perm(VIEW_ANALYTICS):
            raise PermissionDenied

    def report_view(self, request: HttpRequest, slug: str) -> HttpResponse:
        self._check(request)
        report = REPORTS.get(slug)
        if report is None:
            raise Http404("No such report.")
        table, error = Table(columns=[], rows=[]), None
        try:
            table = report.build(parse_params(request.GET))
        except DomainError as problem:
            error = problem.message
            messages.error(request, problem.message)
        export = request.GET.get("export")
        if export in EXPORTS and error is None:
            response = HttpResponse(table.spreadsheet(export), content_type=EXPORTS[export])
            response["Content-Disposition"] = f'attachment; filename="{slug}.{export}"'
            return response
        query = request.GET.copy()
        query.pop("export", None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": report.title,
            "report": report,
            "reports": REPORTS.values(),
            "form": ReportFilters(request.GET or None),
            "fields": report.parameters,
            "table": table,
            "rows": [
                ([row.get(key) for key, _label in table.columns], link)
                for row, link in zip(table.rows, table.links or [None] * len(table.rows), strict=True)
            ],
            "query": query.urlencode(),
        }
        return TemplateResponse(request, "admin/analytics/report.html", context)

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        params: Params = parse_params({})
        dso = receivables.days_sales_outstanding(period=params.period)
        aging = receivables.aging_report(on=params.on, group_by="currency", in_company_currency=True)
        buckets = [bucket.name for bucket in receivables.aging_buckets()]
        weeks = forecast.cash_forecast(on=params.on).weeks
        segments = behaviour.segment_summary()
        share = receivables.disputed_share(on=params.on)
        touchless = receivables.cash_application(period=params.period)

        def url(slug: str) -> str:
            return reverse("admin:analytics_report", args=[slug])

        cards = [
            ("DSO (standard)", dso.standard, "days", url("dso")),
            ("DSO (count-back)", dso.count_back, "days", url("dso")),
            ("Best possible DSO", dso.best_possible, "days", url("dso")),
            ("CEI", receivables.collection_effectiveness(period=params.period), "%", url("dso")),
            ("Disputed share", share.percent, "%", url("disputed-share")),
            ("Touchless cash application", touchless.touchless_percent, "%", url("cash-application")),
        ]
        charts = [
            (
                "Aging (company currency)",
                url("aging") + "?company_currency=on",
                _chart(buckets, {"Open": [sum((row.buckets[b] for row in aging), Decimal(0)) for b in buckets]}),
            ),
            (
                "Cash forecast, 13 weeks",
                url("cash-forecast"),
                _chart([week.starts_on for week in weeks], {"Expected": [week.expected for week in weeks]}),
            ),
            (
                "Customers per segment",
                url("segments"),
                _chart([row.label for row in segments], {"Customers": [row.customers for row in segments]}),
            ),
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Analytics",
            "cards": cards,
            "charts": charts,
            "reports": REPORTS.values(),
            "snapshot_taken_at": behaviour.snapshot_taken_at(),
            "period": params.period,
        }
        return TemplateResponse(request, "admin/analytics/dashboard.html", context)
