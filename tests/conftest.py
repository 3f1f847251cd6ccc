import pytest
from rest_framework.test import APIClient

from otc.services import create_api_key
from tests.factories import StaffFactory


@pytest.fixture
def clerk(db):
    return StaffFactory(full_name="Clara Clerk", email="clara@otc.test")


@pytest.fixture
def approver(db):
    return StaffFactory(full_name="Anton Approver", email="anton@otc.test")


@pytest.fixture
def sales_rep(db):
    return StaffFactory(full_name="Rita Rep", email="rita@otc.test")


@pytest.fixture
def api_client_for(db, clerk):
    """api_client_for("customers:read", ...) -> an APIClient signed with a fresh key of those scopes."""

    def make(*scopes: str) -> APIClient:
        key, plaintext = create_api_key(name=f"partner {'+'.join(scopes)}", scopes=list(scopes), actor=clerk)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")
        client.api_key = key
        return client

    return make


@pytest.fixture(autouse=True)
def ledger_verifies_after_each_test(request):
    """Every test that touches the database leaves a ledger that verifies (trial balance zero,
    receivables equal open items), unless it is about a broken ledger."""
    if request.node.get_closest_marker("ledger_broken"):
        yield
        return
    names, marker = request.fixturenames, request.node.get_closest_marker("django_db")
    if "transactional_db" in names or "live_server" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        yield
        return
    yield
    from workflows.verification import ledger_problems

    assert ledger_problems() == []
