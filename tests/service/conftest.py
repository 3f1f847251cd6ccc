from datetime import time

import pytest

from service.models import Team, WorkingCalendar, WorkingHours
from tests.factories import CustomerFactory, StaffFactory


@pytest.fixture
def buyer(clerk):
    """Nordwind with Paula of purchasing, who writes to the service desk."""
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
