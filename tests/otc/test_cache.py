"""Redis away: the cache (counters only) misses and drops writes instead of failing the request, and
the outage is two log lines however many calls fail."""

import pytest
from structlog.testing import capture_logs

from otc import cache
from otc.cache import DegradingRedisCache
from otc.outages import Outage

CLOSED_PORT = "redis://127.0.0.1:1/0"


def redis_cache(location: str) -> DegradingRedisCache:
    return DegradingRedisCache(location, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1}})


@pytest.fixture(autouse=True)
def fresh_outage(monkeypatch):
    monkeypatch.setattr(cache, "outage", Outage("cache", detail="test"))


def test_without_redis_reads_miss_writes_are_dropped_and_counters_start_over():
    away = redis_cache(CLOSED_PORT)

    with capture_logs() as logs:
        assert away.get("throttle", "fallback") == "fallback"
        assert away.get_many(["a", "b"]) == {}
        assert away.set("throttle", [1.0]) is None
        assert away.add("sign-in", 0) is False
        assert away.incr("sign-in") == 1
        assert away.incr("sign-in", 5) == 5
        assert away.decr("sign-in", 2) == -2
        assert away.set_many({"a": 1, "b": 2}) == ["a", "b"]
        assert away.delete("sign-in") is False

    assert [entry["event"] for entry in logs] == ["cache.unreachable"]
    assert cache.outage.failures == 9


def test_the_recovery_is_logged_with_the_count_and_the_real_redis_is_used_again(redis_url):
    redis_cache(CLOSED_PORT).get("a")
    redis_cache(CLOSED_PORT).get("b")
    back = redis_cache(redis_url)

    with capture_logs() as logs:
        back.set("otc-test-cache-key", 41, timeout=10)
        assert back.incr("otc-test-cache-key") == 42
        back.delete("otc-test-cache-key")

    assert [(entry["event"], entry.get("failures")) for entry in logs] == [("cache.recovered", 2)]
    assert cache.outage.failures == 0
