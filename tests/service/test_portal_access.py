"""Portal access: staff invite from the customer's admin page, the invited person sets a password
through a one-time link, portal admins manage their colleagues, every portal view checks its role
(403) and its customer (404), and sign-in is throttled without telling whether an account exists."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from customers import services
from customers.errors import InvitationNotPending
from customers.models import InvitationStatus, PortalInvitation, PortalMembership, PortalRole
from otc.errors import InvalidInput
from otc.models import User
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "lighthouse-harbour-2026"
BUYER, PAYABLE, ADMIN = PortalRole.BUYER.value, PortalRole.ACCOUNTS_PAYABLE.value, PortalRole.ADMIN.value


def link_in(message) -> str:
    return re.search(r"http://\S+(/portal/invitation/\S+/)", message.body).group(1)


@pytest.fixture
def customers(clerk):
    return (
        CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", language="de"),
        CustomerFactory(actor=clerk, legal_name="Konkurrenz AG"),
    )


@pytest.fixture
def sending(django_capture_on_commit_callbacks):
    """Run a step and its on-commit work (the outbox dispatch that sends the email), as a request would."""

    def run(step):
        with django_capture_on_commit_callbacks(execute=True):
            return step()

    return run


@pytest.fixture
def staff(db):
    client = Client()
    client.force_login(StaffFactory(email="desk@otc.test", groups=["service"]))
    return client


def test_staff_invite_from_the_customer_page_and_the_person_sets_a_password(staff, customers, sending):
    mine, _ = customers
    page = staff.get(f"/admin/customers/customer/{mine.pk}/invite-portal-user/")
    assert page.status_code == 200

    response = sending(
        lambda: staff.post(
            f"/admin/customers/customer/{mine.pk}/invite-portal-user/",
            {"email": " Einkauf@Nordwind.example ", "full_name": "Ina Einkauf", "roles": [BUYER, PAYABLE]},
        )
    )

    assert response.status_code == 302
    invitation = PortalInvitation.objects.get()
    assert (invitation.email, invitation.roles, invitation.status) == (
        "einkauf@nordwind.example",
        [BUYER, PAYABLE],
        InvitationStatus.PENDING,
    )
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    assert [message.to for message in mail.outbox] == [["einkauf@nordwind.example"]]
    assert "Nordwind Handel GmbH" in mail.outbox[0].subject
    link = link_in(mail.outbox[0])
    assert not User.objects.filter(email="einkauf@nordwind.example").exists()

    visitor = Client()
    assert visitor.get(link).status_code == 200
    accepted = visitor.post(link, {"password": PASSWORD, "password_again": PASSWORD})

    assert accepted.status_code == 302
    assert accepted["Location"] == "/portal/two-factor/"  # offered, skippable (tests/service/test_portal_two_factor.py)
    user = User.objects.get(email="einkauf@nordwind.example")
    assert user.check_password(PASSWORD)
    assert user.full_name == "Ina Einkauf"
    assert not user.is_staff
    assert PortalMembership.objects.get(user=user).roles == [BUYER, PAYABLE]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_user) == (InvitationStatus.ACCEPTED, user)
    assert visitor.get("/portal/orders/").status_code == 200
    assert Client().get(link).status_code == 404  # one time only
    assert Client().post(link, {"password": PASSWORD, "password_again": PASSWORD}).status_code == 404


def test_the_customer_page_lists_invitations_with_resend_and_revoke(staff, customers, clerk):
    mine, _ = customers
    invitation = services.invite_portal_user(customer=mine, actor=clerk, email="ap@nordwind.example", roles=[PAYABLE])
    services.grant_portal_access(customer=mine, actor=clerk, email="chef@nordwind.example", roles=[ADMIN])

    page = staff.get(f"/admin/customers/customer/{mine.pk}/change/").content.decode()

    assert "ap@nordwind.example" in page
    assert "chef@nordwind.example" in page
    assert f"/portal-invitations/resend/{invitation.pk}/" in page
    assert f"/portal-invitations/revoke/{invitation.pk}/" in page


def test_resend_kills_the_earlier_link_and_revoke_kills_the_link(staff, customers, clerk, sending):
    mine, _ = customers
    invitation = sending(
        lambda: services.invite_portal_user(customer=mine, actor=clerk, email="ap@nordwind.example", roles=[PAYABLE])
    )
    first_link = link_in(mail.outbox[0])

    sending(lambda: staff.post(f"/admin/customers/customer/{mine.pk}/portal-invitations/resend/{invitation.pk}/", {}))

    invitation.refresh_from_db()
    assert invitation.sent_count == 2
    assert len(mail.outbox) == 2
    second_link = link_in(mail.outbox[1])
    assert second_link != first_link
    assert Client().get(first_link).status_code == 404
    assert Client().get(second_link).status_code == 200

    staff.post(f"/admin/customers/customer/{mine.pk}/portal-invitations/revoke/{invitation.pk}/", {})

    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.REVOKED
    assert invitation.revoked_at is not None
    assert Client().get(second_link).status_code == 404
    with pytest.raises(InvitationNotPending):
        services.resend_portal_invitation(invitation=invitation, actor=clerk)
    assert len(mail.outbox) == 2


def test_an_expired_or_forged_link_is_refused(customers, clerk, sending):
    mine, _ = customers
    invitation = sending(
        lambda: services.invite_portal_user(customer=mine, actor=clerk, email="ap@nordwind.example", roles=[PAYABLE])
    )
    link = link_in(mail.outbox[0])
    PortalInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert Client().get(link).status_code == 404
    assert Client().get("/portal/invitation/forged-token/").status_code == 404
    with pytest.raises(InvitationNotPending):
        services.accept_portal_invitation(token=link.split("/")[-2], password=PASSWORD)
    assert not User.objects.filter(email="ap@nordwind.example").exists()


def test_a_weak_or_mistyped_password_changes_nothing(customers, clerk, sending):
    mine, _ = customers
    sending(
        lambda: services.invite_portal_user(customer=mine, actor=clerk, email="ap@nordwind.example", roles=[PAYABLE])
    )
    link = link_in(mail.outbox[0])

    weak = Client().post(link, {"password": "short", "password_again": "short"})
    mistyped = Client().post(link, {"password": PASSWORD, "password_again": PASSWORD + "x"})

    assert weak.status_code == 200
    assert b"too short" in weak.content
    assert mistyped.status_code == 200
    assert b"The two passwords differ." in mistyped.content
    assert not User.objects.filter(email="ap@nordwind.example").exists()
    assert PortalInvitation.objects.get().status == InvitationStatus.PENDING


def test_invitations_are_refused_for_members_staff_duplicates_and_missing_roles(customers, clerk):
    mine, theirs = customers
    services.grant_portal_access(customer=theirs, actor=clerk, email="elsewhere@example.com")
    services.grant_portal_access(customer=mine, actor=clerk, email="member@nordwind.example")
    services.invite_portal_user(customer=mine, actor=clerk, email="new@nordwind.example", roles=[BUYER])

    for email, roles, message in [
        ("member@nordwind.example", [BUYER], "already has portal access"),
        ("elsewhere@example.com", [BUYER], "another customer"),
        (clerk.email, [BUYER], "Staff"),
        ("new@nordwind.example", [BUYER], "pending invitation"),
        ("other@nordwind.example", [], "at least one portal role"),
        ("other@nordwind.example", ["owner"], "at least one portal role"),
        ("not-an-email", [BUYER], "email"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            services.invite_portal_user(customer=mine, actor=clerk, email=email, roles=roles)
    assert PortalInvitation.objects.count() == 1


def test_portal_admins_invite_resend_and_revoke_their_colleagues(client, customers, clerk):
    mine, theirs = customers
    client.force_login(
        services.grant_portal_access(customer=mine, actor=clerk, email="chef@nordwind.example", roles=[ADMIN])
    )
    foreign = services.invite_portal_user(customer=theirs, actor=clerk, email="x@konkurrenz.example", roles=[BUYER])

    response = client.post("/portal/users/", {"email": "kollege@nordwind.example", "roles": [BUYER]})

    assert response.status_code == 302
    invitation = PortalInvitation.objects.get(customer=mine)
    assert invitation.invited_by.email == "chef@nordwind.example"
    page = client.get("/portal/users/").content.decode()
    assert "kollege@nordwind.example" in page
    assert "chef@nordwind.example" in page
    assert "konkurrenz" not in page
    assert client.post(f"/portal/users/invitations/{invitation.pk}/resend/").status_code == 302
    assert client.post(f"/portal/users/invitations/{foreign.pk}/resend/").status_code == 404
    assert client.post(f"/portal/users/invitations/{foreign.pk}/revoke/").status_code == 404
    assert client.post(f"/portal/users/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    foreign.refresh_from_db()
    assert (invitation.status, invitation.sent_count) == (InvitationStatus.REVOKED, 2)
    assert (foreign.status, foreign.sent_count) == (InvitationStatus.PENDING, 1)


def test_staff_change_roles_and_remove_access(staff, customers, clerk):
    mine, _ = customers
    user = services.grant_portal_access(customer=mine, actor=clerk, email="b@nordwind.example", roles=[BUYER])
    membership = PortalMembership.objects.get(user=user)
    base = f"/admin/customers/customer/{mine.pk}/portal-users"

    staff.post(f"{base}/roles/{membership.pk}/", {"roles": [PAYABLE, ADMIN]})
    membership.refresh_from_db()
    assert membership.roles == [PAYABLE, ADMIN]
    assert staff.post(f"{base}/roles/{membership.pk}/", {"roles": []}).status_code == 200
    membership.refresh_from_db()
    assert membership.roles == [PAYABLE, ADMIN]

    staff.post(f"{base}/remove/{membership.pk}/", {})
    assert not PortalMembership.objects.filter(user=user).exists()
    portal = Client()
    portal.force_login(user)
    assert portal.get("/portal/").status_code == 404


def test_finance_staff_without_the_right_cannot_invite(customers):
    mine, _ = customers
    finance = Client()
    finance.force_login(StaffFactory(email="fin@otc.test", groups=["finance"]))

    finance.post(
        f"/admin/customers/customer/{mine.pk}/invite-portal-user/", {"email": "x@nordwind.example", "roles": [BUYER]}
    )

    assert not PortalInvitation.objects.exists()
