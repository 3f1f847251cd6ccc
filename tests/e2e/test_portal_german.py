"""A German customer's whole portal journey in a real browser, in German: invited by staff, the link from
the invitation email, a password chosen, the catalogue searched and an order placed, the order tracked,
two invoices paid through the test provider, a third disputed, a question asked, and the statement of
account read and downloaded. Every step is checked on the German page and in the database."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from customers import services as customer_services
from customers.models import PortalRole
from invoicing.models import InvoiceStatus
from orders.models import Order, OrderStatus
from payments.models import Payment
from service.models import Dispute, Ticket
from tests.e2e.test_portal import customer_with_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal
PASSWORD = "Nordwind-Portal-2026"


@pytest.fixture
def nordwind(settings, tmp_path):
    """A German customer with a delivered order and three open invoices; nobody has portal access yet."""
    return customer_with_history(settings, tmp_path, language="de", descriptions=("Montage", "Schulung", "Fracht"))


def test_a_german_customer_is_invited_orders_tracks_pays_disputes_asks_and_reads_the_statement(
    browser, live_server, nordwind, screenshot
):
    clerk, customer, delivered, (montage, schulung, fracht) = nordwind
    customer_services.invite_portal_user(
        customer=customer, actor=clerk, email="paula@nordwind.example", roles=list(PortalRole.values)
    )
    [invitation_email] = [message for message in mail.outbox if "paula@nordwind.example" in message.to]
    link = re.search(r"/portal/invitation/[^/\s]+/", invitation_email.body).group()

    context = browser.new_context(base_url=live_server.url, locale="de-DE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()

    # The invitation: a password, then the offer of an authenticator app, skipped.
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("Willkommen im Portal von")
    page.get_by_label("Passwort wählen").fill(PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    page.get_by_role("button", name="Passwort festlegen und anmelden").click()
    page.get_by_role("link", name="Vorerst überspringen").click()
    expect(page).to_have_url(re.compile(r"/portal/$"))

    # The catalogue, the cart and the order.
    page.get_by_role("link", name="Katalog").click()
    page.get_by_label("Nach Artikelnummer oder Name suchen").fill("wid")
    page.get_by_role("button", name="Suchen").click()
    row = page.locator("tr", has_text="WID-1")
    row.get_by_label("Menge von WID-1").fill("3")
    row.get_by_role("button", name="Hinzufügen").click()
    expect(page.locator(".messages")).to_contain_text("liegt im Warenkorb")
    page.get_by_role("link", name="Warenkorb", exact=True).first.click()
    page.get_by_label("Ihre Bestellnummer").fill("PO-2026-17")
    page.get_by_role("button", name="Bestellung aufgeben").click()
    placed = Order.objects.exclude(pk=delivered.pk).get()
    expect(page.locator(".messages")).to_contain_text(f"Bestellung {placed.number} aufgegeben")
    assert (placed.status, placed.gross_total) == (OrderStatus.CONFIRMED, D("44.63"))
    screenshot("portal-de-order")

    # Tracking the delivered order.
    page.get_by_role("link", name="Bestellungen").first.click()
    page.get_by_role("link", name=delivered.number).click()
    expect(page.locator("main")).to_contain_text("Sendungsverfolgung")
    expect(page.locator("main")).to_contain_text("00340434161094042557")

    # Two invoices paid online.
    page.get_by_role("link", name="Rechnungen", exact=True).first.click()
    page.get_by_role("link", name="Rechnungen online bezahlen").click()
    page.get_by_label(re.compile(montage.number)).check()
    page.get_by_label(re.compile(schulung.number)).check()
    page.get_by_role("button", name="Weiter zur Zahlung").click()
    page.get_by_role("button", name=re.compile(r"178,50 EUR bezahlen")).click()
    expect(page.locator(".messages")).to_contain_text("Vielen Dank: 178,50 EUR erhalten")
    assert Payment.objects.get().amount == D("178.50")
    for invoice in (montage, schulung):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, D("0.00"))

    # The third invoice disputed.
    page.goto(f"/portal/invoices/{fracht.pk}/")
    page.get_by_role("link", name="Beanstanden").click()
    page.get_by_label("Grund").select_option("price")
    page.get_by_label("Was stimmt nicht?").fill("Die Fracht war frei vereinbart.")
    page.get_by_role("button", name="Beanstanden").click()
    dispute = Dispute.objects.get()
    expect(page.locator(".messages")).to_contain_text(f"Rechnung {fracht.number} ist beanstandet")
    assert (dispute.invoice, dispute.description) == (fracht, "Die Fracht war frei vereinbart.")

    # A question.
    page.get_by_role("link", name="Anfragen").first.click()
    page.get_by_role("link", name="Neue Frage stellen").click()
    page.get_by_label("Betreff").fill("Lieferzeit für WID-1")
    page.get_by_label("Ihre Nachricht").fill("Wann kommen die nächsten 100 Stück?")
    page.get_by_role("button", name="Senden").click()
    asked = Ticket.objects.exclude(pk=dispute.ticket_id).get()
    expect(page.locator(".messages")).to_contain_text(f"Ihre Anfrage {asked.number} liegt bei unserem Team")

    # The statement of account: the paid and the open invoices, and its PDF.
    page.get_by_role("link", name="Rechnungen", exact=True).first.click()
    page.get_by_role("link", name="Kontoauszug").click()
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("main")).to_contain_text("Endsaldo")
    expect(page.locator("main")).to_contain_text("Zahlung zugeordnet")
    expect(page.locator("main")).to_contain_text(f"{timezone.localdate():%d.%m.%Y}")  # dates as Germans write them
    expect(page.locator("main")).to_contain_text(fracht.number)
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF herunterladen").click()
    assert download.value.suggested_filename.endswith(".pdf")
    screenshot_path = "/tmp/e2e-portal-de-statement.png"
    page.screenshot(path=screenshot_path, full_page=True)
    context.close()
