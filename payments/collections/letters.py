"""Dunning letters as PDF, in the customer's language, rendered with invoicing's document helpers
(templates/documents/dunning_letter.html on the shared letterhead) and stored once per letter."""

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from customers.selectors import document_style_for
from invoicing.documents.render import address_lines, amount, html_to_pdf, money
from invoicing.documents.services import store_customer_document
from invoicing.models import DocumentFormat, StoredDocument
from otc.company import company_profile, letterhead
from otc.document_styles import look
from payments.models import DunningLetter, LetterTemplate

TITLES = {
    LetterTemplate.REMINDER: "Payment reminder",
    LetterTemplate.SECOND_NOTICE: "Second notice",
    LetterTemplate.FINAL_DEMAND: "Final demand",
}


def letter_title(letter: DunningLetter) -> str:
    """The letter's heading, in the active language."""
    return gettext(TITLES[letter.template])


def _letter(letter: DunningLetter) -> DunningLetter:
    return DunningLetter.objects.select_related("customer", "run").prefetch_related("items__invoice").get(pk=letter.pk)


def letter_context(letter: DunningLetter) -> dict:
    """What the letter shows; call inside the customer's language."""
    letter = _letter(letter)
    currency = letter.currency
    items = sorted(letter.items.all(), key=lambda item: (item.invoice.due_date, item.invoice.number))
    billed = max((item.invoice for item in items), key=lambda invoice: invoice.pk)
    open_total = sum(item.open_amount for item in items)
    return {
        "language": letter.customer.language,
        "company": letterhead(company_profile()),
        "look": look(document_style_for(letter.customer), letter.customer.language),
        "letter": letter,
        "title": letter_title(letter),
        "customer": letter.customer,
        "recipient_lines": address_lines(billed.billing_address or billed.shipping_address, letter.customer.legal_name),
        "rows": [
            {
                "number": item.invoice.number,
                "issue_date": item.invoice.issue_date,
                "due_date": item.invoice.due_date,
                "days_overdue": item.days_overdue,
                "level": item.level,
                "open": amount(item.open_amount, currency),
                "interest": amount(item.interest_amount, currency),
            }
            for item in items
        ],
        "open_total": money(open_total, currency),
        "fee": money(letter.fee_amount, currency) if letter.fee_amount else "",
        "interest": money(letter.interest_amount, currency) if letter.interest_amount else "",
        "total_due": money(letter.total_due, currency),
        "references": ", ".join(item.invoice.number for item in items),
    }


def dunning_letter_html(letter: DunningLetter) -> str:
    with translation.override(letter.customer.language):
        return render_to_string("documents/dunning_letter.html", letter_context(letter))


def render_dunning_letter_pdf(letter: DunningLetter) -> bytes:
    """The dunning letter as PDF, in the customer's language."""
    return html_to_pdf(dunning_letter_html(letter))


@transaction.atomic
def dunning_letter_document(*, letter: DunningLetter) -> StoredDocument:
    """The letter's stored PDF, rendered the first time it is asked for; the letter's row lock keeps
    two workers from storing it twice, and every later copy is the same bytes."""
    letter = DunningLetter.objects.select_for_update().select_related("customer", "run").get(pk=letter.pk)
    if letter.document_id is not None:
        return StoredDocument.objects.get(pk=letter.document_id)
    document = store_customer_document(
        customer=letter.customer,
        format=DocumentFormat.PDF,
        filename=f"DUN-{letter.run.run_date:%Y%m%d}-{letter.customer.number}-{letter.currency}.pdf",
        content=render_dunning_letter_pdf(letter),
    )
    letter.document = document
    letter.save(update_fields=["document"])
    return document
