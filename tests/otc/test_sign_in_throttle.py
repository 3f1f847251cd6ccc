"""Failed sign-ins: an exponential delay per account and address, a short one per account, bursts
logged once; never a lock that one attacker can put on everybody."""

import pytest
from django.core.cache import cache
from structlog.testing import capture_logs

from otc import sign_in_throttle
from tests.factories import UserFactory

LOGIN = "Clara@otc.test"


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr(sign_in_throttle.time, "time", lambda: now[0])
    return now


def fail(times: int, address: str = "198.51.100.7", login: str = LOGIN) -> None:
    for _ in range(times):
        sign_in_throttle.record_failure(login, address)


def test_the_delay_doubles_after_the_free_attempts_up_to_the_cap(clock, settings):
    settings.OTC_SIGN_IN_FREE_ATTEMPTS = 3
    settings.OTC_SIGN_IN_MAX_DELAY = 900
    waits = []
    for _ in range(14):
        fail(1)
        waits.append(sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7"))

    assert waits == [0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    clock[0] += 899
    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 1
    clock[0] += 1
    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 0


def test_the_login_is_compared_without_case_and_other_addresses_are_not_slowed(clock):
    fail(6, login="clara@OTC.test")

    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 8
    assert sign_in_throttle.seconds_to_wait(LOGIN, "203.0.113.5") == 0
    assert sign_in_throttle.seconds_to_wait("other@otc.test", "198.51.100.7") == 0


def test_many_addresses_slow_the_account_a_little_never_for_long(clock, settings):
    settings.OTC_SIGN_IN_ACCOUNT_FREE_ATTEMPTS = 20
    settings.OTC_SIGN_IN_ACCOUNT_MAX_DELAY = 60
    for n in range(200):
        fail(1, address=f"10.1.{n // 250}.{n % 250}")

    assert sign_in_throttle.seconds_to_wait(LOGIN, "203.0.113.5") == 60
    clock[0] += 60
    assert sign_in_throttle.seconds_to_wait(LOGIN, "203.0.113.5") == 0


def test_a_right_password_clears_its_address_but_not_the_account_wide_count(clock, settings):
    settings.OTC_SIGN_IN_ACCOUNT_FREE_ATTEMPTS = 5
    fail(5)
    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 4

    sign_in_throttle.record_success(LOGIN, "198.51.100.7")

    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 1  # the account-wide delay remains
    clock[0] += 1
    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 0


def test_a_burst_of_failures_is_logged_once_a_minute_and_counted(clock, settings):
    settings.OTC_SIGN_IN_BURST_PER_MINUTE = 5
    before = sign_in_throttle.SIGN_IN_FAILURES._value.get()

    with capture_logs() as logs:
        for n in range(12):
            fail(1, address=f"10.2.0.{n}", login=f"user{n}@otc.test")
        clock[0] += 60
        fail(5, address="10.3.0.1", login="someone@otc.test")

    bursts = [entry for entry in logs if entry["event"] == "sign_in_failure_burst"]
    assert [entry["failures_this_minute"] for entry in bursts] == [5, 5]
    assert sign_in_throttle.SIGN_IN_FAILURES._value.get() - before == 17


def test_a_delayed_sign_in_through_the_form_names_the_wait_and_the_right_password_then_works(db, client, clock):
    UserFactory(email="clara@otc.test")
    for _ in range(3):
        client.post("/accounts/login/", {"login": LOGIN, "password": "wrong"}, REMOTE_ADDR="198.51.100.7")

    delayed = client.post(
        "/accounts/login/", {"login": LOGIN, "password": "correct-horse-battery"}, REMOTE_ADDR="198.51.100.7"
    )
    assert "Try again in 1 second." in delayed.content.decode()
    clock[0] += 1
    signed_in = client.post(
        "/accounts/login/", {"login": LOGIN, "password": "correct-horse-battery"}, REMOTE_ADDR="198.51.100.7"
    )
    assert signed_in.status_code == 302
    assert sign_in_throttle.seconds_to_wait(LOGIN, "198.51.100.7") == 0
