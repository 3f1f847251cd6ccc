"""The service desk's records, one module per topic: tickets, SLA, disputes, surveys, inbound mail,
automated answers."""

from service.models.answers import Intent, TicketRecognition
from service.models.disputes import Dispute, DisputeReason, DisputeResolution, DisputeStatus
from service.models.followups import FollowUpTask
from service.models.inbound import InboundMail, InboundOutcome, InboundSource
from service.models.sla import (
    Holiday,
    SlaAlert,
    SlaAlertKind,
    SlaPolicy,
    Weekday,
    WorkingCalendar,
    WorkingHours,
)
from service.models.surveys import LOW_CSAT, LOW_NPS, KeyAccount, Survey, SurveyTrigger
from service.models.tickets import (
    CLOCK_STOPPED,
    CUSTOMER_VISIBLE,
    ON_CUSTOMER_MESSAGE,
    TRANSITIONS,
    CannedReply,
    MessageKind,
    Team,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketChannel,
    TicketMessage,
    TicketNumberSeries,
    TicketPriority,
    TicketStatus,
)

__all__ = [
    "CLOCK_STOPPED",
    "CUSTOMER_VISIBLE",
    "LOW_CSAT",
    "LOW_NPS",
    "ON_CUSTOMER_MESSAGE",
    "TRANSITIONS",
    "CannedReply",
    "Dispute",
    "DisputeReason",
    "DisputeResolution",
    "DisputeStatus",
    "FollowUpTask",
    "Holiday",
    "InboundMail",
    "InboundOutcome",
    "InboundSource",
    "Intent",
    "KeyAccount",
    "MessageKind",
    "SlaAlert",
    "SlaAlertKind",
    "SlaPolicy",
    "Survey",
    "SurveyTrigger",
    "Team",
    "Ticket",
    "TicketAttachment",
    "TicketCategory",
    "TicketChannel",
    "TicketMessage",
    "TicketNumberSeries",
    "TicketPriority",
    "TicketRecognition",
    "TicketStatus",
    "Weekday",
    "WorkingCalendar",
    "WorkingHours",
]
