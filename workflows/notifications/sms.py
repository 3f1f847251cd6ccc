"""The SMS channel's provider interface. A backend sends one text to one E.164 number and returns the
provider's message id; OTC_SMS_BACKEND (a dotted path, like EMAIL_BACKEND) names the one in use. A
real provider's backend is a small class with the same `send`."""

import sys
import uuid
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class SmsBackend(Protocol):
    def send(self, to: str, text: str) -> str:
        """Send `text` to the E.164 number `to`; return the provider's message id, raise on failure."""


class ConsoleSmsBackend:
    """For development: prints each SMS to standard output."""

    def send(self, to: str, text: str) -> str:
        message_id = f"console-{uuid.uuid4()}"
        sys.stdout.write(f"SMS to {to} ({message_id}):\n{text}\n{'-' * 40}\n")
        sys.stdout.flush()
        return message_id


class LocmemSmsBackend:
    """For tests: keeps each SMS in `LocmemSmsBackend.outbox` as (to, text, message id)."""

    outbox: list[tuple[str, str, str]] = []

    def send(self, to: str, text: str) -> str:
        message_id = f"locmem-{len(self.outbox) + 1}"
        self.outbox.append((to, text, message_id))
        return message_id


def sms_backend() -> SmsBackend:
    return import_string(settings.OTC_SMS_BACKEND)()
