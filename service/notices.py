"""Who hears of service desk events: the customer of an agent's reply, the agent and team lead of an
SLA alert."""

from django.conf import settings

from invoicing.documents.services import document_for
from invoicing.models import DocumentFormat
from otc.notices import Notice
from service.events import TicketReplyPosted, TicketSlaAlertRaised
from service.models import MessageKind, SlaAlert, TicketMessage, TicketRecognition


def ticket_reply(event: TicketReplyPosted) -> list[Notice]:
    """Email an agent's reply to the ticket's contact (else whoever wrote in), with the ticket's token
    in the subject and the reply's Message-ID, answering the customer's latest email, so the
    customer's answer threads back into the same ticket. An automated invoice copy carries the PDF."""
    message = TicketMessage.objects.select_related("ticket__customer", "ticket__contact", "author").get(
        pk=event.message_id
    )
    ticket = message.ticket
    headers = {"Message-ID": message.email_message_id}
    answered = (
        TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER_MESSAGE, pk__lt=message.pk)
        .exclude(email_message_id="")
        .order_by("-pk")
        .values_list("email_message_id", flat=True)
        .first()
    )
    if answered:
        headers.update({"In-Reply-To": answered, "References": answered})
    context = {"ticket": ticket, "message": message, "agent_name": str(message.author) if message.author else ""}
    copy = TicketRecognition.objects.filter(answer=message, invoice__isnull=False).select_related("invoice").first()
    return [
        Notice(
            [ticket.recipient],
            "ticket_reply",
            context,
            language=ticket.customer.language if ticket.customer else settings.LANGUAGE_CODE[:2],
            headers=headers,
            attachments=[document_for(invoice=copy.invoice, format=DocumentFormat.PDF)] if copy else [],
        )
    ]


def sla_alert(event: TicketSlaAlertRaised) -> list[Notice]:
    """The assignee and the team's lead hear of a target due soon or missed; the alert row is unique
    per ticket and kind, so each is told once."""
    alert = SlaAlert.objects.select_related("ticket__customer", "ticket__assignee", "ticket__team__lead").get(
        pk=event.alert_id
    )
    ticket = alert.ticket
    recipients = {user.email for user in (ticket.assignee, ticket.team.lead if ticket.team else None) if user}
    if not recipients:
        return []
    context = {"ticket": ticket, "kind_label": alert.get_kind_display(), "due_at": alert.due_at}
    return [Notice(sorted(recipients), "ticket_sla_alert", context)]
