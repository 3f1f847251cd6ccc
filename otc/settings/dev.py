"""Local development: `make run` sets DATABASE_URL to the embedded PostgreSQL when none is given."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DEBUG", True)
# Emails land as files under var/mail instead of cluttering the console.
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
# The offline test payment provider of the portal (payments.money.providers).
OTC_PAYMENT_TEST_PROVIDER = env_bool("PAYMENT_TEST_PROVIDER", True)
OTC_PAYMENT_PROVIDER_SECRETS = {"test": "test-provider-secret", **OTC_PAYMENT_PROVIDER_SECRETS}  # noqa: F405
# Partner webhooks to a receiver on this machine (http://127.0.0.1:...).
OTC_WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", True)
OTC_WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", True)
