"""Domain events of payments, sent inside the changing transaction. Payloads are JSON-ready ids."""

from django.dispatch import Signal

# payment_id, customer_id, actor_id
payment_received = Signal()
# payment_id, customer_id, invoice_ids (list), actor_id
payment_allocated = Signal()
# letter_id, customer_id, actor_id
dunning_letter_issued = Signal()
# invoice_id, customer_id
payment_reminder_due = Signal()
# promise_id, customer_id, actor_id: the promised date passed with its invoices still unpaid
promise_to_pay_broken = Signal()
