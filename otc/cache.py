"""The cache backend: Redis, shared by every web process, holding only counters and short-lived values
(API rate limits, sign-in delays, allauth's rate limits). Nothing in it is the record of anything, so
Redis being away must not fail a request: reads miss, writes are dropped, and the outage is logged once
with a count (otc.outages). Rate limits are not enforced while Redis is away; the readiness check and
the broker alert show the outage."""

from collections.abc import Callable
from functools import wraps

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from otc.outages import Outage

outage = Outage("cache", detail="rate limits and sign-in delays are not enforced until Redis answers")


def _degrading(method: Callable, fallback: Callable) -> Callable:
    @wraps(method)
    def call(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except RedisError as error:
            outage.record_failure(error)
            return fallback(*args, **kwargs)
        outage.record_success()
        return result

    return call


def _default(key, default=None, *args, **kwargs):
    return default


def _delta(key, delta=1, *args, **kwargs):
    """An increment that could not be counted reads as the first of its kind."""
    return delta


class DegradingRedisCache(RedisCache):
    get = _degrading(RedisCache.get, _default)
    get_many = _degrading(RedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _degrading(RedisCache.has_key, lambda *args, **kwargs: False)
    set = _degrading(RedisCache.set, lambda *args, **kwargs: None)
    set_many = _degrading(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    add = _degrading(RedisCache.add, lambda *args, **kwargs: False)
    touch = _degrading(RedisCache.touch, lambda *args, **kwargs: False)
    incr = _degrading(RedisCache.incr, _delta)
    delete = _degrading(RedisCache.delete, lambda *args, **kwargs: False)
    delete_many = _degrading(RedisCache.delete_many, lambda *args, **kwargs: None)
    clear = _degrading(RedisCache.clear, lambda *args, **kwargs: False)
