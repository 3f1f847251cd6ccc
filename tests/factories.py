import factory
from django.contrib.auth.models import Group

from customers.services import create_customer
from otc.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@otc.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        self.save()


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        self.groups.set(Group.objects.filter(name__in=extracted or ["finance"]))
        self.save()


class CustomerFactory(factory.Factory):
    """Customers are made through the service, as in production."""

    class Meta:
        model = dict

    legal_name = factory.Sequence(lambda n: f"Testkunde {n:05d} Handel")
    country = "DE"
    tax_id = ""
    default_currency = "EUR"
    sales_rep = None
    confirm_duplicate = True

    @classmethod
    def _create(cls, model_class, *args, actor=None, **kwargs):
        return create_customer(actor=actor or StaffFactory(), **kwargs)
