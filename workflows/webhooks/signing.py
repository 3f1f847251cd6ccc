"""Secrets and signatures per the Standard Webhooks specification (the `standardwebhooks` package).

The signed content is "<webhook-id>.<webhook-timestamp>.<body>" (HMAC-SHA256, base64, prefixed
"v1,"). The timestamp is the attempt's, so a receiver's replay window (five minutes in the reference
libraries) holds for a retry a day later too; the id is the delivery's, the same on every attempt.
"""

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_headers(*, message_id: str, timestamp: datetime, body: bytes, secrets_: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers; one signature per secret, space-separated (rotation overlap)."""
    signatures = [Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
