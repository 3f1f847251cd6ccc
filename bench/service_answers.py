"""Automated answers: the labelled inquiries of bench/service_answers_inquiries.json (English, German,
some French and mixed; typos, OCR slips, numbers without prefix or year, off-topic questions,
complaints, other customers' documents, unknown senders) sent as raw emails through
`service.services.receive_mail` into a seeded database, the way a mail provider posts them.

Each inquiry's outcome is the intent answered automatically, or "person" when it was left to an
agent. Printed: precision and recall per intent and for the automated answers overall, and the
number of answers that revealed another customer's data (a document number, or an attached
invoice, not the sender's customer's), which must be 0.

    .venv/bin/python bench/service_answers.py
"""

import json
import re
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, Timer, drop_database, setup_django, write_results

DATA = ROOT / "bench" / "service_answers_inquiries.json"
CUSTOMERS = {
    "nordwind": ("Nordwind Handel GmbH", "en"),
    "alpen": ("Alpen Supply Ltd", "en"),
    "kuestenhof": ("Kuestenhof Trading BV", "en"),
    "bergland": ("Bergland Werkzeuge GmbH", "de"),
    "talwerk": ("Talwerk Maschinenbau AG", "de"),
    "seeblick": ("Seeblick Gastro GmbH", "de"),
}
# Customers with a second order in progress: "where is my order?" without a number is theirs to ask a person.
TWO_ORDERS = {"alpen", "talwerk", "seeblick"}
DOCUMENT_NUMBER = re.compile(r"\b(?:INV|CN|SO|SH|PAY|PMT)-20\d\d-\d{6}\b")


def seed() -> dict:
    """Six customers, each with a contact, four invoices (two overdue, one partly paid), a payment and
    one or two orders, the first shipped with a carrier and tracking link."""
    from django.utils import timezone

    from customers import services as customer_services
    from invoicing import services as invoicing
    from orders import services as orders
    from otc.models import CompanyProfile
    from payments.models import PaymentMethod, PaymentSource
    from payments.money import services as money
    from tests.factories import StaffFactory, make_product

    clerk = StaffFactory(full_name="Bench Clerk", email="clerk@bench.otc")
    approver = StaffFactory(full_name="Bench Approver", email="approver@bench.otc")
    CompanyProfile.objects.create(
        pk=1,
        legal_name="OTC Demo GmbH",
        line1="Am Sandtorkai 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE136695976",
        email="billing@otc.example",
        bank_name="Demo Bank",
        iban="DE89370400440532013000",
        bic="COBADEFFXXX",
    )
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="1000")
    today = timezone.localdate()
    books = {}
    for key, (name, language) in CUSTOMERS.items():
        customer = customer_services.create_customer(
            actor=clerk,
            legal_name=name,
            country="DE",
            language=language,
            confirm_duplicate=True,
            contacts=[{"name": f"{key.title()} Buyer", "email": f"buyer@{key}.example", "roles": ["billing"]}],
        )
        request = customer_services.request_credit_limit_change(
            customer=customer, actor=clerk, credit_limit="50000", reason="bench"
        )
        customer_services.approve_change_request(change_request=request, actor=approver)
        invoices = []
        for index, amount in enumerate(["100.00", "250.00", "75.50", "1200.00"]):
            line = invoicing.ManualLine(
                description="Service", quantity=Decimal("1"), unit_price=Decimal(amount), tax_rate=Decimal("19")
            )
            issued = today - timedelta(days=45 if index < 2 else 3)
            invoices.append(
                invoicing.create_manual_invoice(customer=customer, lines=[line], actor=clerk, issue_date=issued)
            )
        payment = money.record_payment(
            customer=customer,
            amount=Decimal("150.00"),
            currency="EUR",
            method=PaymentMethod.BANK_TRANSFER,
            source=PaymentSource.STAFF,
            actor=clerk,
        )
        money.allocate_payment(
            payment=payment, applications=[money.Application(invoices[0], Decimal("119.00"))], actor=clerk
        )
        placed = []
        for _ in range(2 if key in TWO_ORDERS else 1):
            order = orders.create_order(actor=clerk, customer=customer, lines=[orders.LineInput(widget, Decimal("4"))])
            orders.confirm_order(order=order, actor=clerk)
            placed.append(order)
        orders.dispatch_shipment(
            order=placed[0],
            actor=clerk,
            carrier="DHL",
            tracking_number=f"JJD{placed[0].pk}",
            tracking_url=f"https://track.example/JJD{placed[0].pk}",
        )
        books[key] = {"customer": customer, "invoices": invoices, "orders": placed}
    return books


def _variants(number: str, prefix: str, entry_id: int) -> dict[str, str]:
    _, year, sequence = number.split("-")
    typo = (
        f"{prefix}-{year}-{sequence[1:]}"  # a leading zero dropped
        if entry_id % 2
        else f"{prefix}-{year[:2]}{year[3]}{year[2]}-{sequence}"  # year digits swapped
    )
    return {
        "": number,
        "_TYPO": typo,
        "_OCR": f"{prefix}-{year}-{sequence.replace('0', 'O')}",
        "_BARE": str(int(sequence)),
        "_NOPREFIX": f"{year}-{sequence}",
    }


