"""Disputes as service records: opening one holds the invoice (invoicing's hold, kind dispute, source
"dispute:<id>") so dunning and reminders skip it; resolving it by a credit note, a rejection with a
reason or a withdrawal, or its expiry, releases the hold and records the resolution. The API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from invoicing import services as invoicing
from invoicing.errors import InvoiceNotDraft
from invoicing.models import HoldKind, InvoiceHold
from otc.errors import InvalidInput
from payments.collections import services as collections
from payments.models import DunningLevel, DunningPolicy, LetterTemplate, PaymentReminder
from service import services, tasks
from service.errors import AlreadyDisputed, CreditNoteMismatch, NotDisputable, NotInDispute
from service.models import Dispute, DisputeReason, DisputeResolution, DisputeStatus
from tests.factories import CustomerFactory, manual_invoice

pytestmark = pytest.mark.django_db
D = Decimal
API = "/api/v1/disputes/"


@pytest.fixture
def buyer(clerk):
    return CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")


@pytest.fixture
def invoices(buyer, clerk):
    """Two open invoices of 119.00 and 238.00 EUR, issued 40 days ago: ten days overdue."""
    issued = timezone.localdate() - timedelta(days=40)
    return [
        manual_invoice(buyer, clerk, ("1", "100", "19"), issue_date=issued),
        manual_invoice(buyer, clerk, ("2", "100", "19"), issue_date=issued),
    ]


@pytest.fixture
def policy(db):
    policy = DunningPolicy.objects.create(name="Standard", is_default=True)
    DunningLevel.objects.create(policy=policy, level=1, days_after_due=7, template=LetterTemplate.REMINDER)
    return policy


def dispute_on(invoice, clerk, **options) -> Dispute:
    return services.open_dispute(
        invoice=invoice, reason=DisputeReason.MISSING, description="Two widgets missing", actor=clerk, **options
    )


def active_holds(invoice) -> list[tuple[str, str, str]]:
    return list(invoice.holds.filter(released_at__isnull=True).values_list("kind", "reason_code", "source"))


def dunned(clerk) -> list[int]:
    run = collections.run_dunning(run_date=timezone.localdate(), actor=clerk)
    return sorted(item.invoice_id for letter in run.letters.all() for item in letter.items.all())


def test_opening_a_dispute_holds_the_invoice_and_dunning_skips_it(policy, invoices, clerk):
    disputed, other = invoices

    dispute = dispute_on(disputed, clerk, amount=D("50.00"))

    assert active_holds(disputed) == [("dispute", "missing", f"dispute:{dispute.pk}")]
    assert (dispute.status, dispute.resolution, dispute.disputed_amount, dispute.customer_id) == (
        "open",
        "",
        D("50.00"),
        disputed.customer_id,
    )
    assert dispute.expires_on == timezone.localdate() + timedelta(days=services.DISPUTE_DAYS)
    assert dunned(clerk) == [other.pk]


def test_a_held_invoice_gets_no_reminder_before_its_due_date(buyer, clerk):
    invoice = manual_invoice(buyer, clerk, ("1", "100", "19"))
    dispute_on(invoice, clerk)

    reminders = collections.record_payment_reminders(today=invoice.due_date - timedelta(days=3), days_ahead=5)

    assert reminders == []
    assert not PaymentReminder.objects.exists()


@pytest.mark.parametrize(
    ("resolution", "note"),
    [(DisputeResolution.REJECTED, "Delivery note signed without remarks"), (DisputeResolution.WITHDRAWN, "")],
)
def test_rejecting_or_withdrawing_releases_the_hold_and_records_the_resolution(
    policy, invoices, clerk, resolution, note
):
    disputed, other = invoices
    dispute = dispute_on(disputed, clerk)

    resolved = services.resolve_dispute(dispute=dispute, resolution=resolution, note=note, actor=clerk)

    assert (resolved.status, resolved.resolution, resolved.resolution_note, resolved.resolved_by) == (
        "resolved",
        resolution,
        note,
        clerk,
    )
    hold = InvoiceHold.objects.get(source=f"dispute:{dispute.pk}")
    assert (hold.released_by, hold.is_active) == (clerk, False)
    assert dunned(clerk) == [disputed.pk, other.pk]
    with pytest.raises(NotInDispute):
        services.resolve_dispute(dispute=dispute, resolution=DisputeResolution.WITHDRAWN, actor=clerk)


def test_a_rejection_needs_a_reason(invoices, clerk):
    dispute = dispute_on(invoices[0], clerk)

    with pytest.raises(InvalidInput):
        services.resolve_dispute(dispute=dispute, resolution=DisputeResolution.REJECTED, note=" ", actor=clerk)

    assert active_holds(invoices[0]) != []
    assert Dispute.objects.get().status == DisputeStatus.OPEN


def test_a_credit_note_against_the_invoice_resolves_the_dispute(invoices, clerk):
    disputed, other = invoices
    dispute = dispute_on(disputed, clerk)
    foreign = invoicing.issue_credit_note(invoice=other, actor=clerk, reason="goodwill")
    credit_note = invoicing.issue_credit_note(invoice=disputed, actor=clerk, reason="two widgets missing")

    with pytest.raises(CreditNoteMismatch):
        services.resolve_dispute(
            dispute=dispute, resolution=DisputeResolution.CREDIT_NOTE, credit_note=foreign, actor=clerk
        )
    with pytest.raises(InvalidInput):
        services.resolve_dispute(dispute=dispute, resolution=DisputeResolution.CREDIT_NOTE, actor=clerk)
    resolved = services.resolve_dispute(
        dispute=dispute, resolution=DisputeResolution.CREDIT_NOTE, credit_note=credit_note, actor=clerk
    )

    assert (resolved.resolution, resolved.credit_note) == ("credit_note", credit_note)
    assert active_holds(disputed) == []


def test_an_expired_dispute_releases_its_hold_and_a_current_one_keeps_it(policy, invoices, clerk):
    today = timezone.localdate()
    lapsing = dispute_on(invoices[0], clerk, expires_on=today + timedelta(days=1))
    current = dispute_on(invoices[1], clerk, expires_on=today + timedelta(days=10))

    assert services.expire_disputes(today=today + timedelta(days=1), actor=clerk) == 0
    assert services.expire_disputes(today=today + timedelta(days=2), actor=clerk) == 1

    lapsing.refresh_from_db()
    current.refresh_from_db()
    assert (lapsing.status, lapsing.resolution, current.status) == ("resolved", "expired", "open")
    assert active_holds(invoices[0]) == []
    assert active_holds(invoices[1]) == [("dispute", "missing", f"dispute:{current.pk}")]


def test_the_daily_task_expires_disputes_as_the_automation_user(invoices, clerk):
    dispute = dispute_on(invoices[0], clerk, expires_on=timezone.localdate() + timedelta(days=1))
    Dispute.objects.filter(pk=dispute.pk).update(expires_on=timezone.localdate() - timedelta(days=1))

    assert tasks.expire_disputes() == 1
    assert active_holds(invoices[0]) == []


def test_a_second_open_dispute_on_one_invoice_is_refused_and_so_is_a_second_dispute_hold(invoices, clerk):
    dispute = dispute_on(invoices[0], clerk)

    with pytest.raises(AlreadyDisputed):
        dispute_on(invoices[0], clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceHold.objects.create(
            invoice=invoices[0], kind=HoldKind.DISPUTE, reason_code="x", placed_by=clerk, placed_at=timezone.now()
        )
    assert Dispute.objects.count() == 1
    services.resolve_dispute(dispute=dispute, resolution=DisputeResolution.WITHDRAWN, actor=clerk)
    assert dispute_on(invoices[0], clerk).pk != dispute.pk


def test_only_invoices_are_disputed_within_their_amount(invoices, clerk):
    credit_note = invoicing.issue_credit_note(invoice=invoices[0], actor=clerk, reason="goodwill")

    with pytest.raises(NotDisputable):
        dispute_on(credit_note, clerk)
    with pytest.raises(InvalidInput):
        dispute_on(invoices[1], clerk, amount=D("238.01"))
    with pytest.raises(InvalidInput):
        dispute_on(invoices[1], clerk, expires_on=timezone.localdate())
    assert not Dispute.objects.exists()
    assert not InvoiceHold.objects.exists()


# -- API --------------------------------------------------------------------------------------------------


@pytest.fixture
def clerk_key(api_client_for):
    return api_client_for("payments:read", "payments:write")


def test_a_dispute_opened_through_the_api_holds_the_invoice_and_resolving_releases_it(clerk_key, invoices):
    invoice = invoices[0]

    opened = clerk_key.post(
        API, {"invoice": invoice.number, "reason": "missing", "description": "two widgets missing"}, format="json"
    )
    replay = clerk_key.post(API, {"invoice": invoice.number, "reason": "missing", "description": "again"})
    listed = clerk_key.get(API, {"status": "open"}).json()["results"]
    url = f"{API}{opened.json()['id']}/resolve/"
    refused = clerk_key.post(url, {"resolution": "rejected"})
    resolved = clerk_key.post(url, {"resolution": "rejected", "note": "signed delivery note"})
    again = clerk_key.post(url, {"resolution": "withdrawn"})

    assert opened.status_code == 201, opened.json()
    assert (opened.json()["invoice"], opened.json()["status"], opened.json()["description"]) == (
        invoice.number,
        "open",
        "two widgets missing",
    )
    assert (replay.status_code, replay.json()["code"]) == (409, "already_disputed")
    assert [item["invoice"] for item in listed] == [invoice.number]
    assert (refused.status_code, list(refused.json()["errors"])) == (422, ["note"])
    assert resolved.status_code == 200, resolved.json()
    assert (resolved.json()["status"], resolved.json()["resolution"]) == ("resolved", "rejected")
    assert (again.status_code, again.json()["code"]) == (409, "not_in_dispute")
    assert active_holds(invoice) == []
    assert clerk_key.get(API, {"status": "open"}).json()["results"] == []


def test_a_draft_cannot_be_disputed_and_nothing_is_written(buyer, clerk):
    draft = invoicing.create_manual_invoice(
        customer=buyer,
        actor=clerk,
        lines=[invoicing.ManualLine(description="x", quantity=D("1"), unit_price=D("10"), tax_rate=D("19"))],
        issue=False,
    )

    with pytest.raises(InvoiceNotDraft):
        dispute_on(draft, clerk)

    assert not Dispute.objects.exists()
    assert not InvoiceHold.objects.exists()


def test_a_read_key_cannot_open_a_dispute(api_client_for, invoices):
    response = api_client_for("payments:read").post(API, {"invoice": invoices[0].number, "description": "no"})

    assert response.status_code == 403
    assert not Dispute.objects.exists()
