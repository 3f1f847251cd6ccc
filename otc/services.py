"""Kernel write-side: the shared update helper and API key management."""

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from otc.audit import acting
from otc.errors import Conflict, InvalidInput
from otc.models import API_SCOPES, ApiKey, User
from otc.roles import has_privileged_role

API_KEY_PREFIX_BYTES = 6
VALID_SCOPES = {scope for scope, _ in API_SCOPES}


def model_update(
    *, instance: models.Model, fields: Iterable[str], data: dict[str, Any], exclude: Iterable[str] = ()
) -> list[str]:
    """Set the given fields from data, validate (all fields but the `exclude`d), and save only those that
    changed.

    Returns the names of the changed fields (empty when nothing changed and nothing was saved).
    """
    changed = [name for name in fields if name in data and getattr(instance, name) != data[name]]
    for name in changed:
        setattr(instance, name, data[name])
    if changed:
        validate_model(instance, exclude=exclude)
        instance.save(update_fields=[*changed, *_auto_now_fields(instance)])
    return changed


def validate_model(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Run the model's field and constraint validation, raising the domain's InvalidInput."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise InvalidInput.from_django(error) from error


def _auto_now_fields(instance: models.Model) -> list[str]:
    return [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]


def hash_api_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_key(
    *,
    name: str,
    scopes: list[str],
    actor: User,
    user: User | None = None,
    expires_at: datetime | None = None,
    allowed_networks: Iterable[str] = (),
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored and shown only now.

    Without `user`, a service account named after the key is created for it to act as. A key acting
    for someone with finance or admin powers expires after OTC_PRIVILEGED_API_KEY_DAYS unless an
    earlier date is given: a leaked key of such a user must not stay good forever.
    """
    unknown = sorted(set(scopes) - VALID_SCOPES)
    if unknown:
        raise InvalidInput(
            f"Unknown scopes: {', '.join(unknown)}", fields={"scopes": [f"Unknown: {s}" for s in unknown]}
        )
    if not name.strip():
        raise InvalidInput("A key needs a name.", fields={"name": ["This field is required."]})
    networks = _normalised_networks(allowed_networks)
    expires_at = _key_expiry(user, expires_at)
    with acting(actor, "create API key"):
        if user is None:
            user = User.objects.create(
                email=f"api-{secrets.token_hex(4)}@service.invalid",
                full_name=f"API: {name}",
                is_service_account=True,
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
        prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
        secret = secrets.token_urlsafe(32)
        key = ApiKey.objects.create(
            name=name,
            prefix=prefix,
            hashed_secret=hash_api_secret(secret),
            user=user,
            scopes=sorted(set(scopes)),
            created_by=actor,
            expires_at=expires_at,
            allowed_networks=networks,
        )
    return key, f"otc_{prefix}_{secret}"


def _normalised_networks(allowed_networks: Iterable[str]) -> list[str]:
    networks, invalid = [], []
    for text in allowed_networks:
        try:
            networks.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            invalid.append(text)
    if invalid:
        raise InvalidInput(
            f"Not an address range: {', '.join(invalid)}",
            fields={"allowed_networks": [f"Not an address or CIDR range: {text}" for text in invalid]},
        )
    return sorted(set(networks))


def _key_expiry(user: User | None, expires_at: datetime | None) -> datetime | None:
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("The expiry date is in the past.", fields={"expires_at": ["Choose a future date."]})
    if user is None or not has_privileged_role(user):
        return expires_at
    latest = now + timedelta(days=settings.OTC_PRIVILEGED_API_KEY_DAYS)
    return min(expires_at, latest) if expires_at else latest


@transaction.atomic
def revoke_api_key(*, api_key: ApiKey, actor: User) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        raise Conflict("This key is already revoked.")
    with acting(actor, "revoke API key"):
        api_key.revoked_at = timezone.now()
        api_key.revoked_by = actor
        api_key.save(update_fields=["revoked_at", "revoked_by"])
    return api_key


def record_api_key_use(*, api_key: ApiKey) -> None:
    """Touch last_used_at at most once a minute, so busy keys do not write on every request."""
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


AUTOMATION_EMAIL = "automation@otc.invalid"


def automation_user() -> User:
    """The account scheduled jobs and event handlers act as; it cannot sign in."""
    user, created = User.objects.get_or_create(
        email=AUTOMATION_EMAIL, defaults={"full_name": "OTC automation", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user
