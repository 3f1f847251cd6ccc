"""Domain events of payments, sent inside the changing transaction. Payloads are JSON-ready ids."""

from django.dispatch import Signal

# payment_id, customer_id, actor_id
payment_received = Signal()
# payment_id, customer_id, invoice_ids (list), actor_id
payment_allocated = Signal()
