"""Collections in the admin: a dunning policy with its levels saved as configuration, running
dunning for today (letters for overdue invoices, with their PDF), a dispute (service's admin) holding an
invoice out of the run until it is resolved, and promises to pay recorded through the service."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from payments.models import DunningLetter, DunningLevel, DunningPolicy, PromiseToPay
from service.models import Dispute
from tests.factories import StaffFactory, manual_invoice

pytestmark = pytest.mark.django_db

RUNS = "/admin/payments/dunningrun/"
DISPUTES = "/admin/service/dispute/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def level_rows(*levels: tuple[int, int, str, str]) -> dict:
    form = {"levels-TOTAL_FORMS": len(levels), "levels-INITIAL_FORMS": 0, "levels-MIN_NUM_FORMS": 0}
    form["levels-MAX_NUM_FORMS"] = 1000
    for index, (level, days, template, fee) in enumerate(levels):
        form |= {
            f"levels-{index}-level": level,
            f"levels-{index}-days_after_due": days,
            f"levels-{index}-template": template,
            f"levels-{index}-fee": fee,
            f"levels-{index}-interest_rate_percent_per_year": "0",
        }
    return form


@pytest.fixture
def policy(clerk):
    form = {"name": "Standard", "is_default": "on", "_save": "Save"}
    form |= level_rows((1, 7, "reminder", "0"), (2, 21, "second_notice", "5.00"))
    response = signed_in(clerk).post("/admin/payments/dunningpolicy/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    return DunningPolicy.objects.get()


@pytest.fixture
def overdue(buyer, clerk):
    """Two invoices issued 40 days ago, ten days overdue."""
    issued = timezone.localdate() - timedelta(days=40)
    return [
        manual_invoice(buyer, clerk, ("1", "100", "19"), issue_date=issued),
        manual_invoice(buyer, clerk, ("2", "100", "19"), issue_date=issued),
    ]


def test_a_policy_and_its_levels_are_saved_in_the_admin(policy):
    assert policy.is_default
    assert list(DunningLevel.objects.values_list("level", "days_after_due", "template")) == [
        (1, 7, "reminder"),
        (2, 21, "second_notice"),
    ]


@pytest.mark.usefixtures("company", "policy")
def test_a_disputed_invoice_is_skipped_by_the_run_started_in_the_admin(clerk, overdue):
    first, disputed = overdue
    client = signed_in(clerk)

    assert "autofocus" in client.get(f"{DISPUTES}add/").content.decode()
    opened = client.post(
        f"{DISPUTES}add/",
        {"invoice_number": disputed.number, "reason": "damaged", "description": "goods arrived damaged"},
    )
    dispute = Dispute.objects.get()
    assert opened.status_code == 302, opened.content.decode()[:2000]
    listed = client.get(DISPUTES, {"status": "open"}).content.decode()
    assert disputed.number in listed
    assert "goods arrived damaged" in client.get(f"{DISPUTES}{dispute.pk}/change/").content.decode()

    response = client.post(f"{RUNS}run/", follow=True)

    assert any("1 letter(s) issued" in text for text in messages_of(response))
    letter = DunningLetter.objects.get()
    assert list(letter.items.values_list("invoice_id", flat=True)) == [first.pk]
    page = client.get(f"/admin/payments/dunningletter/{letter.pk}/change/").content.decode()
    assert first.number in page
    pdf = client.get(f"/admin/payments/dunningletter/{letter.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")

    again = client.post(f"{RUNS}run/", follow=True)
    assert any("ran already" in text for text in messages_of(again))

    client.post(f"{DISPUTES}{dispute.pk}/reject/", {"note": "delivery note signed without remarks"})
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution, dispute.resolved_by) == ("resolved", "rejected", clerk)
    assert not disputed.holds.filter(released_at__isnull=True).exists()


def test_an_unknown_invoice_cannot_be_disputed(clerk):
    response = signed_in(clerk).post(
        f"{DISPUTES}add/", {"invoice_number": "INV-0000-000000", "reason": "other", "description": "x"}
    )

    assert response.status_code == 200
    assert "No invoice INV-0000-000000" in response.content.decode()
    assert not Dispute.objects.exists()


def test_a_promise_to_pay_is_recorded_through_the_service_and_sales_can_read_it(clerk, buyer, invoices):
    client = signed_in(clerk)
    form = {
        "customer": buyer.pk,
        "invoices": f"{invoices[0].number}, {invoices[1].number}",
        "promised_date": f"{timezone.localdate() + timedelta(days=7):%Y-%m-%d}",
        "amount": "357.00",
        "note": "by phone",
    }

    client.post("/admin/payments/promisetopay/add/", form)

    promise = PromiseToPay.objects.get()
    assert (promise.created_by, promise.invoices.count()) == (clerk, 2)
    sales = signed_in(StaffFactory(email="sam@otc.test", groups=["sales"]))
    assert invoices[0].number in sales.get("/admin/payments/promisetopay/").content.decode()
    assert sales.get("/admin/payments/bankstatement/").status_code == 403
