"""`Idempotency-Key` for creating POSTs: a replay returns the first response; the same key with a
different body is refused (422); a key still being processed is a 409. Records expire after 24 h.

The key, the operation's effects and the stored response commit in ONE transaction, so a request
that dies at any point leaves either nothing (the retry runs the operation) or everything (the retry
gets the stored response); never a key stuck "in progress" beside an order its client never saw.
A transaction-scoped advisory lock on the key makes a concurrent duplicate a 409 at once instead of
waiting for the first request to finish.
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
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


def _stored_body(response: Response) -> object:
    """The body as JSON, rendered inside the transaction: a body that cannot be stored undoes the operation."""
    return json.loads(JSONRenderer().render(response.data) or b"null")


def _claim(principal: str, key: str) -> bool:
    """Lock the key for this transaction; False when another transaction is running it right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"{principal}\n{key}"])
        return cursor.fetchone()[0]


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
        in_progress = problem_response(
            status=409,
            code="idempotency_key_in_progress",
            title="Request in progress.",
            detail="A request with this Idempotency-Key is still being processed.",
            instance=path,
        )
        with transaction.atomic():
            if not _claim(principal, key):
                return in_progress
            cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
            IdempotencyRecord.objects.filter(principal=principal, key=key, created_at__lt=cutoff).delete()
            record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if record is not None:
                if record.request_hash != request_hash:
                    return problem_response(
                        status=422,
                        code="idempotency_key_reused",
                        title="Idempotency-Key reused.",
                        detail="This Idempotency-Key was already used with a different request.",
                        instance=path,
                    )
                if record.response_status is None:
                    return in_progress
                return _replay(record)
            record = IdempotencyRecord.objects.create(
                principal=principal, key=key, method=request.method, path=request.path, request_hash=request_hash
            )
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.response_status = response.status_code
            record.response_body = _stored_body(response)
            record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper


def purge_expired_records() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
