"""Failed sign-ins slow the next attempt down instead of locking the account.

A hard lock after five wrong passwords lets anyone lock out anyone, and behind a proxy every client
shares one address. So failures are counted twice, in the cache (Redis in production, shared by every
web process): per account and client address, where the delay doubles after a few free attempts up to
a quarter of an hour; and per account over all addresses, where it starts much later and stays short,
so a guesser with many addresses is slowed while the real user, from their own address, waits at most
OTC_SIGN_IN_ACCOUNT_MAX_DELAY seconds. The client address is the one the trusted proxies report
(ALLAUTH_TRUSTED_PROXY_COUNT). The keys hash the login, so whether an account exists changes nothing.
A burst of failures over the whole site is logged once a minute and counted for the alert rules.
"""

import hashlib
import time
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.core.cache import cache

from otc.metrics import SIGN_IN_FAILURES

logger = structlog.get_logger(__name__)

_DAY = 24 * 3600


@dataclass(frozen=True)
class _Counter:
    """One failure count: free attempts before any delay, then 1, 2, 4 ... seconds up to max_delay."""

    scope: str
    free_attempts: int
    max_delay: int

    def key(self, login: str, address: str) -> str:
        subject = login if self.scope == "account" else f"{login}|{address}"
        return f"otc:sign-in:{self.scope}:{hashlib.sha256(subject.encode()).hexdigest()}"

    def delay_after(self, failures: int) -> int:
        if failures < self.free_attempts:
            return 0
        return min(2 ** (failures - self.free_attempts), self.max_delay)


def _counters() -> tuple[_Counter, _Counter]:
    return (
        _Counter("address", settings.OTC_SIGN_IN_FREE_ATTEMPTS, settings.OTC_SIGN_IN_MAX_DELAY),
        _Counter("account", settings.OTC_SIGN_IN_ACCOUNT_FREE_ATTEMPTS, settings.OTC_SIGN_IN_ACCOUNT_MAX_DELAY),
    )


def seconds_to_wait(login: str, address: str) -> int:
    """How long this login from this address must still wait before the next attempt (0: go ahead)."""
    now = time.time()
    waits = [
        state["until"] - now
        for counter in _counters()
        if (state := cache.get(counter.key(login.lower(), address))) is not None
    ]
    return max(0, int(max(waits, default=0) + 0.999))


def record_failure(login: str, address: str) -> None:
    now = time.time()
    for counter in _counters():
        key = counter.key(login.lower(), address)
        state = cache.get(key) or {"failures": 0, "until": 0}
        failures = state["failures"] + 1
        cache.set(key, {"failures": failures, "until": now + counter.delay_after(failures)}, timeout=_DAY)
    SIGN_IN_FAILURES.inc()
    _watch_for_burst(now)


def record_success(login: str, address: str) -> None:
    """The right password from this address clears its count; the account-wide count stays, so a
    guesser who also knows one password cannot reset the others' slowdown."""
    address_counter, _ = _counters()
    cache.delete(address_counter.key(login.lower(), address))


def _watch_for_burst(now: float) -> None:
    minute = int(now // 60)
    key = f"otc:sign-in:burst:{minute}"
    cache.add(key, 0, timeout=120)
    failures = cache.incr(key)
    if failures == settings.OTC_SIGN_IN_BURST_PER_MINUTE:
        logger.warning("sign_in_failure_burst", failures_this_minute=failures)
