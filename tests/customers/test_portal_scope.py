import pytest
from django.http import Http404

from customers import services
from customers.models import Contact, Customer
from customers.selectors import portal_customer, scoped_to_portal_user
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_portal_queries_see_only_the_users_own_customer(clerk):
    mine = CustomerFactory(actor=clerk, contacts=[{"name": "Me", "email": "me@mine.example"}])
    theirs = CustomerFactory(actor=clerk, contacts=[{"name": "Them", "email": "them@theirs.example"}])
    user = services.grant_portal_access(customer=mine, actor=clerk, email="Buyer@Mine.example")

    assert user.email == "buyer@mine.example"
    assert portal_customer(user=user) == mine
    assert list(scoped_to_portal_user(Customer.objects.all(), user=user)) == [mine]
    contacts = scoped_to_portal_user(Contact.objects.all(), user=user)
    assert list(contacts.values_list("email", flat=True)) == ["me@mine.example"]
    assert not scoped_to_portal_user(Contact.objects.all(), user=user).filter(customer=theirs).exists()


def test_a_user_without_membership_gets_404_not_everything(clerk):
    CustomerFactory(actor=clerk)
    stranger = UserFactory()

    with pytest.raises(Http404):
        scoped_to_portal_user(Customer.objects.all(), user=stranger)


def test_a_portal_user_belongs_to_exactly_one_customer(clerk):
    first, second = CustomerFactory(actor=clerk), CustomerFactory(actor=clerk)
    services.grant_portal_access(customer=first, actor=clerk, email="one@buyer.example")

    with pytest.raises(Exception, match="another customer"):
        services.grant_portal_access(customer=second, actor=clerk, email="one@buyer.example")
    assert (
        portal_customer(user=services.grant_portal_access(customer=first, actor=clerk, email="one@buyer.example"))
        == first
    )


def test_staff_cannot_become_portal_users(clerk):
    customer = CustomerFactory(actor=clerk)

    with pytest.raises(Exception, match="Staff"):
        services.grant_portal_access(customer=customer, actor=clerk, email=clerk.email)
