"""OpenAPI pieces every API module shares: the Idempotency-Key header and problem responses."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from otc.api.problems import PROBLEM_CONTENT_TYPE
from otc.api.serializers import ProblemSerializer

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe for 24 hours: the same key returns the first response (header "
        "`Idempotent-Replayed: true`); the same key with a different body is a 422."
    ),
)


def problems(*statuses: int) -> dict:
    """Schema entries for the problem+json errors an operation can answer with."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description="application/problem+json")
        for code in statuses
    }
