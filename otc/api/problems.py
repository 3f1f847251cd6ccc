"""Every API error as application/problem+json (RFC 9457) with a stable `code`, database outages included."""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.urls import is_valid_path
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from otc.errors import DomainError, InvalidInput

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Seconds a client should wait after a 503 while the database is away (a restart takes about this long).
DATABASE_RETRY_AFTER_SECONDS = 30
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", "Authentication required."),
    exceptions.AuthenticationFailed: ("authentication_failed", "Authentication failed."),
    exceptions.PermissionDenied: ("permission_denied", "You may not do this."),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed."),
    exceptions.NotAcceptable: ("not_acceptable", "Not acceptable."),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type."),
    exceptions.ParseError: ("malformed_request", "The request body could not be parsed."),
    exceptions.Throttled: ("throttled", "Too many requests."),
}


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    errors: dict | None = None,
    extensions: dict | None = None,
    headers: dict | None = None,
) -> Response:
    """The problem document; `extensions` are extra members (RFC 9457 3.2) that never override standard ones."""
    body = {
        **(extensions or {}),
        "type": f"urn:otc:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _database_unavailable(instance: str) -> dict:
    return {
        "type": "urn:otc:problem:database_unavailable",
        "title": "Service temporarily unavailable.",
        "status": 503,
        "detail": "The database cannot be reached right now; retry after the seconds in Retry-After.",
        "code": "database_unavailable",
        "instance": instance,
    }


def problem_exception_handler(exc, context):
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("Database unavailable during %s: %s", instance, exc)
        set_rollback()
        return Response(
            _database_unavailable(instance),
            status=503,
            content_type=PROBLEM_CONTENT_TYPE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DataError):
        # A value PostgreSQL cannot hold (a number beyond its column, a NUL in text) that got past the
        # serializers: the request's fault, so a clear 400 rather than a server error.
        logger.warning("Value out of range during %s: %s", instance, exc)
        set_rollback()
        return problem_response(
            status=400,
            code="value_out_of_range",
            title="A value is out of range.",
            detail="A number, date or text in the request is outside what can be stored or looked up.",
            instance=instance,
        )
    if isinstance(exc, DjangoValidationError):
        exc = InvalidInput.from_django(exc)
    if isinstance(exc, DomainError):
        return problem_response(
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.message,
            instance=instance,
            errors=exc.fields or None,
            extensions=getattr(exc, "extensions", None),
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return problem_response(
            status=422,
            code="invalid_input",
            title=InvalidInput.title,
            detail=_summarize(errors),
            instance=instance,
            errors=errors,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        code, title = next(
            (value for kind, value in _DRF_CODES.items() if isinstance(exc, kind)),
            (exc.default_code, "Error."),
        )
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return problem_response(
            status=exc.status_code, code=code, title=title, detail=str(exc.detail), instance=instance, headers=headers
        )
    return None


def _summarize(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{name}: {_summarize(value)}" for name, value in errors.items())
    if isinstance(errors, list):
        return " ".join(_summarize(item) for item in errors)
    return str(errors)


def not_found(request, exception=None):
    """404 for the whole site: problem+json under /api/, the normal page elsewhere."""
    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    detail = f"No API endpoint or object at {request.path}."
    with_slash = f"{request.path_info}/"
    if not request.path_info.endswith("/") and is_valid_path(with_slash, getattr(request, "urlconf", None)):
        detail += f" API URLs end with a slash: {request.path}/"
    return problem_page(request, status=404, code="not_found", title="Not found.", detail=detail)


def server_failure(request):
    """500 for the whole site: problem+json under /api/ (503 with Retry-After when the database is away)."""
    if not request.path.startswith("/api/"):
        return server_error(request)
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        response = JsonResponse(_database_unavailable(request.get_full_path()), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        response["Content-Type"] = PROBLEM_CONTENT_TYPE
        return response
    return problem_page(
        request,
        status=500,
        code="server_error",
        title="Internal server error.",
        detail="The request failed on the server; the error was logged for the operators.",
    )


def problem_page(
    request, *, status: int, code: str, title: str, detail: str, headers: dict | None = None
) -> JsonResponse:
    """A problem document answered outside DRF (URL resolution, middleware, the error handlers)."""
    body = {
        "type": f"urn:otc:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.get_full_path(),
    }
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)
