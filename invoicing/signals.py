"""Domain events of invoicing, sent inside the issuing transaction. Payloads are JSON-ready ids."""

from django.dispatch import Signal

# invoice_id, customer_id, actor_id
invoice_issued = Signal()
# invoice_ids (list), actor_id: many invoices issued by one bulk run; one outbox event per invoice
invoices_issued_in_bulk = Signal()
# invoice_id (the credit note), credited_invoice_id, customer_id, actor_id
credit_note_issued = Signal()
# invoice_id, customer_id, actor_id, reason: a document was sent again on request
invoice_resend_requested = Signal()
