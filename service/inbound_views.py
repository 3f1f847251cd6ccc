"""The email channel's door for mail providers: they POST the raw RFC 822 message, signed with the
shared secret the way payment providers sign their notifications (HMAC-SHA256 over
"<timestamp>.<raw body>" in X-OTC-Signature, Unix seconds in X-OTC-Timestamp). Anything unsigned,
wrongly signed or too old is a 403 and stores nothing."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from otc.api.problems import problem_response
from otc.api.schema import problems, signature_headers
from payments.money import webhooks
from payments.money.errors import InvalidSignature
from service.models import InboundOutcome, InboundSource
from service.services.inbound_mail import receive_mail


class RawMessageParser(BaseParser):
    """The body as the mail provider sent it: the message's bytes, signed as they are."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read()


class InboundMailResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The stored message.")
    outcome = serializers.ChoiceField(choices=InboundOutcome.choices)
    ticket = serializers.CharField(allow_null=True, help_text="The ticket it opened or was added to.")


class InboundMailView(APIView):
    """A customer's email from the operator's mail gateway; its HMAC signature is the only credential."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [RawMessageParser]

    @extend_schema(
        operation_id="webhooks_inbound_mail",
        request={"message/rfc822": OpenApiTypes.BINARY},
        parameters=signature_headers("INBOUND_MAIL_SECRET"),
        responses={
            200: OpenApiResponse(
                InboundMailResultSerializer, description="What became of the message (also for one seen before)."
            ),
            **problems(400, 403),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Take one message. Unsigned, wrongly signed or older than the tolerance: 403
        `invalid_signature`, nothing stored; an empty body: 400 `empty_message`."""
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
            return problem_response(
                status=403,
                code=InvalidSignature.code,
                title=InvalidSignature.title,
                detail=str(error),
                instance=request.path,
            )
        if not request.body:
            return problem_response(
                status=400,
                code="empty_message",
                title="The message is empty.",
                detail="The body must be the raw message.",
                instance=request.path,
            )
        mail = receive_mail(raw=request.body, source=InboundSource.WEBHOOK)
        result = {"id": mail.pk, "outcome": mail.outcome, "ticket": mail.ticket.number if mail.ticket else None}
        return Response(InboundMailResultSerializer(result).data)
