"""The email channel's door for mail providers: they POST the raw RFC 822 message, signed with the
shared secret the way payment providers sign their notifications (HMAC-SHA256 over
"<timestamp>.<raw body>" in X-OTC-Signature, Unix seconds in X-OTC-Timestamp). Anything unsigned,
wrongly signed or too old is a 403 and stores nothing."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.money import webhooks
from payments.money.errors import InvalidSignature
from service.models import InboundSource
from service.services.inbound_mail import receive_mail


@csrf_exempt
@require_POST
def inbound_mail(request: HttpRequest) -> JsonResponse:
    """Take one message; 200 with what became of it (also for a message seen before)."""
    secret = settings.OTC_INBOUND_MAIL_SECRET
    try:
        if not secret:
            raise InvalidSignature("Inbound mail is not configured (no shared secret).")
        webhooks.verify(
            secret=secret,
            timestamp=request.headers.get("X-OTC-Timestamp", ""),
            body=request.body,
            signature=request.headers.get("X-OTC-Signature", ""),
            tolerance=settings.OTC_INBOUND_MAIL_TOLERANCE_SECONDS,
        )
    except InvalidSignature as error:
        return JsonResponse(
            {"code": "invalid_signature", "detail": str(error)}, status=403, content_type="application/problem+json"
        )
    if not request.body:
        return JsonResponse(
            {"code": "empty_message", "detail": "The body must be the raw message."},
            status=400,
            content_type="application/problem+json",
        )
    mail = receive_mail(raw=request.body, source=InboundSource.WEBHOOK)
    return JsonResponse({"id": mail.pk, "outcome": mail.outcome, "ticket": mail.ticket.number if mail.ticket else None})
