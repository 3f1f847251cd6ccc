"""Domain events of customer data, sent inside the changing transaction (workflows records them in
the outbox). Every payload is JSON-ready: ids and plain values only."""

from django.dispatch import Signal

# customer_id, actor_id
customer_created = Signal()
# customer_id, actor_id, changed_fields: list[str]
customer_changed = Signal()
# customer_id, actor_id, changed: list[str] (e.g. "legal_name", "billing_address", "bank_account")
billing_data_changed = Signal()
# customer_id, actor_id, reason
credit_hold_placed = Signal()
# customer_id, actor_id
credit_hold_released = Signal()
# change_request_id, customer_id, actor_id, kind
change_request_submitted = Signal()
# change_request_id, customer_id, actor_id, kind, status ("approved" | "rejected")
change_request_decided = Signal()
# invitation_id, customer_id, actor_id, sent_count
portal_invitation_sent = Signal()
