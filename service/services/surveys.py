"""Write side of satisfaction surveys. A solved ticket or a delivered shipment asks its contact one
short survey, unless the customer opted out of surveys or the contact had its monthly share already;
the survey is answered once through a signed link (django.core.signing) that expires. A low score is
announced so the team lead and the account's sales rep hear of it; it reopens nothing.

Lock order: the contact row (serializes the monthly cap), then the survey row."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from customers.models import Contact, ContactRole, NotificationType
from orders.models import Shipment
from otc.errors import InvalidInput
from otc.events import publish
from service.errors import SurveyAlreadyAnswered, SurveyLinkExpired, SurveyLinkInvalid
from service.events import SurveyScoredLow
from service.models import Survey, SurveyTrigger, Ticket, TicketStatus
from service.models.surveys import CSAT_RANGE, NPS_RANGE

TOKEN_SALT = "service.survey"
# Who is asked about a delivery: the first active contact in the first of these roles that has one.
DELIVERY_ROLES = [ContactRole.PURCHASING, ContactRole.SHIPPING]


def survey_token(survey: Survey) -> str:
    """The signed, timestamped token of the survey's link; tampering breaks the signature."""
    return signing.dumps(survey.pk, salt=TOKEN_SALT)


def survey_from_token(token: str) -> Survey:
    """The survey a link names. A changed token is invalid; an old one (signature or survey) expired."""
    try:
        survey_id = signing.loads(token, salt=TOKEN_SALT, max_age=timedelta(days=settings.OTC_SURVEY_LINK_DAYS))
    except signing.SignatureExpired as error:
        raise SurveyLinkExpired("This survey link has expired.") from error
    except signing.BadSignature as error:
        raise SurveyLinkInvalid("This survey link is not valid.") from error
    survey = Survey.objects.select_related("customer", "ticket", "shipment").filter(pk=survey_id).first()
    if survey is None:
        raise SurveyLinkInvalid("This survey link is not valid.")
    return survey


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _create(*, contact: Contact | None, now: datetime, about: dict, **details) -> Survey | None:
    """The survey of one event (`about`: its ticket or shipment), unless there is one already, the
    contact is missing or inactive, the customer opted out of surveys, or the contact had this month's
    share. Takes the contact's lock."""
    if contact is None:
        return None
    contact = Contact.objects.select_for_update(of=("self",)).select_related("customer__preferences").get(pk=contact.pk)
    customer = contact.customer
    if not contact.is_active or NotificationType.SURVEY in customer.preferences.opt_outs:
        return None
    if Survey.objects.filter(**about).exists():
        return None
    surveys = Survey.objects.filter(contact=contact)
    if surveys.filter(sent_at__gte=_month_start(now)).count() >= settings.OTC_SURVEYS_PER_CONTACT_PER_MONTH:
        return None
    nps_since = now - timedelta(days=settings.OTC_SURVEY_NPS_EVERY_DAYS)
    return Survey.objects.create(
        customer=customer,
        contact=contact,
        asks_nps=not surveys.filter(asks_nps=True, sent_at__gte=nps_since).exists(),
        sent_at=now,
        expires_at=now + timedelta(days=settings.OTC_SURVEY_LINK_DAYS),
        **about,
        **details,
    )


@transaction.atomic
def request_ticket_survey(*, ticket: Ticket) -> Survey | None:
    """Ask the ticket's contact how the solved ticket went; None when no survey is due (see `_create`)."""
    ticket = Ticket.objects.select_related("contact").get(pk=ticket.pk)
    if ticket.status != TicketStatus.SOLVED:
        return None
    return _create(
        contact=ticket.contact,
        now=timezone.now(),
        about={"ticket": ticket},
        trigger=SurveyTrigger.TICKET_SOLVED,
        agent_id=ticket.assignee_id,
        team_id=ticket.team_id,
        category=ticket.category,
    )


@transaction.atomic
def request_delivery_survey(*, shipment: Shipment) -> Survey | None:
    """Ask the customer's purchasing (else shipping) contact how the delivery went."""
    shipment = Shipment.objects.select_related("order__customer").get(pk=shipment.pk)
    contacts = list(shipment.order.customer.contacts.filter(is_active=True).order_by("pk"))
    contact = next((c for role in DELIVERY_ROLES for c in contacts if role in c.roles), None)
    return _create(
        contact=contact, now=timezone.now(), about={"shipment": shipment}, trigger=SurveyTrigger.SHIPMENT_DELIVERED
    )


def _score(field: str, value: int | None, allowed: range, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise InvalidInput(f"Give a {field} score.", fields={field: ["This field is required."]})
        return None
    if value not in allowed:
        raise InvalidInput(
            f"The {field} score is {allowed.start} to {allowed.stop - 1}.",
            fields={field: [f"From {allowed.start} to {allowed.stop - 1}."]},
        )
    return value


@transaction.atomic
def answer_survey(*, token: str, csat: int | None, comment: str = "", nps: int | None = None) -> Survey:
    """Record the answer given through a survey link, once. A reused, expired or tampered link is
    refused and changes nothing; a low score is announced (survey_scored_low) and reopens nothing."""
    survey = survey_from_token(token)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    now = timezone.now()
    if survey.answered_at is not None:
        raise SurveyAlreadyAnswered("This survey was answered already.")
    if survey.expires_at <= now:
        raise SurveyLinkExpired("This survey link has expired.")
    survey.csat = _score("csat", csat, CSAT_RANGE, required=True)
    survey.nps = _score("nps", nps, NPS_RANGE, required=False) if survey.asks_nps else None
    survey.comment = comment.strip()[:2000]
    survey.answered_at = now
    survey.save(update_fields=["csat", "nps", "comment", "answered_at"])
    if survey.is_low:
        publish(
            SurveyScoredLow(
                survey_id=survey.pk,
                customer_id=survey.customer_id,
                customer_number=survey.customer.number,
                ticket_id=survey.ticket_id,
                csat=survey.csat,
                nps=survey.nps,
            )
        )
    return survey
