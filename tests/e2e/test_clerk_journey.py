"""A finance clerk's round in a real browser: from the workspace home to the customer's 360, a payment
registered on an invoice, and the reconciliation queue worked with the keyboard alone (s skips, a
accepts the best proposal and moves on, h opens "Apply by hand")."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from invoicing.models import InvoiceStatus
from payments.models import BankStatementLine, StatementLineStatus
from tests.e2e.test_admin_journeys import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def line_url(line: BankStatementLine) -> str:
    return f"/admin/payments/bankstatementline/{line.pk}/change/"


def test_the_clerk_goes_to_the_360_and_registers_a_part_payment_on_an_invoice(page, clerk, buyer, invoices, screenshot):
    sign_in(page, clerk.email)
    screenshot("clerk-dashboard")
    page.goto(f"/admin/customers/customer/{buyer.pk}/change/")
    expect(page.get_by_text(invoices[1].number).first).to_be_visible()
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
