"""`Authorization: Api-Key otc_<prefix>_<secret>` for partner systems."""

import hmac

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.throttling import BaseThrottle

from otc.errors import PermissionDenied
from otc.models import ApiKey
from otc.services import hash_api_secret, record_api_key_use

KEYWORD = "Api-Key"


class AddressNotAllowed(PermissionDenied):
    code = "address_not_allowed"
    title = "This API key may not be used from this address."


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header.startswith(f"{KEYWORD} "):
            return None
        parts = header[len(KEYWORD) + 1 :].strip().split("_", 2)
        if len(parts) != 3 or parts[0] != "otc":
            raise exceptions.AuthenticationFailed("Malformed API key.")
        _, prefix, secret = parts
        api_key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
        if api_key is None or not hmac.compare_digest(api_key.hashed_secret, hash_api_secret(secret)):
            raise exceptions.AuthenticationFailed("Unknown API key.")
        if not api_key.is_usable:
            raise exceptions.AuthenticationFailed("This API key has been revoked or has expired.")
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("The account behind this API key is disabled.")
        address = client_address(request)
        if not api_key.allows_address(address):
            raise AddressNotAllowed(f"This API key may not be used from {address}.")
        record_api_key_use(api_key=api_key)
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD


def client_address(request) -> str:
    """The client's address behind the configured number of trusted proxies, as the throttles see it."""
    return BaseThrottle().get_ident(request)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the API key in the OpenAPI schema (drf-spectacular finds it by its target class)."""

    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{KEYWORD} otc_<prefix>_<secret>`: the key shown once when it was created.",
        }
