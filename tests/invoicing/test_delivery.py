from decimal import Decimal

import pytest
from django.core import mail

from customers import services as customer_services
from customers.models import Contact, Customer, NotificationType, Preferences
from invoicing import services
from invoicing.documents import services as documents
from invoicing.models import InvoiceDeliveryLog, StoredDocument
from tests.support.outbox import run_outbox
from workflows import handlers
from workflows.handlers import HANDLERS
from workflows.models import Delivery, EventStatus, OutboxEvent
from workflows.services import dispatch_event, retry_event, run_handler_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root", "company")]
D = Decimal


def attachments(message) -> list[tuple[str, str]]:
    return [(filename, mimetype) for filename, _content, mimetype in message.attachments]


@pytest.fixture
def invoice(clerk, shipment):
    mail.outbox.clear()
    return services.invoice_shipments(shipments=[shipment], actor=clerk)


def test_an_issued_invoice_is_emailed_once_with_its_pdf(invoice):
    (event,) = run_outbox("invoice.issued")
    run_outbox("invoice.issued")  # a redelivered task finds the event done
    assert run_handler_once(event=event, handler=handlers.deliver_invoice) is False

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["paula@nordwind.example"]  # no billing contact: purchasing
    assert message.subject == f"Invoice {invoice.number} from Hanse Werkzeug GmbH"
    assert "Amount due: 182.53 EUR" in message.body
    assert f"/portal/invoices/{invoice.pk}/" in message.body
    assert attachments(message) == [(f"{invoice.number}.pdf", "application/pdf")]
    assert message.attachments[0][1].startswith(b"%PDF")
    stored = StoredDocument.objects.get(invoice=invoice)
    assert message.attachments[0][1] == stored.file.read()
    (log,) = InvoiceDeliveryLog.objects.filter(invoice=invoice)
    assert (log.channel, log.recipients, log.formats, log.is_resend) == (
        "email",
        ["paula@nordwind.example"],
        ["pdf"],
        False,
    )


def test_a_second_issue_event_for_the_same_invoice_delivers_nothing(invoice):
    (first,) = run_outbox("invoice.issued")
    duplicate = OutboxEvent.objects.create(event_type="invoice.issued", payload=first.payload)

    dispatch_event(event_id=duplicate.pk, handlers=HANDLERS)

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.last_error) == (EventStatus.DONE, "")
    assert Delivery.objects.filter(event=duplicate).count() == 0
    assert InvoiceDeliveryLog.objects.filter(invoice=invoice).count() == 1


def test_the_billing_contact_gets_invoices_even_when_opted_out_of_every_notification(clerk, customer, shipment):
    Contact.objects.create(customer=customer, name="Bea Billing", email="bea@nordwind.example", roles=["billing"])
    Preferences.objects.filter(customer=customer).update(opt_outs=NotificationType.values)
    mail.outbox.clear()
    services.invoice_shipments(shipments=[shipment], actor=clerk)

    run_outbox("invoice.issued")

    assert [message.to for message in mail.outbox] == [["bea@nordwind.example"]]


def test_an_e_invoice_customer_gets_the_ubl_xml_and_the_factur_x_pdf(clerk, customer, shipment):
    Preferences.objects.filter(customer=customer).update(invoice_delivery="e_invoice")
    Customer.objects.filter(pk=customer.pk).update(peppol_scheme="0088", peppol_id="4012345000009")
    mail.outbox.clear()
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    run_outbox("invoice.issued")

    (message,) = mail.outbox
    assert attachments(message) == [
        (f"{invoice.number}.xml", "application/xml"),
        (f"{invoice.number}-facturx.pdf", "application/pdf"),
    ]
    xml, facturx = (content for _filename, content, _mimetype in message.attachments)
    assert invoice.number.encode() in xml
    assert facturx.startswith(b"%PDF")
    assert InvoiceDeliveryLog.objects.get(invoice=invoice).formats == ["ubl", "facturx"]


