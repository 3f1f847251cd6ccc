"""Surveys in the admin: every survey sent with its answer (read-only: answers come only from the
customer's link), the results page grouped by agent, team, category, customer or month, and the key
accounts whose events their sales rep and account team hear about."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import display
from unfold.paginator import InfinitePaginator

from otc.admin import badge
from service.forms import SurveyResultsForm
from service.models import KeyAccount, Survey
from service.selectors import survey_list, survey_results


@admin.register(Survey)
class SurveyAdmin(ModelAdmin):
    list_display = ["pk", "about", "customer", "contact", "agent", "team", "sent_at", "csat", "nps", "low"]
    list_filter = ["trigger", ("team", RelatedDropdownFilter), "category", "csat", "asks_nps"]
    search_fields = ["customer__number", "contact__email", "ticket__number", "shipment__number"]
    show_full_result_count = False
    paginator = InfinitePaginator
    readonly_fields = [field.name for field in Survey._meta.fields]
    change_list_template = "admin/service/survey/change_list.html"

    def get_queryset(self, request):
        return survey_list()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description="About")
    def about(self, survey: Survey) -> str:
        return str(survey.ticket or survey.shipment)

    @display(description="Low score")
    def low(self, survey: Survey) -> str:
        return badge("low", "danger") if survey.is_low else "-"

    def get_urls(self):
        return [
            path("results/", self.admin_site.admin_view(self.results_view), name="service_survey_results"),
            *super().get_urls(),
        ]

    def results_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SurveyResultsForm(request.GET or {"by": "agent"})
        results = survey_results(**form.cleaned_data) if form.is_valid() else []
        context = {
            **self.admin_site.each_context(request),
            "title": "Survey results",
            "opts": self.model._meta,
            "form": form,
            "results": results,
        }
        return TemplateResponse(request, "admin/service/survey/results.html", context)


@admin.register(KeyAccount)
class KeyAccountAdmin(ModelAdmin):
    list_display = ["__str__", "customer", "group", "team", "note"]
    list_select_related = ["customer", "group", "team"]
    autocomplete_fields = ["customer"]
    search_fields = ["customer__number", "customer__legal_name", "group__name"]