def filled(entry: dict, books: dict) -> tuple[str, str, str]:
    """Subject and body with the sender's (or another customer's) document numbers, and the sender."""
    key = entry["sender"]
    own = books["nordwind" if key == "unknown" else key]
    keys = list(CUSTOMERS)
    other = books[keys[(keys.index(key) + 1) % len(keys)] if key != "unknown" else "alpen"]
    index = entry["document"]
    values = {}
    for name, prefix, documents in (("INV", "INV", own["invoices"]), ("SO", "SO", own["orders"])):
        number = documents[min(index, len(documents) - 1)].number
        values.update({f"{name}{suffix}": text for suffix, text in _variants(number, prefix, entry["id"]).items()})
    values["FOREIGN_INV"] = other["invoices"][index].number
    values["FOREIGN_SO"] = other["orders"][0].number
    sender = "someone@unknown.example" if key == "unknown" else f"buyer@{key}.example"
    return entry["subject"].format(**values), entry["body"].format(**values), sender


def raw_mail(sender: str, subject: str, body: str, entry_id: int) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "service@otc.example", subject
    message["Message-ID"] = f"<inquiry-{entry_id}@bench.example>"
    message.set_content(body)
    return message.as_bytes()


def leaked(ticket) -> bool:
    """Whether an answer shows a document that is not the ticket's customer's."""
    from invoicing.models import Invoice
    from orders.models import Order, Shipment
    from payments.models import Payment

    recognition = ticket.recognition
    if recognition.invoice is not None and recognition.invoice.customer_id != ticket.customer_id:
        return True
    numbers = set(DOCUMENT_NUMBER.findall(recognition.answer.body))
    owners = (
        set(Invoice.objects.filter(number__in=numbers).values_list("customer_id", flat=True))
        | set(Order.objects.filter(number__in=numbers).values_list("customer_id", flat=True))
        | set(Shipment.objects.filter(number__in=numbers).values_list("order__customer_id", flat=True))
        | set(Payment.objects.filter(number__in=numbers).values_list("customer_id", flat=True))
    )
    return bool(owners - {ticket.customer_id})


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def main() -> None:
    url = setup_django()
    try:
        from django.conf import settings

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="otc-bench-media-")
        settings.DEFAULT_FROM_EMAIL = "Service <service@otc.example>"
        from service.models import InboundSource
        from service.services import receive_mail

        inquiries = json.loads(DATA.read_text())["inquiries"]
        books = seed()
        outcomes, leaks, wrong = [], 0, []
        with Timer() as timer:
            for entry in inquiries:
                subject, body, sender = filled(entry, books)
                record = receive_mail(raw=raw_mail(sender, subject, body, entry["id"]), source=InboundSource.WEBHOOK)
                ticket = record.ticket
                recognition = getattr(ticket, "recognition", None) if ticket else None
                answered = recognition is not None and recognition.answer_id is not None
                got = recognition.intent if answered else "person"
                if answered and leaked(ticket):
                    leaks += 1
                outcomes.append((entry["expect"], got))
                if got != entry["expect"]:
                    wrong.append(
                        {
                            "id": entry["id"],
                            "expect": entry["expect"],
                            "got": got,
                            "note": entry["note"],
                            "text": f"{subject} | {body}",
                            "why": recognition.handed_over if recognition else record.outcome,
                        }
                    )
        labels = sorted({expect for expect, _ in outcomes} | {got for _, got in outcomes})
        per_intent = {}
        for label in labels:
            true_positive = sum(1 for expect, got in outcomes if expect == got == label)
            per_intent[label] = {
                "labelled": sum(1 for expect, _ in outcomes if expect == label),
                "predicted": sum(1 for _, got in outcomes if got == label),
                "precision": ratio(true_positive, sum(1 for _, got in outcomes if got == label)),
                "recall": ratio(true_positive, sum(1 for expect, _ in outcomes if expect == label)),
            }
        answers = [(expect, got) for expect, got in outcomes if got != "person"]
        answerable = [(expect, got) for expect, got in outcomes if expect != "person"]
        correct = sum(1 for expect, got in answers if expect == got)
        overall = {
            "inquiries": len(outcomes),
            "answered_automatically": len(answers),
            "precision": ratio(correct, len(answers)),
            "recall": ratio(correct, len(answerable)),
            "accuracy": ratio(sum(1 for expect, got in outcomes if expect == got), len(outcomes)),
            "answers_revealing_another_customers_data": leaks,
            "seconds": round(timer.seconds, 2),
            "inquiries_per_second": round(len(outcomes) / timer.seconds, 1),
        }
        print(f"{'intent':<18} {'labelled':>8} {'answered':>8} {'precision':>9} {'recall':>7}")
        for label, figures in per_intent.items():
            print(
                f"{label:<18} {figures['labelled']:>8} {figures['predicted']:>8} "
                f"{figures['precision'] if figures['precision'] is not None else '-':>9} "
                f"{figures['recall'] if figures['recall'] is not None else '-':>7}"
            )
        print(
            f"overall: {overall['answered_automatically']} of {overall['inquiries']} answered automatically, "
            f"precision {overall['precision']}, recall {overall['recall']}, accuracy {overall['accuracy']}"
        )
        print(f"answers revealing another customer's data: {leaks} (must be 0)")
        print(f"{overall['inquiries_per_second']} inquiries/s end to end (parse, ticket, recognition, answer, outbox)")
        mistakes = Counter((row["expect"], row["got"]) for row in wrong)
        for (expect, got), count in mistakes.most_common():
            print(f"  {count:>3} labelled {expect}, went to {got}")
        path = write_results(
            "service_answers",
            {"overall": overall, "per_intent": per_intent, "mistakes": wrong},
        )
        print(f"written to {path.relative_to(ROOT)}")
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
