"""One id per request, so a user's error report, the request's log lines and the tasks it queued meet.

The id comes from the trusted proxy's `X-Request-ID` when `OTC_TRUST_REQUEST_ID_HEADER` is on (the
proxy sets it, so the proxy's access log carries the same id), otherwise it is generated; a header
that is not a plain token (too long, spaces, control characters) is replaced rather than logged.
django-structlog binds it into every log line of the request and, through Celery task headers, into
the log lines of the tasks the request queued.
"""

import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django_structlog import signals as structlog_signals

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def request_id_for(request: HttpRequest) -> str:
    """The trusted proxy's id when it is a plain token and trusted, otherwise a new one."""
    offered = request.META.get(META_KEY, "")
    if settings.OTC_TRUST_REQUEST_ID_HEADER and ACCEPTED.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Fix the request's id before anything logs, and return it as `X-Request-ID`.

    Goes first in MIDDLEWARE, before django-structlog's middleware, which reads the id this one puts
    in the request headers (DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID is on for that reason).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id_for(request)
        request.META[META_KEY] = request.request_id
        request.__dict__.pop("headers", None)  # re-read the headers with the id in force
        request.started_at = time.monotonic()
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


@receiver(structlog_signals.bind_extra_request_finished_metadata, dispatch_uid="otc.request_duration")
def add_request_duration(sender, request: HttpRequest, logger, response, log_kwargs: dict, **kwargs) -> None:
    """`request_finished` carries how long the request took, in milliseconds."""
    started_at = getattr(request, "started_at", None)
    if started_at is not None:
        log_kwargs["duration_ms"] = round((time.monotonic() - started_at) * 1000, 1)
