"""Signatures of payment providers' notifications: HMAC-SHA256 over "<timestamp>.<raw body>" with the
provider's secret, hex encoded. The timestamp is signed too, so an old notification cannot be replayed
with a fresh one; a notification older (or further ahead) than the tolerance is refused.

Pure functions, so a provider's client, the tests and the view all sign the same way.
"""

import hashlib
import hmac
import time

from payments.money.errors import InvalidSignature

TOLERANCE_SECONDS = 300


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature a provider sends in X-OTC-Signature for this timestamp and raw body."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    *,
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise InvalidSignature unless the signature matches and the timestamp (Unix seconds) is recent."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise InvalidSignature("X-OTC-Timestamp must be Unix seconds.") from None
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        raise InvalidSignature(f"The timestamp is more than {tolerance} seconds away; a replay is refused.")
    if not hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature.strip().lower()):
        raise InvalidSignature("The signature does not match the body.")
