import pytest
from django.contrib.auth.models import Group

from otc.roles import ROLES

pytestmark = pytest.mark.django_db


def test_every_role_exists_with_exactly_its_permissions():
    for role, names in ROLES.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(names), role


def test_only_finance_and_admin_may_approve_change_requests():
    approvers = set(Group.objects.filter(permissions__codename="approve_changerequest").values_list("name", flat=True))

    assert approvers == {"finance", "admin"}


def test_service_staff_cannot_touch_credit_or_bank_data():
    service = Group.objects.get(name="service")

    codenames = set(service.permissions.values_list("codename", flat=True))

    assert "change_creditprofile" not in codenames
    assert not {c for c in codenames if "bankaccount" in c or "changerequest" in c}
