"""No admin change form offers an action its object's state forbids: each document is put in every state
it can reach, its change page is read as a superuser (who has every permission, so only the state can
hide an action), and the actions offered are compared with what that state allows."""

import re

import pytest

from customers import services as customer_services
from invoicing import services as invoicing
from orders import services as orders
from payments.cash_application import selectors as reconciliation_selectors
from payments.cash_application import services as reconciliation
from tests.factories import CustomerFactory, allocated_payment, apply, manual_invoice, placed_order, ship

pytestmark = pytest.mark.django_db

INVOICE_ACTIONS = {"issue", "discard", "resend", "credit", "credit-note"}
ORDER_ACTIONS = {"confirm", "release", "reject", "dispatch", "return", "cancel"}
CUSTOMER_ACTIONS = {"credit-hold", "release-hold", "block", "unblock"}
REQUEST_ACTIONS = {"approve", "reject", "withdraw"}
LINE_ACTIONS = {"apply", "ignore", "undo"}


def offered(admin_client, obj, actions: set[str]) -> set[str]:
    """The state-dependent actions the change page links to."""
    meta = obj._meta
    page = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/change/")
    assert page.status_code == 200
    links = re.findall(rf'href="/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/([a-z-]+)/', page.content.decode())
    return set(links) & actions


def test_invoices_offer_issue_only_to_drafts_and_credit_only_to_what_is_left_to_credit(admin_client, customer, clerk):
    draft = manual_invoice(customer, clerk, ("1", "100.00", "19"), issue=False)
    issued = manual_invoice(customer, clerk, ("1", "100.00", "19"))
    paid = manual_invoice(customer, clerk, ("1", "50.00", "19"))
    allocated_payment(customer, clerk, apply(paid, "59.50"))
    credited = manual_invoice(customer, clerk, ("1", "20.00", "19"))
    credit_note = invoicing.issue_credit_note(invoice=credited, actor=clerk, reason="wrong price")

    assert offered(admin_client, draft, INVOICE_ACTIONS) == {"issue", "discard"}
    assert offered(admin_client, issued, INVOICE_ACTIONS) == {"resend", "credit", "credit-note"}
    assert offered(admin_client, paid, INVOICE_ACTIONS) == {"resend", "credit", "credit-note"}
    assert offered(admin_client, credited, INVOICE_ACTIONS) == {"resend"}
    assert offered(admin_client, credit_note, INVOICE_ACTIONS) == {"resend"}


def test_orders_offer_each_step_only_where_the_order_can_take_it(admin_client, customer, clerk, widget):
    draft = orders.create_order(actor=clerk, customer=customer, lines=[orders.LineInput(widget, 2)])
    confirmed = placed_order(customer, clerk, (widget, "2"))
    shipped = placed_order(customer, clerk, (widget, "2"))
    ship(shipped, clerk)
    cancelled = orders.cancel_order(order=placed_order(customer, clerk, (widget, "1")), actor=clerk, reason="dup")
    held_customer = CustomerFactory(actor=clerk)
    customer_services.place_credit_hold(customer=held_customer, actor=clerk, reason="cheque bounced")
    held = placed_order(held_customer, clerk, (widget, "1"))

    assert offered(admin_client, draft, ORDER_ACTIONS) == {"confirm", "cancel"}
    assert offered(admin_client, confirmed, ORDER_ACTIONS) == {"dispatch", "cancel"}
    assert offered(admin_client, held, ORDER_ACTIONS) == {"release", "reject", "cancel"}
    assert offered(admin_client, shipped.__class__.objects.get(pk=shipped.pk), ORDER_ACTIONS) == {"return"}
    assert offered(admin_client, cancelled, ORDER_ACTIONS) == set()


def test_customers_offer_hold_release_block_and_unblock_by_their_status(admin_client, clerk):
    active = CustomerFactory(actor=clerk)
    on_hold = customer_services.place_credit_hold(customer=CustomerFactory(actor=clerk), actor=clerk, reason="late")
    blocked = customer_services.block_customer(customer=CustomerFactory(actor=clerk), actor=clerk, reason="fraud")

    assert offered(admin_client, active, CUSTOMER_ACTIONS) == {"credit-hold", "block"}
    assert offered(admin_client, on_hold, CUSTOMER_ACTIONS) == {"release-hold", "block"}
    assert offered(admin_client, blocked, CUSTOMER_ACTIONS) == {"unblock"}


def test_change_requests_offer_decisions_only_while_pending(admin_client, clerk, approver):
    def request():
        return customer_services.request_credit_limit_change(
            customer=CustomerFactory(actor=clerk), actor=clerk, credit_limit="5000", reason="grew"
        )

    pending = request()
    approved = customer_services.approve_change_request(change_request=request(), actor=approver)
    rejected = customer_services.reject_change_request(change_request=request(), actor=approver, note="no history")
    withdrawn = customer_services.withdraw_change_request(change_request=request(), actor=clerk)

    assert offered(admin_client, pending, REQUEST_ACTIONS) == {"approve", "reject", "withdraw"}
    for decided in (approved, rejected, withdrawn):
        assert offered(admin_client, decided, REQUEST_ACTIONS) == set()


@pytest.mark.usefixtures("own_accounts")
def test_bank_lines_offer_apply_and_ignore_while_waiting_and_undo_once_applied(admin_client, clerk, statement):
    by_number, by_amount, card, on_account = statement.lines.order_by("line_no")
    [best] = reconciliation_selectors.line_proposals(line=by_number, limit=1)
    reconciliation.accept_proposal(line=by_number, proposal=best, actor=clerk)
    reconciliation.ignore_line(line=on_account, actor=clerk, reason="own transfer")
    for line in (by_number, on_account):
        line.refresh_from_db()

    assert offered(admin_client, by_amount, LINE_ACTIONS) == {"apply", "ignore"}
    assert offered(admin_client, card, LINE_ACTIONS) == {"ignore"}  # money out: not for the queue
    assert offered(admin_client, by_number, LINE_ACTIONS) == {"undo"}
    assert offered(admin_client, on_account, LINE_ACTIONS) == set()