def test_a_portal_only_customer_gets_no_email_and_the_delivery_is_logged_as_portal(clerk, customer, shipment):
    Preferences.objects.filter(customer=customer).update(invoice_delivery="portal_only")
    mail.outbox.clear()
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    run_outbox("invoice.issued")

    assert mail.outbox == []
    log = InvoiceDeliveryLog.objects.get(invoice=invoice)
    assert (log.channel, log.recipients, log.formats) == ("portal", [], [])
    assert not StoredDocument.objects.exists()


def test_without_a_billing_or_purchasing_contact_the_invoice_stays_in_the_portal(clerk, customer):
    Contact.objects.filter(customer=customer).update(is_active=False)
    mail.outbox.clear()
    invoice = services.create_manual_invoice(
        customer=customer,
        actor=clerk,
        lines=[services.ManualLine("Consulting", D("1"), D("100.00"), tax_rate=D("19"))],
    )

    run_outbox("invoice.issued")

    assert mail.outbox == []
    assert InvoiceDeliveryLog.objects.get(invoice=invoice).channel == "portal"


def test_a_resend_sends_the_stored_pdf_again_and_logs_who_asked(clerk, invoice):
    run_outbox("invoice.issued")
    first_pdf = mail.outbox[0].attachments[0][1]

    documents.request_resend(invoice=invoice, actor=clerk, reason="Customer lost the original")
    (event,) = run_outbox("invoice.resend_requested")

    assert event.payload["reason"] == "Customer lost the original"
    assert len(mail.outbox) == 2
    resent = mail.outbox[1]
    assert resent.subject == f"Copy: Invoice {invoice.number} from Hanse Werkzeug GmbH"
    assert resent.attachments[0][1] == first_pdf
    assert StoredDocument.objects.filter(invoice=invoice).count() == 1
    assert list(InvoiceDeliveryLog.objects.order_by("pk").values_list("is_resend", "requested_by", "channel")) == [
        (False, None, "email"),
        (True, clerk.pk, "email"),
    ]


def test_a_credit_note_is_emailed_with_its_own_pdf(clerk, invoice):
    run_outbox("invoice.issued")
    note = services.issue_credit_note(
        invoice=invoice,
        actor=clerk,
        reason="Two widgets damaged",
        lines=[services.CreditLine(invoice.lines.get(sku="WIDGET"), quantity=D("2"))],
    )

    run_outbox("credit_note.issued")

    message = mail.outbox[-1]
    assert message.subject == f"Credit note {note.number} from Hanse Werkzeug GmbH"
    assert f"for invoice {invoice.number}" in message.body
    assert "Reason: Two widgets damaged" in message.body
    assert attachments(message) == [(f"{note.number}.pdf", "application/pdf")]
    assert InvoiceDeliveryLog.objects.filter(invoice=note, is_resend=False).count() == 1


def test_an_e_invoice_that_breaks_the_peppol_rules_waits_unsent_until_the_customer_is_fixed(clerk, customer, shipment):
    Preferences.objects.filter(customer=customer).update(invoice_delivery="e_invoice")
    mail.outbox.clear()
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    (event,) = run_outbox("invoice.issued")

    event.refresh_from_db()
    assert mail.outbox == []
    assert event.status == EventStatus.PENDING
    assert "[PEPPOL-EN16931-R010] Buyer electronic address MUST be provided" in event.last_error
    assert not InvoiceDeliveryLog.objects.filter(invoice=invoice).exists()
    assert not StoredDocument.objects.filter(invoice=invoice).exists()

    customer_services.update_customer(
        customer=customer, actor=clerk, data={"peppol_scheme": "0088", "peppol_id": "4012345000009"}
    )
    retry_event(event=event)
    run_outbox("invoice.issued")

    (message,) = mail.outbox
    assert attachments(message) == [
        (f"{invoice.number}.xml", "application/xml"),
        (f"{invoice.number}-facturx.pdf", "application/pdf"),
    ]
    assert InvoiceDeliveryLog.objects.filter(invoice=invoice).count() == 1
