"""A customer's day in the portal, in a real browser: sign in, order from the catalogue through the
cart, pay two invoices through the test provider, dispute a third, and ask to return delivered goods
from a phone."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers import services as customer_services
from invoicing import services as invoicing
from invoicing.models import InvoiceStatus
from orders import services as orders
from orders.models import Order, OrderStatus, ReturnRequest
from otc.models import CompanyProfile
from payments.models import Payment
from service.models import Dispute
from tests.e2e.test_admin_journeys import PASSWORD
from tests.factories import CustomerFactory, StaffFactory, approved_limit, make_product, placed_order, ship

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
D = Decimal
PHONE = {"width": 375, "height": 812}


def customer_with_history(
    settings, tmp_path, *, language: str = "en", descriptions=("Installation", "Training", "Freight")
):
    """Nordwind (in `language`) with a delivered order of 5 WID-1 and three open invoices of 119.00, 59.50
    and 35.70 EUR described as given; returns the clerk, the customer, the order and the invoices."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    clerk = StaffFactory(email="clara@otc.test", full_name="Clara Clerk")
    approver = StaffFactory(email="anton@otc.test", full_name="Anton Approver")
    CompanyProfile.objects.create(
        pk=1,
        legal_name="Hanse Werkzeug GmbH",
        line1="Speicherstadt 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        tax_id="DE123456789",
        email="billing@hanse-werkzeug.example",
        iban="DE89370400440532013000",
        bic="HASPDEHHXXX",
    )
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="50")
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", language=language)
    approved_limit(customer, limit="5000", clerk=clerk, approver=approver)
    delivered = placed_order(customer, clerk, (widget, "5"))
    orders.mark_delivered(shipment=ship(delivered, clerk), actor=clerk)
    invoices = [
        invoicing.create_manual_invoice(
            customer=customer,
            lines=[invoicing.ManualLine(description=text, quantity=D("1"), unit_price=D(price), tax_rate=D("19"))],
            actor=clerk,
        )
        for text, price in zip(descriptions, ("100.00", "50.00", "30.00"), strict=True)
    ]
    return clerk, customer, delivered, invoices


@pytest.fixture
def nordwind(settings, tmp_path):
    """Nordwind with a delivered order and three open invoices; Paula uses the portal in every role."""
    clerk, customer, delivered, invoices = customer_with_history(settings, tmp_path)
    paula = customer_services.grant_portal_access(customer=customer, actor=clerk, email="paula@nordwind.example")
    paula.set_password(PASSWORD)
    paula.save(update_fields=["password"])
    return customer, delivered, invoices


def sign_in(page, email: str) -> None:
    page.goto("/portal/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/portal/$"))


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_customer_orders_pays_disputes_and_returns_in_the_portal(page, browser, live_server, nordwind, screenshot):
    customer, delivered, (installation, training, freight) = nordwind
    sign_in(page, "paula@nordwind.example")

    page.get_by_role("link", name="Catalogue").click()
    page.get_by_label("Search by SKU or name").fill("wid")
    page.get_by_role("button", name="Search").click()
    row = page.locator("tr", has_text="WID-1")
    row.get_by_label("Quantity of WID-1").fill("3")
    row.get_by_role("button", name="Add").click()
    expect(page.locator(".messages")).to_contain_text("is in your cart")
    screenshot("portal-catalogue")
    page.get_by_role("link", name="Cart", exact=True).first.click()
    expect(page.locator("tfoot")).to_contain_text("37.50 EUR")
    page.get_by_label("Your PO number").fill("PO-2026-17")
    page.get_by_role("button", name="Place the order").click()
    placed = Order.objects.exclude(pk=delivered.pk).get()
    expect(page).to_have_url(re.compile(rf"/portal/orders/{placed.number}/$"))
    expect(page.locator(".messages")).to_contain_text(f"Order {placed.number} placed: confirmed")
    assert (placed.status, placed.po_number, placed.gross_total) == (OrderStatus.CONFIRMED, "PO-2026-17", D("44.63"))

    page.get_by_role("link", name="Invoices").click()
    page.get_by_role("link", name="Pay invoices online").click()
    page.get_by_label(re.compile(installation.number)).check()
    page.get_by_label(re.compile(training.number)).check()
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_url(re.compile(r"/portal/pay/test-provider/"))
    screenshot("portal-test-provider")
    page.get_by_role("button", name="Pay 178.50 EUR").click()
    expect(page).to_have_url(re.compile(r"/portal/invoices/$"))
    expect(page.locator(".messages")).to_contain_text("178.50 EUR received")
    payment = Payment.objects.get()
    assert (payment.customer, payment.amount) == (customer, D("178.50"))
    for invoice in (installation, training):
        invoice.refresh_from_db()
        assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, D("0.00"))

    page.goto(f"/portal/invoices/{freight.pk}/")
    page.get_by_role("link", name="Dispute").click()
    page.get_by_label("Reason").select_option("price")
    page.get_by_label("What is wrong?").fill("Freight was agreed free of charge.")
    page.get_by_role("button", name="Dispute").click()
    dispute = Dispute.objects.get()
    expect(page).to_have_url(re.compile(rf"/portal/tickets/{dispute.ticket.number}/$"))
    expect(page.locator(".messages")).to_contain_text(f"Invoice {freight.number} is disputed")
    assert (dispute.invoice, dispute.description) == (freight, "Freight was agreed free of charge.")

    phone_context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    phone_context.set_default_timeout(15_000)
    phone = phone_context.new_page()
    sign_in(phone, "paula@nordwind.example")
    phone.goto(f"/portal/orders/{delivered.number}/")
    assert fits_the_screen(phone)
    phone.get_by_role("link", name="Return goods").click()
    phone.get_by_label(re.compile(r"^1\. ")).fill("2")
    phone.get_by_label("Why do you return the goods?").select_option("damaged_in_transit")
    phone.get_by_label("What is wrong?").fill("Two housings cracked.")
    assert fits_the_screen(phone)
    phone.get_by_role("button", name="Request the return").click()
    request = ReturnRequest.objects.get()
    expect(phone).to_have_url(re.compile(rf"/portal/orders/{delivered.number}/$"))
    expect(phone.locator(".messages")).to_contain_text(f"Your return request {request.number} is with our team")
    expect(phone.locator("main")).to_contain_text("Requested")
    phone.screenshot(path="/tmp/e2e-portal-phone-return.png", full_page=True)
    assert [(line.order_line.product.sku, line.quantity) for line in request.lines.all()] == [("WID-1", D("2"))]
    for path in ("/portal/", "/portal/catalogue/", "/portal/invoices/", f"/portal/tickets/{dispute.ticket.number}/"):
        phone.goto(path)
        assert fits_the_screen(phone), path
    phone_context.close()
