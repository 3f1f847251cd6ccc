"""Secrets never reach a log line: the last step before a log line is rendered rewrites them.

Request logs carry the path and query of each request, and exceptions carry what was being handled,
so one-time links (password reset, portal invitation, survey), API keys, bearer tokens, webhook
secrets and the suite's own configured secrets would otherwise be written in clear. `redact_secrets`
is a structlog processor that LOGGING's formatter runs on every record, from structlog or from plain
logging (Django, Celery, gunicorn), after tracebacks are turned into text and before rendering.
"""

import re
from functools import cache
from typing import Any

from django.conf import settings

REDACTED = "[redacted]"
PATTERNS = [
    # API keys: otc_<prefix>_<secret>; the prefix stays, to tell which key was used.
    (re.compile(r"\b(otc_[0-9a-f]{4,})_[A-Za-z0-9_\-]{8,}"), rf"\1_{REDACTED}"),
    (re.compile(r"\b(Api-Key|Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=\-]{8,}", re.IGNORECASE), rf"\1 {REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), f"whsec_{REDACTED}"),
    # One-time links: password reset (allauth), portal invitations, survey answers.
    (re.compile(r"(/password/reset/key/)[^/\s'\"]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/portal/invitation/)[^/\s'\"]+"), rf"\1{REDACTED}"),
    (re.compile(r"(/surveys/)(?!api/)[^/\s'\"]{16,}"), rf"\1{REDACTED}"),
    (
        re.compile(r"([?&](?:token|key|secret|signature|password|code|api_key)=)[^&\s'\"]+", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
]


@cache
def configured_secrets() -> tuple[str, ...]:
    """The secrets in the settings, each long enough not to redact ordinary words."""
    candidates = [
        settings.SECRET_KEY,
        settings.OTC_INBOUND_MAIL_SECRET,
        settings.OTC_IMAP_PASSWORD,
        settings.EMAIL_HOST_PASSWORD,
        settings.OTC_METRICS_TOKEN,
        *settings.OTC_PAYMENT_PROVIDER_SECRETS.values(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    return tuple(sorted({secret for secret in candidates if secret and len(secret) >= 8}, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with every secret the suite knows of replaced by [redacted]."""
    for secret in configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redacted(item) for item in value)
    return value


def redact_secrets(logger: Any, method_name: str, event_dict: dict) -> dict:
    """structlog processor: every string in the event (message, request, traceback) redacted."""
    return {key: value if key.startswith("_") else _redacted(value) for key, value in event_dict.items()}
