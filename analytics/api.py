"""Every analytics report in the API, read-only (`analytics:read`): one GET per report under
/api/v1/analytics/<report>/, taking the report's filters as query parameters and answering its
columns and rows (amounts as exact decimal strings)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.reports import REPORTS, Report, ReportFilters, parse_params
from otc.api.schema import problems
from otc.errors import InvalidInput

ANALYTICS_SCOPES = {"read": "analytics:read"}


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    report = serializers.CharField()
    title = serializers.CharField()
    columns = ColumnSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField(), help_text="One object per row, keyed by column.")
    notes = serializers.ListField(child=serializers.CharField())


def _parameters(report: Report) -> list[OpenApiParameter]:
    fields = ReportFilters.base_fields
    return [
        OpenApiParameter(
            name,
            OpenApiTypes.DATE if name in ("on", "start", "end") else OpenApiTypes.STR,
            description=str(fields[name].help_text),
        )
        for name in report.parameters
    ]


def _refuse_empty_parameters(request: Request) -> None:
    """In the admin's filter form an empty field means "the default"; a client that sends `?on=` has
    made a mistake, so it hears so instead of getting today's figures."""
    empty = sorted(name for name, value in request.query_params.items() if value == "")
    if empty:
        raise InvalidInput(
            f"Empty parameter: {', '.join(empty)}; leave it out for the default.",
            fields={name: ["Give a value or leave the parameter out."] for name in empty},
        )


def report_view(report: Report) -> type[APIView]:
    """The API view of one report, with its own operation and parameters in the schema."""

    class ReportView(APIView):
        scopes = ANALYTICS_SCOPES
        staff_permissions = {"read": "analytics.view_customerbehaviour"}

        @extend_schema(
            operation_id=f"analytics_{report.slug.replace('-', '_')}",
            summary=report.title,
            description=report.description,
            parameters=_parameters(report),
            responses={200: ReportSerializer, **problems(401, 403, 422)},
            tags=["analytics"],
        )
        def get(self, request: Request) -> Response:
            _refuse_empty_parameters(request)
            table = report.build(parse_params(request.query_params))
            data = table.dataset()
            keys = [key for key, _label in table.columns]
            return Response(
                {
                    "report": report.slug,
                    "title": report.title,
                    "columns": [{"key": key, "label": label} for key, label in table.columns],
                    "rows": [dict(zip(keys, row, strict=True)) for row in data],
                    "notes": table.notes,
                }
            )

    ReportView.__name__ = f"{report.slug.title().replace('-', '')}ReportView"
    return ReportView


ENDPOINTS = {slug: report_view(report) for slug, report in REPORTS.items()}
