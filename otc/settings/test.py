"""Tests: real PostgreSQL (DATABASE_URL, default the local server), eager Celery unless a test starts a worker."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
FIELD_ENCRYPTION_KEYS = ["n4o_7mE4mYqvC3G3q2jvO0Ykq0Yd2p9e3oQ0-8hVb1Q="]
