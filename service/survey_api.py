"""Survey API (scope `tickets:read`, as surveys are the service desk's measure): the surveys sent,
with their answers, and the results grouped by agent, team, category, customer or month. Read-only:
answers come only through the customer's signed link."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from otc.api.schema import problems
from otc.errors import InvalidInput
from service.forms import SurveyResultsForm
from service.models import Survey
from service.selectors import survey_list, survey_results
from service.ticket_api import TICKET_SCOPES


class SurveySerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.number")
    contact = serializers.EmailField(source="contact.email")
    ticket = serializers.CharField(source="ticket.number", default=None)
    shipment = serializers.CharField(source="shipment.number", default=None)
    agent = serializers.EmailField(source="agent.email", default=None)
    team = serializers.CharField(source="team.name", default=None)

    class Meta:
        model = Survey
        fields = [
            "id",
            "trigger",
            "customer",
            "contact",
            "ticket",
            "shipment",
            "agent",
            "team",
            "category",
            "asks_nps",
            "sent_at",
            "expires_at",
            "answered_at",
            "csat",
            "nps",
            "comment",
        ]


class SurveyResultSerializer(serializers.Serializer):
    group = serializers.CharField()
    sent = serializers.IntegerField()
    answered = serializers.IntegerField()
    response_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    average_csat = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    csat_percent = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    nps = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    low_scores = serializers.IntegerField()


class SurveyViewSet(viewsets.GenericViewSet):
    """Satisfaction surveys and their results."""

    scopes = TICKET_SCOPES
    staff_permissions = {"read": "service.view_survey"}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return survey_list().order_by("-pk")

    @extend_schema(responses={200: SurveySerializer(many=True), **problems(401, 403)})
    def list(self, request: Request) -> Response:
        """Surveys sent, newest first, with their answers."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SurveySerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("by", str, enum=["agent", "team", "category", "customer", "month"]),
            OpenApiParameter("start", str, description="First day (YYYY-MM-DD); default 90 days before `end`."),
            OpenApiParameter("end", str, description="Last day (YYYY-MM-DD); default today."),
        ],
        responses={200: SurveyResultSerializer(many=True), **problems(401, 403, 422)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def results(self, request: Request) -> Response:
        """Sent, answered, average CSAT, CSAT % (4-5), NPS and low scores per group."""
        form = SurveyResultsForm({"by": "agent", **request.query_params.dict()})
        if not form.is_valid():
            raise InvalidInput(
                "Invalid survey results filter.", fields={name: list(errors) for name, errors in form.errors.items()}
            )
        return Response(SurveyResultSerializer(survey_results(**form.cleaned_data), many=True).data)
