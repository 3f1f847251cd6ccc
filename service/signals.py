"""Domain events of the service desk, sent inside the changing transaction. Payloads are JSON-ready ids."""

from django.dispatch import Signal

# ticket_id, customer_id, channel, actor_id
ticket_opened = Signal()
# ticket_id, message_id, actor_id: a customer-visible reply the customer is emailed
ticket_reply_posted = Signal()
# ticket_id, alert_id, kind: an SLA target is due soon or overdue (once per ticket and kind)
ticket_sla_alert_raised = Signal()
