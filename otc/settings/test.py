"""Tests: real PostgreSQL (DATABASE_URL, default the local server).

The pytest process runs Celery tasks eagerly and keeps emails in memory. A Celery worker that a test
starts (tests/workflows/test_worker.py) uses these settings too, with REDIS_URL and EMAIL_BACKEND in its
environment: then the broker is Redis and emails go where EMAIL_BACKEND says (base.py reads both).
"""

from .base import *  # noqa: F403
from .base import env, env_bool

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not env("EMAIL_BACKEND"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if not env("REDIS_URL"):
    CELERY_TASK_ALWAYS_EAGER = True  # base.py then also uses the in-memory broker
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
FIELD_ENCRYPTION_KEYS = ["n4o_7mE4mYqvC3G3q2jvO0Ykq0Yd2p9e3oQ0-8hVb1Q="]
# The offline test payment provider of the portal (payments.money.providers).
OTC_PAYMENT_TEST_PROVIDER = env_bool("PAYMENT_TEST_PROVIDER", True)
OTC_PAYMENT_PROVIDER_SECRETS = {"test": "test-provider-secret", **OTC_PAYMENT_PROVIDER_SECRETS}  # noqa: F405
# Tests make many API calls with one key from one address; tests/otc/test_security_limits.py sets low rates.
OTC_API_RATE_PER_KEY = OTC_API_RATE_PER_ADDRESS = "1000000/min"

# Partner webhooks to a receiver on this machine (http://127.0.0.1:...).
OTC_WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", True)
OTC_WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", True)

OTC_SMS_BACKEND = "workflows.notifications.sms.LocmemSmsBackend"
ANYMAIL = {**ANYMAIL, "WEBHOOK_SECRET": "otc-test:webhook-secret"}  # noqa: F405
# A test's data lives in its own uncommitted transaction, which other connections cannot see: statements are
# reconciled one after the other on the test's connection, unless a test (a transactional one, or a worker
# it starts, through RECONCILIATION_WORKERS) asks for more.
OTC_RECONCILIATION_WORKERS = int(env("RECONCILIATION_WORKERS", "1"))
