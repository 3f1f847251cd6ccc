"""The API keeps its OpenAPI contract: schemathesis sends every operation requests generated from the
schema (valid and invalid ones) with a key holding every scope, and checks the answers: no server
error, only documented status codes and content types, bodies that match the schema, invalid input
refused and valid input not refused for reasons the schema does not state.

Business refusals of schema-valid requests (an unknown customer, a state that forbids the action)
are 404, 409 or 422, which the positive check allows. Cursors are opaque tokens the API hands out,
so the generated requests leave them out (tests/otc/test_security_crafted_input.py covers bad ones).
The examples are derandomised so that a run in CI is the run you get here.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from otc.models import API_SCOPES
from otc.services import create_api_key
from tests.factories import StaffFactory

EXAMPLES_PER_OPERATION = 5
BUSINESS_REFUSALS = ["2xx", "401", "403", "404", "409", "422"]

# The inbound mail webhook takes the raw message: its bytes go out as they are generated.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    get_wsgi_application(),
    config=SchemathesisConfig.from_dict(
        {"checks": {"positive_data_acceptance": {"expected-statuses": BUSINESS_REFUSALS}}}
    ),
)


@schema.hook
def map_query(context, query):
    if query:
        query.pop("cursor", None)
    return query


@pytest.fixture(autouse=True)
def one_connection_for_the_test_transaction():
    """Django's test client keeps the connection between requests; a bare WSGI call would close it
    after each response, and with it the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def every_scope(db) -> str:
    _, plaintext = create_api_key(
        name="contract", scopes=[scope for scope, _ in API_SCOPES], actor=StaffFactory(groups=["sales"])
    )
    return f"Api-Key {plaintext}"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
def test_every_operation_keeps_the_contract(case, every_scope):
    case.call_and_validate(headers={"Authorization": every_scope})
