"""Who hears of service desk events: the customer of an agent's reply and of a survey, the agent and
team lead of an SLA alert, and the account's people (sales rep and team) of what happens on their
accounts."""

from django.conf import settings
from django.urls import reverse

from customers.models import Customer
from invoicing.documents.render import money
from invoicing.documents.services import document_for
from invoicing.models import DocumentFormat
from orders.events import ShipmentDelivered
from orders.models import Shipment
from otc.notices import Notice
from payments.events import PromiseToPayBroken
from payments.models import PromiseToPay
from service.events import (
    DisputeOpened,
    SurveyScoredLow,
    TicketOpened,
    TicketReplyPosted,
    TicketSlaAlertRaised,
    TicketSolved,
)
from service.models import (
    Dispute,
    MessageKind,
    SlaAlert,
    SlaAlertKind,
    Survey,
    Team,
    Ticket,
    TicketMessage,
    TicketRecognition,
)
from service.selectors import account_recipients, key_account
from service.services import request_delivery_survey, request_ticket_survey, survey_token


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


def ticket_survey(event: TicketSolved) -> list[Notice]:
    """Ask how the solved ticket went, when the survey rules allow one (once per ticket): the survey is
    created here and its link emailed."""
    return _survey_request(request_ticket_survey(ticket=Ticket.objects.get(pk=event.ticket_id)))


def delivery_survey(event: ShipmentDelivered) -> list[Notice]:
    """Ask how the delivery went, when the survey rules allow one (once per shipment)."""
    return _survey_request(request_delivery_survey(shipment=Shipment.objects.get(pk=event.shipment_id)))


def _survey_request(survey: Survey | None) -> list[Notice]:
    if survey is None:
        return []
    context = {
        "survey": survey,
        "customer": survey.customer,
        "survey_path": reverse("survey-answer", args=[survey_token(survey)]),
    }
    return [Notice([survey.contact.email], "survey_request", context, language=survey.customer.language)]


# --- The account's people: its sales rep and team, once per event ------------------------------------


def _to_account(customer: Customer, template: str, context: dict, *, team: Team | None = None) -> list[Notice]:
    return [Notice(account_recipients(customer, team=team), template, {"customer": customer, **context})]


def key_account_ticket(event: TicketOpened) -> list[Notice]:
    """A key account wrote in: its sales rep and team hear of it at once."""
    ticket = Ticket.objects.select_related("customer__sales_rep", "team__lead").get(pk=event.ticket_id)
    if ticket.customer is None or key_account(ticket.customer) is None:
        return []
    return _to_account(ticket.customer, "account_ticket_opened", {"ticket": ticket}, team=ticket.team)


def sla_breaching_soon(event: TicketSlaAlertRaised) -> list[Notice]:
    """A ticket about to breach its SLA: the account's sales rep and its key-account team hear of it
    (the assignee and the ticket team's lead are told by `sla_alert`)."""
    alert = SlaAlert.objects.select_related("ticket__customer__sales_rep", "ticket__team__lead").get(pk=event.alert_id)
    if alert.kind not in (SlaAlertKind.FIRST_RESPONSE_SOON, SlaAlertKind.RESOLUTION_SOON):
        return []
    ticket = alert.ticket
    context = {"ticket": ticket, "kind_label": alert.get_kind_display(), "due_at": alert.due_at}
    return _to_account(ticket.customer, "account_sla_breaching_soon", context)


def low_survey_score(event: SurveyScoredLow) -> list[Notice]:
    """A low score: the team lead, the account's sales rep and the team hear of it; nothing reopens."""
    survey = Survey.objects.select_related(
        "customer__sales_rep", "contact", "ticket", "shipment", "team__lead", "agent"
    ).get(pk=event.survey_id)
    return _to_account(survey.customer, "survey_scored_low", {"survey": survey}, team=survey.team)


def dispute_opened(event: DisputeOpened) -> list[Notice]:
    dispute = Dispute.objects.select_related("customer__sales_rep", "invoice", "ticket__team__lead").get(
        pk=event.dispute_id
    )
    team = dispute.ticket.team if dispute.ticket else None
    return _to_account(dispute.customer, "account_dispute_opened", {"dispute": dispute}, team=team)


def broken_promise(event: PromiseToPayBroken) -> list[Notice]:
    promise = PromiseToPay.objects.select_related("customer__sales_rep").get(pk=event.promise_id)
    context = {
        "promise": promise,
        "amount": money(promise.amount, promise.currency),
        "invoices": promise.invoices.order_by("number"),
    }
    return _to_account(promise.customer, "account_promise_broken", context)
