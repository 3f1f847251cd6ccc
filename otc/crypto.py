"""Encryption at rest for sensitive columns (bank details).

Values are Fernet tokens (AES-128-CBC + HMAC-SHA256). Keys come from FIELD_ENCRYPTION_KEYS, newest
first, so a key can be rotated by prepending a new one; development without keys derives one from
SECRET_KEY. Encrypted values cannot be searched, so an HMAC fingerprint column serves equality look-ups.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _key_material() -> list[bytes]:
    if settings.FIELD_ENCRYPTION_KEYS:
        return [key.encode() for key in settings.FIELD_ENCRYPTION_KEYS]
    if not settings.DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set outside development")
    digest = hashlib.sha256(f"field-encryption:{settings.SECRET_KEY}".encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _key_material()])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    return _decrypt_bytes(token.encode()).decode()


def _decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as error:
        raise ImproperlyConfigured("Cannot decrypt a stored value: wrong FIELD_ENCRYPTION_KEYS") from error


def fingerprint(plaintext: str) -> str:
    """Keyed hash for equality look-ups on an encrypted value."""
    key = _key_material()[-1]
    return hmac.new(key, plaintext.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads and writes plaintext in Python."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value in (None, "") else encrypt(value)


class EncryptedBinaryField(models.BinaryField):
    """Bytes stored encrypted (a Fernet token); reads and writes the plain bytes in Python."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else _decrypt_bytes(bytes(value))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else _fernet().encrypt(bytes(value))
