"""Production: secrets and hosts must come from the environment; passes `manage.py check --deploy`.

Runs behind a TLS-terminating proxy that sets X-Forwarded-Proto (see docs/operator-guide.md). Every
variable is listed, with its meaning, in .env.example.
"""

import structlog
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, MIDDLEWARE, env, env_bool, redact_secrets

DEBUG = False
for required in ("SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS"):
    if not env(required):
        raise ImproperlyConfigured(f"{required} must be set in production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Health probes and the metrics scraper come from inside the network over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Real mail by default (base.py's default is the console).
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# One JSON object per line on stdout, for the log collector. Records from plain logging (Django,
# gunicorn, Celery) get the same level, logger and timestamp keys, and their tracebacks as text.
LOG_JSON = env_bool("LOG_JSON", True)
if LOG_JSON:
    LOGGING["formatters"]["structured"] = {  # noqa: F405
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
        "foreign_pre_chain": [
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
        ],
    }
# The worker and beat log through LOGGING above instead of Celery's own plain-text handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Static files are collected into the image at build time and served by WhiteNoise (compressed,
# hashed names, far-future cache headers), so the stack needs no separate static file server.
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# `manage.py backup_database` / `verify_backup` (docs/operator-guide.md, "Backups").
BACKUP_DIR = env("BACKUP_DIR", str(BASE_DIR / "var" / "backups"))
BACKUP_KEEP = int(env("BACKUP_KEEP", "14"))
