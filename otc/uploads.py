"""Request bodies are bounded before anything reads them.

`RequestBodyLimitMiddleware` runs before CSRF, sessions and the views, so an oversized request is
answered 413 from its `Content-Length` alone and its body is never read into memory or spooled to
disk. File uploads (multipart/form-data) may be up to `OTC_MAX_UPLOAD_BYTES` plus a small allowance
for the form's other fields; any other body (JSON, forms, webhooks, raw mail) up to
`DATA_UPLOAD_MAX_MEMORY_SIZE`, what Django and DRF hold in memory to parse it anyway. Under /api/
the answer is problem+json (`request_too_large`).
Behind the proxy a request without `Content-Length` (chunked) reaches Django as an empty body; the
proxy's own body limit (docs/operator-guide.md, "Upload limits") stops it before that.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from otc.request_guards import refusal

# Room for a multipart form's boundaries and small fields beside the file.
MULTIPART_ALLOWANCE = 64 * 1024


def megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")


def body_limit_for(request: HttpRequest) -> int:
    """The largest body this request may carry, by its kind."""
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return settings.OTC_MAX_UPLOAD_BYTES + MULTIPART_ALLOWANCE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestBodyLimitMiddleware:
    """413 for a body larger than its kind allows, judged from Content-Length before it is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            return refusal(
                request,
                status=400,
                code="malformed_request",
                title="Malformed request.",
                detail="Content-Length is not a byte count.",
            )
        limit = body_limit_for(request)
        if length > limit:
            return refusal(
                request,
                status=413,
                code="request_too_large",
                title="Request too large.",
                detail=f"The request body is {megabytes(length)}; at most {megabytes(limit)} is accepted here.",
            )
        return self.get_response(request)
