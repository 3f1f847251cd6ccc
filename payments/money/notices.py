"""Who hears of money events: the customer's receipt for a payment applied to invoices."""

from django.utils import translation

from customers.models import NotificationType
from customers.notices import customer_recipients
from invoicing.documents.render import money
from otc.company import company_profile
from otc.notices import Notice
from payments.events import PaymentAllocated
from payments.models import Allocation, Payment


def payment_receipt(event: PaymentAllocated) -> list[Notice]:
    """Confirm to the customer which invoices a payment settled, unless they opted out of receipts."""
    payment = Payment.objects.select_related("customer__preferences").get(pk=event.payment_id)
    customer = payment.customer
    recipients = customer_recipients(customer, NotificationType.PAYMENT_RECEIPT)
    if not recipients:
        return []
    allocations = (
        Allocation.objects.filter(
            payment=payment, invoice_id__in=[line.invoice_id for line in event.invoices], reversed_at__isnull=True
        )
        .select_related("invoice")
        .order_by("invoice__number", "pk")
    )
    with translation.override(customer.language):
        context = {
            "payment": payment,
            "customer": customer,
            "company": company_profile().legal_name,
            "amount": money(payment.amount, payment.currency),
            "lines": [
                {
                    "number": allocation.invoice.number,
                    "applied": money(allocation.amount + allocation.write_off_amount, payment.currency),
                    "still_open": money(allocation.invoice.open_amount, payment.currency),
                }
                for allocation in allocations
            ],
        }
    return [Notice(recipients, "payment_receipt", context, language=customer.language)]
