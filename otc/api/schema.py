"""OpenAPI pieces every API module shares: the Idempotency-Key header and problem responses."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from otc.api.problems import PROBLEM_CONTENT_TYPE
from otc.api.serializers import ProblemSerializer

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type={"type": "string", "minLength": 1, "maxLength": 255},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Makes a retry safe for 24 hours: the same key returns the first response (header "
        "`Idempotent-Replayed: true`); the same key with a different body is a 422."
    ),
)

# A stored document served as it was rendered.
PDF = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF.")}


def problems(*statuses: int) -> dict:
    """Schema entries for the problem+json errors an operation can answer with."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description="application/problem+json")
        for code in statuses
    }


def signature_headers(secret: str) -> list[OpenApiParameter]:
    """The headers of a signed notification (payment providers, the mail gateway): Unix seconds and
    the hex HMAC-SHA256 of "<timestamp>.<raw body>" with `secret`."""
    return [
        OpenApiParameter("X-OTC-Timestamp", str, OpenApiParameter.HEADER, required=True, description="Unix seconds."),
        OpenApiParameter(
            "X-OTC-Signature",
            str,
            OpenApiParameter.HEADER,
            required=True,
            description=f'Hex HMAC-SHA256 of "<timestamp>.<raw body>" with {secret}.',
        ),
    ]


_METHODS = ("get", "post", "put", "patch", "delete")
# What any operation can answer, whatever its view declares: a malformed cursor, Idempotency-Key or
# crafted value (400), no or a refused key (401, 403), an unknown object (404), a wrong body type
# (415), invalid fields or parameters (422), the rate limit (429) and a database away (503).
_EVERY_OPERATION = {
    "400": "Bad request",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found",
    "422": "Invalid input",
    "429": "Rate limit reached; see Retry-After",
    "503": "Database unavailable; see Retry-After",
}


def declare_every_problem(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: declare the problem responses every operation can give,
    so that clients and contract tests know every status code the API answers with; and that request
    bodies take no fields beyond those listed (an unknown field is a 422, otc.api.serializers)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in result["paths"].values():
        for method, operation in path.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            expected = dict(_EVERY_OPERATION)
            if "requestBody" in operation:
                expected["415"] = "Unsupported media type; send application/json"
            for status, description in expected.items():
                responses.setdefault(status, {"description": description, "content": problem})
    return result
