"""Write side of the service desk, one module per section: tickets (the one way in for every
channel), sla (clocks and alerts), disputes (holds on invoices through invoicing's services), surveys
(asked after a solved ticket or a delivery, answered once by a signed link), ordering (portal orders
through orders' services).
Callers import from the package."""

from service.services.answers import answer_automatically, hand_over, record_answer_feedback
from service.services.disputes import (
    DISPUTE_DAYS,
    dispute_from_portal,
    expire_disputes,
    open_dispute,
    resolve_dispute,
)
from service.services.inbound_mail import receive_mail
from service.services.ordering import place_order
from service.services.sla import raise_sla_alerts
from service.services.surveys import (
    answer_survey,
    request_delivery_survey,
    request_ticket_survey,
    survey_from_token,
    survey_token,
)
from service.services.tickets import (
    Upload,
    add_message,
    apply_canned_reply,
    assign,
    bulk_assign,
    bulk_close,
    change_priority,
    change_status,
    link_documents,
    open_ticket,
    outgoing_message_id,
    unlink_documents,
)

__all__ = [
    "DISPUTE_DAYS",
    "Upload",
    "add_message",
    "answer_automatically",
    "answer_survey",
    "apply_canned_reply",
    "assign",
    "bulk_assign",
    "bulk_close",
    "change_priority",
    "change_status",
    "dispute_from_portal",
    "expire_disputes",
    "hand_over",
    "link_documents",
    "open_dispute",
    "open_ticket",
    "outgoing_message_id",
    "place_order",
    "raise_sla_alerts",
    "receive_mail",
    "record_answer_feedback",
    "request_delivery_survey",
    "request_ticket_survey",
    "resolve_dispute",
    "survey_from_token",
    "survey_token",
    "unlink_documents",
]
