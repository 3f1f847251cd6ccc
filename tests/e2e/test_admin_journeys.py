"""The finance staff's main admin journeys in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer, CustomerStatus
from tests.factories import CustomerFactory, StaffFactory, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


def sign_in(page, email: str) -> None:
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # /admin/login/ hands over to allauth
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))  # finance and admin staff use TOTP
    page.fill("input[name=code]", totp_code())
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_staff_signs_in_adds_a_customer_and_sees_its_history(page, screenshot):
    clerk = StaffFactory(email="clara@otc.test", full_name="Clara Clerk", groups=["finance"])
    CustomerFactory(actor=clerk, legal_name="Bestand Handel GmbH")

    sign_in(page, clerk.email)
    page.goto("/admin/customers/customer/")
    expect(page.get_by_role("link", name="Bestand Handel GmbH")).to_be_visible()
    screenshot("customer-list-before")

    page.locator("a[href$='/admin/customers/customer/add/']").first.click()
    expect(page).to_have_url(re.compile(r"/customer/add/$"))
    page.fill("input[name=legal_name]", "Nordlicht Maschinenbau GmbH")
    page.fill("input[name=trading_name]", "Nordlicht")
    page.select_option("select[name=country]", "DE")
    page.fill("input[name=tax_id]", "DE 136 695 976")
    page.fill("input[name=payment_terms_days]", "14")
    screenshot("customer-add")
    page.click("button[name=_save]")

    expect(page).to_have_url(re.compile(r"/admin/customers/customer/$"))
    expect(page.get_by_role("link", name="Nordlicht", exact=True)).to_be_visible()
    screenshot("customer-list-after")
    customer = Customer.objects.get(legal_name="Nordlicht Maschinenbau GmbH")
    assert customer.tax_id == "DE136695976"

    page.get_by_role("link", name="Nordlicht", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/customer/{customer.pk}/change/$"))
    expect(page.locator("input[name=legal_name]")).to_have_value("Nordlicht Maschinenbau GmbH")
    screenshot("customer-change")

    page.get_by_role("link", name="History").click()
    expect(page).to_have_url(re.compile(rf"/customer/{customer.pk}/history/$"))
    history = page.locator("#audit-history")
    expect(history).to_contain_text("Customer added")
    expect(history).to_contain_text("Clara Clerk")
    expect(history).to_contain_text("DE136695976")
    screenshot("customer-history")


def test_a_duplicate_is_warned_about_then_confirmed_and_a_credit_hold_placed(page, screenshot):
    clerk = StaffFactory(email="clara@otc.test", full_name="Clara Clerk", groups=["finance"])
    original = CustomerFactory(actor=clerk, legal_name="Müller GmbH", tax_id="DE136695976")

    sign_in(page, clerk.email)
    page.goto("/admin/customers/customer/add/")
    page.fill("input[name=legal_name]", "Mueller GmbH & Co. KG")
    page.select_option("select[name=country]", "DE")
    page.click("button[name=_save]")

    warning = page.get_by_text("Check them; if this is a different company")
    expect(warning).to_be_visible()
    expect(warning.get_by_role("link", name=f"{original.number} Müller GmbH")).to_be_visible()
    expect(page.locator("input[name=confirm_duplicate]")).to_be_visible()
    screenshot("customer-duplicate-warning")
    assert Customer.objects.count() == 1

    page.check("input[name=confirm_duplicate]")
    page.click("button[name=_save]")
    expect(page).to_have_url(re.compile(r"/admin/customers/customer/$"))
    duplicate = Customer.objects.get(legal_name="Mueller GmbH & Co. KG")

    page.goto(f"/admin/customers/customer/{duplicate.pk}/credit-hold/")
    page.fill("textarea[name=reason]", "Unpaid pro-forma invoice")
    page.click("button[name=_submit]")
    expect(page.get_by_text("is on credit hold")).to_be_visible()
    screenshot("customer-on-hold")
    duplicate.refresh_from_db()
    assert duplicate.status == CustomerStatus.ON_HOLD
