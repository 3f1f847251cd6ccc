from datetime import time

import pytest

from service import services
from service.models import Team, TicketChannel, WorkingCalendar, WorkingHours
from tests.factories import CustomerFactory, StaffFactory


@pytest.fixture
def media_root(settings, tmp_path):
    """Attachments go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def buyer(clerk):
    return CustomerFactory(
        actor=clerk,
        legal_name="Nordwind Handel GmbH",
        contacts=[{"name": "Paula Purchasing", "email": "paula@nordwind.example", "roles": ["purchasing"]}],
    )


@pytest.fixture
def stranger(clerk):
    return CustomerFactory(actor=clerk, legal_name="Südwind Import AG")


@pytest.fixture
def paula(buyer):
    return buyer.contacts.get()


@pytest.fixture
def agent(db):
    return StaffFactory(full_name="Ada Agent", email="ada@otc.test", groups=["service"])


@pytest.fixture
def lead(db):
    return StaffFactory(full_name="Lars Lead", email="lars@otc.test", groups=["service"])


@pytest.fixture
def team(agent, lead):
    team = Team.objects.create(name="First line", lead=lead)
    team.members.set([agent, lead])
    return team


@pytest.fixture
def office_hours(db):
    """Monday to Friday 09:00-17:00 in Berlin."""
    calendar = WorkingCalendar.objects.create(name="Berlin office", time_zone="Europe/Berlin")
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=calendar, weekday=day, opens_at=time(9), closes_at=time(17)) for day in range(5)
    )
    return calendar


def open_for(customer, actor, **options):
    defaults = {
        "subject": "Where is my delivery?",
        "body": "Our order has not arrived yet.",
        "channel": TicketChannel.STAFF,
    }
    return services.open_ticket(customer=customer, actor=actor, **{**defaults, **options})
