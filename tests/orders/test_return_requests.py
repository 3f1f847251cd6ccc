"""Return requests: a portal buyer asks to send back delivered goods (up to what was delivered and is
neither returned nor asked for), sales approve it in the admin (the return is registered and credited
as any return) or refuse it with a reason, and the customer reads the decision in the portal and by
email. Partner systems file and decide requests through the API."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from customers import services as customer_services
from customers.models import PortalRole
from inventory.models import StockLevel
from invoicing import services as invoicing
from invoicing.models import Invoice
from orders import services
from orders.errors import OverReturnRequest, ReturnNotDecidable
from orders.models import ReturnOrder, ReturnRequest, ReturnRequestLine, ReturnRequestStatus, TimelineKind
from otc.errors import PermissionDenied
from otc.services import create_api_key
from tests.factories import StaffFactory, ship
from tests.support.outbox import run_outbox
from workflows.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = Decimal
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def delivered(clerk, confirmed_order, company):
    """12 widgets and 3 manuals shipped, invoiced and delivered; 2 widgets still on the way."""
    first = ship(confirmed_order, clerk, WIDGET="10", MANUAL="3")
    invoicing.invoice_shipments(shipments=[first], actor=clerk)
    services.mark_delivered(shipment=first, actor=clerk)
    ship(confirmed_order, clerk, WIDGET="2")
    return confirmed_order


@pytest.fixture
def paula(customer, clerk):
    """Paula buys for Nordwind in the portal."""
    return customer_services.grant_portal_access(
        customer=customer, actor=clerk, email="paula.portal@nordwind.example", roles=[PortalRole.BUYER]
    )


@pytest.fixture
def portal(paula):
    client = Client()
    client.force_login(paula)
    return client


@pytest.fixture
def seller(db):
    return StaffFactory(full_name="Sam Sales", email="sam@otc.test", groups=["sales"])


def lines(order) -> dict:
    return {line.product.sku: line for line in order.lines.select_related("product")}


def test_a_buyer_requests_a_return_of_delivered_goods_with_a_photo(delivered, portal, media_root):
    widget = lines(delivered)["WIDGET"]
    page = portal.get(f"/portal/orders/{delivered.number}/return/").content.decode()
    assert "Up to 10" in page  # 12 shipped, but only the 10 of the delivered shipment count

    response = portal.post(
        f"/portal/orders/{delivered.number}/return/",
        {
            f"line_{widget.pk}": "4",
            "reason": "damaged_in_transit",
            "description": "Dented boxes",
            "photo": SimpleUploadedFile("dent.png", PNG),
        },
    )

    assert response.status_code == 302, response.content.decode()
    request = ReturnRequest.objects.get()
    assert (request.status, request.reason, request.description) == ("requested", "damaged_in_transit", "Dented boxes")
    assert [(line.order_line, line.quantity) for line in request.lines.all()] == [(widget, D("4"))]
    assert (request.photo_name, request.photo_content_type) == ("dent.png", "image/png")
    assert request.photo.read() == PNG
    assert request.requested_by.email == "paula.portal@nordwind.example"
    assert delivered.timeline.filter(kind=TimelineKind.RETURN_REQUESTED, detail__startswith=request.number).exists()
    assert OutboxEvent.objects.filter(event_type="order.return_requested", payload__return_request_id=request.pk)
    assert not ReturnOrder.objects.exists()  # nothing comes back before sales approve
    order_page = portal.get(f"/portal/orders/{delivered.number}/").content.decode()
    assert request.number in order_page
    assert "Requested" in order_page
    assert "Up to 6" in portal.get(f"/portal/orders/{delivered.number}/return/").content.decode()


def test_more_than_delivered_and_not_yet_returned_or_requested_is_refused(delivered, paula, clerk):
    widget, manual = lines(delivered)["WIDGET"], lines(delivered)["MANUAL"]
    services.register_return(order=delivered, actor=clerk, reason="early", lines=[(widget, D("3"), "resellable")])
    services.request_return(order=delivered, actor=paula, reason="defective", lines=[(widget, D("5"))])

    with pytest.raises(OverReturnRequest, match="only 2 delivered and not yet returned or requested"):
        services.request_return(order=delivered, actor=paula, reason="defective", lines=[(manual, 1), (widget, 3)])

    assert ReturnRequest.objects.count() == 1
    assert ReturnRequestLine.objects.count() == 1
    assert services.request_return(order=delivered, actor=paula, reason="defective", lines=[(widget, D("2"))])


def test_a_bad_request_in_the_portal_changes_nothing_and_says_why(delivered, portal, media_root):
    widget = lines(delivered)["WIDGET"]
    url = f"/portal/orders/{delivered.number}/return/"
    program = SimpleUploadedFile("photo.png", b"MZ\x90\x00" + b"\x00" * 64)

    disguised = portal.post(url, {f"line_{widget.pk}": "1", "reason": "defective", "photo": program})
    too_many = portal.post(url, {f"line_{widget.pk}": "11", "reason": "defective"})
    nothing = portal.post(url, {f"line_{widget.pk}": "0", "reason": "defective"})
    unexplained = portal.post(url, {f"line_{widget.pk}": "1", "reason": "other", "description": " "})

    assert "not a PNG or JPEG picture (judged by its content" in disguised.content.decode()
    assert "only 10 delivered and not yet returned or requested" in too_many.content.decode()
    assert "Choose at least one item to return." in nothing.content.decode()
    assert "Say what is wrong with the goods." in unexplained.content.decode()
    assert {r.status_code for r in (disguised, too_many, nothing, unexplained)} == {200}
    assert not ReturnRequest.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("returns/*"))


def test_approving_registers_the_return_credits_it_and_emails_the_buyer(delivered, paula, seller, portal):
    widget = lines(delivered)["WIDGET"]
    request = services.request_return(order=delivered, actor=paula, reason="defective", lines=[(widget, D("3"))])
    on_hand = StockLevel.objects.get(product=widget.product).on_hand
    admin = Client()
    admin.force_login(seller)

    response = admin.post(
        f"/admin/orders/returnrequest/{request.pk}/approve/", {"condition": "resellable"}, follow=True
    )

    assert response.status_code == 200
    request.refresh_from_db()
    returned = request.return_order
    assert (request.status, request.decided_by) == (ReturnRequestStatus.APPROVED, seller)
    assert [(line.order_line, line.quantity, line.condition) for line in returned.lines.all()] == [
        (widget, D("3"), "resellable")
    ]
    assert StockLevel.objects.get(product=widget.product).on_hand == on_hand + 3
    mail.outbox.clear()
    run_outbox("order.goods_returned")
    run_outbox("order.return_request_decided")
    # 3 × 9.00 × 0.95 × 0.98 = 25.137 -> 25.14 net, 19 % VAT 4.78
    (note,) = Invoice.objects.filter(kind="credit_note")
    assert (note.return_order, note.net_total, note.tax_total) == (returned, D("25.14"), D("4.78"))
    decision = mail.outbox
    assert [(m.to, m.subject) for m in decision] == [
        (["paula.portal@nordwind.example"], f"Return {request.number} for order {delivered.number} approved")
    ]
    assert "A credit note for the invoiced items follows" in decision[0].body
    page = portal.get(f"/portal/orders/{delivered.number}/").content.decode()
    assert "Approved" in page
    assert returned.number in page
    with pytest.raises(ReturnNotDecidable):
        services.refuse_return_request(return_request=request, actor=seller, reason="late")


def test_refusing_needs_a_reason_the_customer_reads_and_moves_no_goods(delivered, paula, seller, portal, clerk):
    widget = lines(delivered)["WIDGET"]
    request = services.request_return(order=delivered, actor=paula, reason="no_longer_needed", lines=[(widget, 2)])
    admin = Client()
    admin.force_login(seller)

    blank = admin.post(f"/admin/orders/returnrequest/{request.pk}/refuse/", {"reason": ""})
    with pytest.raises(PermissionDenied):
        services.refuse_return_request(return_request=request, actor=clerk, reason="no")  # clerk lacks the right
    admin.post(f"/admin/orders/returnrequest/{request.pk}/refuse/", {"reason": "Custom-made goods are not taken back."})

    assert blank.status_code == 200
    request.refresh_from_db()
    assert (request.status, request.refusal_reason) == ("refused", "Custom-made goods are not taken back.")
    assert not ReturnOrder.objects.exists()
    mail.outbox.clear()
    run_outbox("order.return_request_decided")
    (message,) = mail.outbox
    assert message.to == ["paula.portal@nordwind.example"]
    assert message.subject == f"Return {request.number} for order {delivered.number} refused"
    assert "Reason: Custom-made goods are not taken back." in message.body
    page = portal.get(f"/portal/orders/{delivered.number}/").content.decode()
    assert "Refused" in page
    assert "Custom-made goods are not taken back." in page
    assert "Up to 10" in portal.get(f"/portal/orders/{delivered.number}/return/").content.decode()


def test_the_queue_lists_open_requests_for_sales(delivered, paula, seller, django_assert_max_num_queries):
    widget, manual = lines(delivered)["WIDGET"], lines(delivered)["MANUAL"]
    first = services.request_return(order=delivered, actor=paula, reason="defective", lines=[(widget, 1)])
    second = services.request_return(order=delivered, actor=paula, reason="wrong_item", lines=[(manual, 1)])
    services.refuse_return_request(return_request=second, actor=seller, reason="Ordered as shown.")
    admin = Client()
    admin.force_login(seller)

    queue = admin.get("/admin/orders/returnrequest/queue/", follow=True)
    with django_assert_max_num_queries(15):
        page = admin.get(queue.redirect_chain[-1][0]).content.decode()

    assert first.number in page
    assert second.number not in page
    assert admin.get(f"/admin/orders/returnrequest/{first.pk}/change/").status_code == 200


def test_partners_file_and_decide_return_requests_through_the_api(delivered, api_client_for, seller, clerk):
    shop = api_client_for("orders:read", "orders:write")
    url = f"/api/v1/orders/{delivered.number}/return-requests/"
    body = {"reason": "defective", "description": "Broken hinge", "lines": [{"line_no": 1, "quantity": "2"}]}

    created = shop.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rr-1")
    replay = shop.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rr-1")
    over = shop.post(url, {**body, "lines": [{"line_no": 1, "quantity": "9"}]}, format="json")
    refused_approval = shop.post(f"/api/v1/return-requests/{created.json()['number']}/approve/", {}, format="json")

    assert created.status_code == 201, created.json()
    assert replay.json() == created.json()
    assert (created.json()["status"], created.json()["lines"]) == (
        "requested",
        [{"line_no": 1, "product": "WIDGET", "quantity": "2.000"}],
    )
    assert (over.status_code, over.json()["code"]) == (409, "over_return_request")
    assert (refused_approval.status_code, refused_approval.json()["code"]) == (403, "permission_denied")
    _, plaintext = create_api_key(name="returns desk", scopes=["orders:read", "orders:write"], actor=clerk, user=seller)
    desk = APIClient()
    desk.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
    approved = desk.post(
        f"/api/v1/return-requests/{created.json()['number']}/approve/", {"condition": "damaged"}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert approved.json()["return_order"] == ReturnOrder.objects.get().number
    assert ReturnOrder.objects.get().lines.get().condition == "damaged"
    mail.outbox.clear()
    run_outbox("order.return_request_decided")
    assert [message.to for message in mail.outbox] == [["paula@nordwind.example"]]  # purchasing: no portal user
