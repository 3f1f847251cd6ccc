"""A finance clerk's round in a real browser: from the workspace home to the customer's 360, a payment
registered on an invoice, the reconciliation queue worked with the keyboard alone (s skips, a
accepts the best proposal and moves on, h opens "Apply by hand"), a line applied by ticking the
open items it pays, and an order released from credit hold with a reason."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers import services as customer_services
from invoicing.models import InvoiceStatus
from orders import services as order_services
from orders.models import OrderStatus
from orders.services import LineInput
from payments.models import BankStatementLine, StatementLineStatus
from tests.e2e.test_admin_journeys import sign_in
from tests.factories import qty

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def line_url(line: BankStatementLine) -> str:
    return f"/admin/payments/bankstatementline/{line.pk}/change/"


def test_the_clerk_goes_to_the_360_and_registers_a_part_payment_on_an_invoice(page, clerk, buyer, invoices, screenshot):
    sign_in(page, clerk.email)
    waiting = page.locator("#workspace-finance").get_by_role("link", name=re.compile("Bank lines waiting"))
    expect(waiting).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot("clerk-dashboard")
    page.goto(f"/admin/customers/customer/{buyer.pk}/change/")
    expect(page.get_by_text(invoices[1].number).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot("clerk-customer-360")

    page.goto(f"/admin/invoicing/invoice/{invoices[1].pk}/change/")
    page.get_by_role("link", name="Register payment").click()
    expect(page.locator("input[name=amount]")).to_have_value(re.compile(r"^238\.00"))
    page.fill("input[name=amount]", "200.00")
    page.get_by_role("button", name="Register payment").click()

    expect(page).to_have_url(re.compile(rf"/admin/invoicing/invoice/{invoices[1].pk}/change/$"))
    expect(page.get_by_text("registered and applied").first).to_be_visible()
    invoices[1].refresh_from_db()
    assert (invoices[1].status, invoices[1].open_amount) == (InvoiceStatus.PARTIALLY_PAID, Decimal("38.00"))


def test_the_clerk_works_the_queue_with_the_keyboard(page, clerk, statement, invoices, screenshot):
    by_number, by_amount, _, on_account = statement.lines.order_by("line_no")

    sign_in(page, clerk.email)
    page.locator("#workspace-finance").get_by_role("link", name=re.compile("Bank lines waiting")).click()
    expect(page).to_have_url(re.compile(r"/admin/payments/bankstatementline/"))

    page.goto(line_url(by_number))
    expect(page.locator("#line-proposals .proposal").first).to_contain_text(invoices[0].number)
    screenshot("clerk-queue-line")
    page.keyboard.press("s")
    expect(page).to_have_url(re.compile(r"/admin/payments/bankstatementline/\d+/change/$"))
    assert not page.url.endswith(line_url(by_number))

    page.goto(line_url(by_number))
    expect(page.locator("#line-proposals .proposal").first).to_be_visible()
    page.keyboard.press("a")
    expect(page.get_by_text("applied as proposed").first).to_be_visible()
    by_number.refresh_from_db()
    assert by_number.status == StatementLineStatus.APPLIED
    invoices[0].refresh_from_db()
    assert invoices[0].status == InvoiceStatus.PAID
    assert page.url.endswith(line_url(by_amount)) or page.url.endswith(line_url(on_account))

    page.keyboard.press("h")
    expect(page).to_have_url(re.compile(r"/admin/payments/bankstatementline/\d+/apply/$"))


def test_the_clerk_applies_a_line_by_ticking_the_open_items_it_pays(page, clerk, statement, invoices, screenshot):
    on_account = statement.lines.get(line_no=4)  # 100.00 "on account"
    first, second = invoices

    sign_in(page, clerk.email)
    page.goto(line_url(on_account))
    page.locator("#apply-by-hand").click()
    expect(page).to_have_url(re.compile(rf"/bankstatementline/{on_account.pk}/apply/$"))
    expect(page.get_by_text("Line 4 of 2026-11-23: 100.00 EUR").first).to_be_visible()  # the breadcrumb
    page.fill("input[name=find]", second.number.split("-")[-1].lstrip("0"))  # as a customer types it
    page.get_by_role("button", name=re.compile(r"^(Apply|Show open invoices)$")).click()

    expect(page.get_by_text(f"{second.number} · due")).to_be_visible()
    expect(page.get_by_text(f"{first.number} · due")).to_be_visible()
    expect(page.locator(f"input[name=take_{second.pk}]")).to_be_checked()
    expect(page.locator(f"input[name=take_{first.pk}]")).not_to_be_checked()
    page.uncheck(f"input[name=take_{second.pk}]")
    page.check(f"input[name=take_{first.pk}]")
    page.check(f"input[name=take_{second.pk}]")
    page.fill(f"input[name=amount_{first.pk}]", "60.00")
    page.fill(f"input[name=amount_{second.pk}]", "40.00")
    screenshot("clerk-apply-by-hand")
    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_text(f"Line 4 of {statement.statement_id} booked as").first).to_be_visible()
    on_account.refresh_from_db()
    assert on_account.status == StatementLineStatus.APPLIED
    assert sorted((a.invoice.number, a.amount) for a in on_account.payment.allocations.all()) == [
        (first.number, Decimal("60.00")),
        (second.number, Decimal("40.00")),
    ]
    for invoice in invoices:
        invoice.refresh_from_db()
    assert (first.open_amount, second.open_amount) == (Decimal("59.00"), Decimal("198.00"))
    assert first.status == second.status == InvoiceStatus.PARTIALLY_PAID


def test_finance_releases_an_order_from_credit_hold_with_a_reason(page, clerk, credit_controller, customer, widget):
    customer_services.place_credit_hold(customer=customer, actor=clerk, reason="cheque bounced")
    order = order_services.confirm_order(
        order=order_services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty("5"))]),
        actor=clerk,
    )
    assert order.status == OrderStatus.ON_CREDIT_HOLD

    sign_in(page, credit_controller.email)
    page.locator("#workspace-finance").get_by_role("link", name=re.compile("Credit holds waiting")).click()
    page.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(re.compile(rf"/admin/orders/order/{order.pk}/change/"))
    page.locator("[x-ref=actionDropdown]", has_text="Credit hold").first.locator("a").first.click()  # the group
    page.locator("a:visible", has_text="Release credit hold").first.click()
    expect(page.get_by_text("Held because: Customer is on credit hold.")).to_be_visible()

    page.get_by_role("button", name="Release and confirm").click()  # no reason: refused, nothing changes
    expect(page.locator("textarea[name=reason]")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_CREDIT_HOLD

    page.fill("textarea[name=reason]", "Paid in advance by wire, see bank line of 3 Dec")
    page.get_by_role("button", name="Release and confirm").click()
    expect(page.get_by_text(f"{order.number} released and confirmed.")).to_be_visible()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    released = order.timeline.get(kind="released")
    assert "Paid in advance by wire" in released.detail
