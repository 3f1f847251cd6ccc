"""API rate limits, per API key and per client address, counted in the cache (Redis in production,
so every web process shares the counts). Over the limit the answer is 429 problem+json with
Retry-After (otc.api.problems). The rates are settings (OTC_API_RATE_PER_KEY, OTC_API_RATE_PER_ADDRESS),
read on each request so an operator's change needs no code; the client address is the one the
configured number of trusted proxies reports (REST_FRAMEWORK's NUM_PROXIES)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from otc.models import ApiKey


class PerApiKeyThrottle(SimpleRateThrottle):
    """Requests per API key, whichever address they come from; requests without a key pass."""

    scope = "api_key"

    def get_rate(self) -> str:
        return settings.OTC_API_RATE_PER_KEY

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class PerAddressThrottle(SimpleRateThrottle):
    """Requests per client address, signed in or not: one address cannot flood the API with many keys."""

    scope = "address"

    def get_rate(self) -> str:
        return settings.OTC_API_RATE_PER_ADDRESS

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
