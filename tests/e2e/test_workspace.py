"""A finance clerk's day starts on the workspace home: the overdue figure leads to the overdue invoices."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.test_admin_journeys import sign_in
from tests.factories import CustomerFactory, StaffFactory, invoice_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_clerk_goes_from_the_overdue_figure_to_the_overdue_invoices(page, screenshot):
    clerk = StaffFactory(email="clara@otc.test", full_name="Clara Clerk", groups=["finance"])
    customer = CustomerFactory(actor=clerk, legal_name="Spätzahler GmbH")
    late = invoice_for(customer, clerk, "250.00", date(2025, 1, 10))

    sign_in(page, clerk.email)
    finance = page.locator("#workspace-finance")
    expect(finance.get_by_role("link", name=re.compile("Overdue EUR"))).to_contain_text("250.00")
    expect(page.locator("#nav-sidebar, aside").get_by_text("Reconciliation queue").first).to_be_attached()
    screenshot("workspace-dashboard")

    finance.get_by_role("link", name=re.compile("Overdue EUR")).click()
    expect(page).to_have_url(re.compile(r"/admin/invoicing/invoice/\?.*overdue=yes"))
    expect(page.get_by_text(late.number).first).to_be_visible()
