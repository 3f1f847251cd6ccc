"""Finance opens the analytics dashboard in a real browser and drills down from a chart to a document."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_admin_journeys import sign_in
from tests.factories import CustomerFactory, StaffFactory, invoice_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_draws_its_charts_and_the_aging_drills_down_to_the_invoice(page, screenshot):
    clerk = StaffFactory(email="clara@otc.test", full_name="Clara Clerk", groups=["finance"])
    late = CustomerFactory(actor=clerk, legal_name="Spaetzahler GmbH")
    overdue = invoice_for(late, clerk, "1200", timezone.localdate() - timedelta(days=75))

    sign_in(page, clerk.email)
    page.goto("/admin/analytics/customerbehaviour/dashboard/")
    expect(page.locator("#kpi-cards")).to_contain_text("DSO (standard)")
    expect(page.locator("#charts canvas")).to_have_count(3)
    page.wait_for_function("document.querySelectorAll('#charts canvas')[0].width > 0")
    screenshot("analytics-dashboard")

    page.get_by_role("link", name=re.compile("Aging \\(company currency\\)")).click()
    expect(page).to_have_url(re.compile(r"/reports/aging/"))
    row = page.locator("#report tbody tr", has_text="Spaetzahler GmbH")
    expect(row).to_contain_text("1200.00")
    row.get_by_role("link", name="Details").click()
    expect(page.locator("#report")).to_contain_text(overdue.number)
    page.get_by_role("link", name="Details").first.click()
    expect(page).to_have_url(re.compile(rf"/admin/invoicing/invoice/{overdue.pk}/change/"))
