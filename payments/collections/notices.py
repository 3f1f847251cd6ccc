"""Collections' letters and reminders to customers, and whether a reminder still goes out."""

from django.utils import translation

from customers.models import NotificationType
from customers.notices import LegalNotice, customer_recipients
from invoicing.documents.render import money
from invoicing.models import Invoice
from invoicing.selectors import is_on_hold
from otc.company import company_profile
from otc.notices import Notice
from payments.collections.letters import dunning_letter_document, letter_title
from payments.events import DunningLetterIssued, PaymentReminderDue
from payments.models import DunningLetter


def dunning_letter(event: DunningLetterIssued) -> list[Notice]:
    """Store the letter's PDF and email it to the dunning contacts, else billing. A dunning letter is a
    legal notice: no opt-out stops it. Without a contact it is still stored, for the portal and post."""
    letter = DunningLetter.objects.select_related("customer__preferences", "run").get(pk=event.letter_id)
    customer = letter.customer
    document = dunning_letter_document(letter=letter)
    recipients = customer_recipients(customer, LegalNotice.DUNNING_LETTER)
    if not recipients:
        return []
    with translation.override(customer.language):
        context = {
            "letter": letter,
            "customer": customer,
            "title": letter_title(letter),
            "company": company_profile().legal_name,
            "total_due": money(letter.total_due, letter.currency),
            "invoices": letter.invoices.order_by("due_date", "number"),
        }
    return [Notice(recipients, "dunning_letter", context, language=customer.language, attachments=[document])]


def payment_reminder(event: PaymentReminderDue) -> list[Notice]:
    """Remind of an invoice falling due soon, unless it was paid or held meanwhile or the customer opted out."""
    invoice = Invoice.objects.select_related("customer__preferences").get(pk=event.invoice_id)
    if invoice.open_amount <= 0 or is_on_hold(invoice):
        return []
    customer = invoice.customer
    recipients = customer_recipients(customer, NotificationType.PAYMENT_REMINDER)
    if not recipients:
        return []
    with translation.override(invoice.language):
        context = {
            "invoice": invoice,
            "customer": customer,
            "company": company_profile().legal_name,
            "amount_due": money(invoice.open_amount, invoice.currency),
        }
    return [Notice(recipients, "payment_reminder", context, language=invoice.language)]
