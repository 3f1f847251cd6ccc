"""Domain events of the service desk, sent inside the changing transaction. Payloads are JSON-ready ids."""

from django.dispatch import Signal

# ticket_id, customer_id, channel, actor_id
ticket_opened = Signal()
# ticket_id, message_id, actor_id: a customer-visible reply the customer is emailed
ticket_reply_posted = Signal()
# ticket_id, alert_id, kind: an SLA target is due soon or overdue (once per ticket and kind)
ticket_sla_alert_raised = Signal()
# ticket_id, customer_id, actor_id: the ticket moved to solved (a survey may follow)
ticket_solved = Signal()
# survey_id, customer_id, ticket_id (or None): an answer at or below the low CSAT or NPS mark
survey_scored_low = Signal()
# dispute_id, invoice_id, customer_id, ticket_id (or None), actor_id
dispute_opened = Signal()
