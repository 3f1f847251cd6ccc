"""The account's sales rep and team hear of a key account's new ticket, an SLA target due soon, a
dispute and a broken promise to pay: by email through the outbox, each exactly once, however often a
handler runs for the event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers import services as customer_services
from customers.models import CustomerGroup
from payments.collections import services as collections
from service import services
from service.models import DisputeReason, KeyAccount, SlaAlert, Team
from tests.factories import StaffFactory, manual_invoice, open_for
from tests.service.test_sla import berlin, clock, policy  # noqa: F401 (fixtures)
from workflows import handlers
from workflows.models import Delivery, OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_team(db):
    team = Team.objects.create(name="Key accounts", lead=StaffFactory(email="kim@otc.test"))
    team.members.set([StaffFactory(email="kai@otc.test")])
    return team


@pytest.fixture
def represented(buyer, clerk, sales_rep):
    customer_services.update_customer(customer=buyer, actor=clerk, data={"sales_rep": sales_rep})
    buyer.refresh_from_db()
    return buyer


def told(handler) -> list[str]:
    return sorted(Delivery.objects.filter(handler=handler.__name__).values_list("recipient", flat=True))


def run_again(event_type: str, handler) -> None:
    """Run the handler once more for its event, as a redelivery would: it must add nothing."""
    handler(OutboxEvent.objects.filter(event_type=event_type).earliest("pk"))


def test_a_key_accounts_new_ticket_tells_its_rep_and_team_once(
    represented, clerk, account_team, django_capture_on_commit_callbacks
):
    KeyAccount.objects.create(customer=represented, team=account_team)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = open_for(represented, clerk)
    run_again("ticket.opened", handlers.notify_account_of_key_account_ticket)

    assert told(handlers.notify_account_of_key_account_ticket) == ["kai@otc.test", "kim@otc.test", "rita@otc.test"]
    notification = Delivery.objects.get(recipient="rita@otc.test")
    assert notification.subject == f"[{ticket.number}] Key account Nordwind Handel GmbH wrote in: Where is my delivery?"


def test_a_key_account_by_its_group_and_an_ordinary_customer(
    represented, stranger, clerk, account_team, django_capture_on_commit_callbacks
):
    group = CustomerGroup.objects.create(code="distributors", name="Distributors")
    KeyAccount.objects.create(group=group, team=account_team)
    customer_services.update_customer(customer=represented, actor=clerk, data={"group": group})
    with django_capture_on_commit_callbacks(execute=True):
        open_for(stranger, clerk)  # no key account: no one is told
        open_for(represented, clerk)

    assert told(handlers.notify_account_of_key_account_ticket) == ["kai@otc.test", "kim@otc.test", "rita@otc.test"]


def test_an_sla_target_due_soon_tells_the_rep_once(
    policy,  # noqa: F811
    clock,  # noqa: F811
    represented,
    clerk,
    account_team,
    django_capture_on_commit_callbacks,
):
    KeyAccount.objects.create(customer=represented, team=account_team)
    open_for(represented, clerk)  # first response due Friday 17:00
    with django_capture_on_commit_callbacks(execute=True):
        services.raise_sla_alerts(now=berlin(4, 16, 30))
    with django_capture_on_commit_callbacks(execute=True):
        services.raise_sla_alerts(now=berlin(4, 17, 30))  # breached: the rep is not told again
    run_again("ticket.sla_alert_raised", handlers.notify_account_of_sla_breaching_soon)

    assert SlaAlert.objects.count() == 2
    assert told(handlers.notify_account_of_sla_breaching_soon) == ["kai@otc.test", "kim@otc.test", "rita@otc.test"]


def test_a_dispute_tells_the_rep_and_the_tickets_team_once(
    represented, clerk, team, django_capture_on_commit_callbacks
):
    invoice = manual_invoice(represented, clerk, ("1", "100", "19"))
    ticket = open_for(represented, clerk, team=team)
    with django_capture_on_commit_callbacks(execute=True):
        services.open_dispute(
            invoice=invoice, reason=DisputeReason.MISSING, description="Missing", actor=clerk, ticket=ticket
        )
    run_again("dispute.opened", handlers.notify_account_of_dispute)

    assert told(handlers.notify_account_of_dispute) == ["ada@otc.test", "lars@otc.test", "rita@otc.test"]


def test_a_broken_promise_tells_the_rep_once(represented, clerk, django_capture_on_commit_callbacks):
    invoice = manual_invoice(represented, clerk, ("1", "100", "19"))
    today = timezone.localdate()
    collections.record_promise_to_pay(
        customer=represented, invoices=[invoice], promised_date=today, amount=invoice.gross_total, actor=clerk
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert collections.mark_broken_promises(today=today, actor=clerk) == 0  # not due yet
        assert collections.mark_broken_promises(today=today + timedelta(days=1), actor=clerk) == 1
        assert collections.mark_broken_promises(today=today + timedelta(days=2), actor=clerk) == 0
    run_again("promise_to_pay.broken", handlers.notify_account_of_broken_promise)

    assert told(handlers.notify_account_of_broken_promise) == ["rita@otc.test"]
    assert "119.00" in Delivery.objects.get(handler="notify_account_of_broken_promise").subject
