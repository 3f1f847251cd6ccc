"""`Idempotency-Key` for creating POSTs: a replay returns the first response; the same key with a
different body is refused (422); a key still being processed is a 409. Records expire after 24 h.

The record is claimed (inserted) before the view runs, in its own committed statement, so two
concurrent requests with one key cannot both run the operation.
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from otc.api.problems import problem_response
from otc.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _principal(request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"api-key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _request_hash(request) -> str:
    canonical = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def idempotent(handler):
    """Decorate a DRF handler (e.g. `create`) so that it honours Idempotency-Key."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        path = request.get_full_path()
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return problem_response(
                status=400,
                code="invalid_idempotency_key",
                title="Invalid Idempotency-Key.",
                detail=f"The key must be 1 to {MAX_KEY_LENGTH} characters.",
                instance=path,
            )
        principal, request_hash = _principal(request), _request_hash(request)
        cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
        IdempotencyRecord.objects.filter(principal=principal, key=key, created_at__lt=cutoff).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal,
                    key=key,
                    method=request.method,
                    path=request.path,
                    request_hash=request_hash,
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(principal=principal, key=key)
            if record.request_hash != request_hash:
                return problem_response(
                    status=422,
                    code="idempotency_key_reused",
                    title="Idempotency-Key reused.",
                    detail="This Idempotency-Key was already used with a different request.",
                    instance=path,
                )
            if record.response_status is None:
                return problem_response(
                    status=409,
                    code="idempotency_key_in_progress",
                    title="Request in progress.",
                    detail="A request with this Idempotency-Key is still being processed.",
                    instance=path,
                )
            return _replay(record)
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception:
            record.delete()
            raise
        if response.status_code >= 500:
            record.delete()
            return response
        record.response_status = response.status_code
        record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
        record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper


def purge_expired_records() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
