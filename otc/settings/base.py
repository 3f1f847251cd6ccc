"""Settings shared by every environment; each value comes from the environment."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import dj_database_url
import structlog
from celery.schedules import crontab
from csp import constants as csp_constants

from otc.log_redaction import redact_secrets

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz")
# Fernet keys (comma separated, newest first) for bank details at rest; rotating means prepending.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "import_export",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_structlog",
    "django_prometheus",
    "csp",
    "anymail",
    "otc",
    "customers",
    "inventory",
    "ledger",
    "orders",
    "invoicing",
    "payments",
    "service",
    "analytics",
    "workflows",
    "simulation",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "otc.request_ids.RequestIdMiddleware",
    "otc.uploads.RequestBodyLimitMiddleware",
    "otc.request_guards.NulCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "otc.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "otc.request_guards.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "otc.accounts.StaffMfaRequiredMiddleware",
    "otc.request_guards.WrongDoorMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "otc.urls"
WSGI_APPLICATION = "otc.wsgi.application"
AUTH_USER_MODEL = "otc.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database(url: str) -> dict:
    """A database's settings from its URL, connections kept DB_CONN_MAX_AGE seconds and health-checked.

    The engine (otc.postgresql) binds parameters on the server, and psycopg prepares a statement once a
    connection has run it five times: PostgreSQL then plans it once instead of at every call.
    DB_PREPARED_STATEMENTS=false turns preparing off (every call planned again), should a prepared
    statement's generic plan ever be worse than planning each call (docs/operator-guide.md)."""
    settings = dj_database_url.parse(url, conn_max_age=int(env("DB_CONN_MAX_AGE", "60")), conn_health_checks=True)
    settings["ENGINE"] = "otc.postgresql"
    prepare_threshold = 5 if env_bool("DB_PREPARED_STATEMENTS", True) else None
    settings.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=prepare_threshold)
    return settings


DATABASES = {"default": database(env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc"))}
# Behind PgBouncer in transaction mode (docs/operator-guide.md, "Scaling"): no connection kept between
# requests, no server-side cursors and no prepared statements, which a pooled connection may not have.
if env_bool("DB_TRANSACTION_POOLING", False):
    DATABASES["default"] |= {"CONN_MAX_AGE": 0, "DISABLE_SERVER_SIDE_CURSORS": True}
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
# A read replica for analytics (otc.databases.reporting_database); in tests it mirrors the default.
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database(env("DATABASE_REPLICA_URL")) | {"TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env("REDIS_URL"):
    # Short timeouts: a Redis that does not answer costs a request a second at most (otc/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "otc.cache.DegradingRedisCache",
            "LOCATION": env("REDIS_URL"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en"
FORMAT_MODULE_PATH = ["otc.formats"]  # English short dates in ISO 8601 (otc/formats/en/formats.py)
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("nl", "Nederlands"), ("es", "Español")]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
# Translation catalogues (.po committed, .mo compiled by `make install`): the portal for now.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/admin/"

# Accounts: email login, MFA (TOTP + recovery codes) for staff and portal users.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_ALLOW_REGISTRATION = False
ACCOUNT_ADAPTER = "otc.accounts.ClosedSignupAccountAdapter"
# Failed sign-ins slow the next attempt instead of locking the account (otc.sign_in_throttle): per
# account and address, free attempts then 1, 2, 4 ... seconds up to 15 minutes; per account over all
# addresses, a short delay after many failures; allauth's own limit stays only per address. The same
# answer whether or not the account exists.
ACCOUNT_RATE_LIMITS = {"login_failed": "30/m/ip"}
OTC_SIGN_IN_FREE_ATTEMPTS = int(env("SIGN_IN_FREE_ATTEMPTS", "3"))
OTC_SIGN_IN_MAX_DELAY = int(env("SIGN_IN_MAX_DELAY", str(15 * 60)))
OTC_SIGN_IN_ACCOUNT_FREE_ATTEMPTS = int(env("SIGN_IN_ACCOUNT_FREE_ATTEMPTS", "20"))
OTC_SIGN_IN_ACCOUNT_MAX_DELAY = int(env("SIGN_IN_ACCOUNT_MAX_DELAY", "60"))
OTC_SIGN_IN_BURST_PER_MINUTE = int(env("SIGN_IN_BURST_PER_MINUTE", "100"))
ACCOUNT_PREVENT_ENUMERATION = True
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "OTC suite"
# A code typed as the app turns to the next one (or with the phone's clock a few seconds off) is still
# accepted: one 30-second step either side, as RFC 6238 (5.2) recommends; a code is accepted once only.
MFA_TOTP_TOLERANCE = 1
# Staff with finance or admin powers must set up TOTP before they reach the admin, in every settings
# module (otc.accounts). Accounts are made by staff, never by sign-up, so an unverified email record
# (an address typed by an administrator) must not stop MFA set-up; allauth's check guards open sign-up.
OTC_STAFF_MFA_REQUIRED = True
MFA_ALLOW_UNVERIFIED_EMAIL = True

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds an SMTP connection may hang; well below OUTBOX_LEASE_SECONDS, so a lease never lapses mid-send.
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "OTC suite <otc@localhost>")
OTC_BASE_URL = env("OTC_BASE_URL", "http://127.0.0.1:8000")
# How long an emailed portal invitation link stays valid.
OTC_PORTAL_INVITATION_DAYS = int(env("PORTAL_INVITATION_DAYS", "7"))

# How many proxies in front of the suite append to X-Forwarded-For: the client address (for API rate
# limits and allauth's sign-in throttle) is the one the outermost of them saw; 0 trusts no header.
OTC_TRUSTED_PROXIES = int(env("TRUSTED_PROXIES", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = OTC_TRUSTED_PROXIES

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "otc.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["otc.api.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "otc.api.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "otc.api.filtering.StrictFilterBackend",
        "otc.api.filtering.IndexedSearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OPTIONS answers the allowed methods only; the request and response shapes are in the OpenAPI schema.
    "DEFAULT_METADATA_CLASS": "otc.api.metadata.AllowedMethodsMetadata",
    "EXCEPTION_HANDLER": "otc.api.problems.problem_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Rate limits per API key and per client address (otc/api/throttles.py; the rates are below).
    "DEFAULT_THROTTLE_CLASSES": ["otc.api.throttles.PerApiKeyThrottle", "otc.api.throttles.PerAddressThrottle"],
    # The client address behind the trusted proxies (OTC_TRUSTED_PROXIES above).
    "NUM_PROXIES": OTC_TRUSTED_PROXIES,
}
# Requests a minute (or "/s", "/h", "/d") before 429 with Retry-After; counted in the cache (Redis).
OTC_API_RATE_PER_KEY = env("API_RATE_PER_KEY", "1200/min")
OTC_API_RATE_PER_ADDRESS = env("API_RATE_PER_ADDRESS", "2400/min")
# Keys acting for finance or admin staff live at most this long (otc.services.create_api_key).
OTC_PRIVILEGED_API_KEY_DAYS = int(env("PRIVILEGED_API_KEY_DAYS", "90"))
SPECTACULAR_SETTINGS = {
    "TITLE": "OTC suite API",
    "DESCRIPTION": (
        "Order-to-cash API for partner systems. Authenticate with `Authorization: Api-Key <key>`. "
        "Errors are application/problem+json (RFC 9457) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come with the project (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "otc.api.schema.declare_every_problem",
    ],
    # One name per choice set, where several fields share one (or one field name has several sets).
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "otc.countries.COUNTRY_CHOICES",
        "CurrencyEnum": "otc.money.CURRENCY_CHOICES",
        "CustomerStatusEnum": "customers.models.CustomerStatus",
        "AddressKindEnum": "customers.models.AddressKind",
        "ChangeRequestKindEnum": "customers.models.ChangeRequestKind",
        "ChangeRequestStatusEnum": "customers.models.ChangeRequestStatus",
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ShipmentStatusEnum": "orders.models.ShipmentStatus",
        "InvoiceStatusEnum": "invoicing.models.InvoiceStatus",
        "DocumentKindEnum": "invoicing.models.DocumentKind",
        "TaxCategoryEnum": "inventory.models.TaxCategoryCode",
        "TicketStatusEnum": "service.models.TicketStatus",
        "TicketCategoryEnum": "service.models.TicketCategory",
        "ReasonEnum": "service.models.DisputeReason",  # the name it had before return requests
        "ReturnRequestReasonEnum": "orders.models.ReturnRequestReason",
        "ReturnRequestStatusEnum": "orders.models.ReturnRequestStatus",
    },
}
IDEMPOTENCY_KEY_TTL_HOURS = 24

# Celery: eager in-process when REDIS_URL is unset; the outbox makes both modes equivalent.
CELERY_BROKER_URL = env("REDIS_URL") or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not env("REDIS_URL")
CELERY_TASK_EAGER_PROPAGATES = False
# Tasks keep no results (PostgreSQL records what a task did); the disabled backend that says so is shared
# by every thread: held per thread, each new thread looked it up again, reading every installed package's
# entry points, and a bank file's reconciliation threads spent 4 % of their time there.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "otc")
# Every task by workload. With CELERY_QUEUE_PER_WORKLOAD on (docker-compose.yml turns it on) each
# workload has its own queue, so it can get workers of its own and a slow bank file or snapshot never
# delays a customer's email (docs/operator-guide.md, "Scaling out"); the default workload stays on the
# default queue. Off, a single worker takes everything from the default queue, as in development.
CELERY_WORKLOADS = {
    "default": [
        "workflows.tasks.dispatch_event",
        "workflows.tasks.dispatch_events",
        "workflows.tasks.sweep_outbox",
        "workflows.tasks.resume_delayed_steps",
        "workflows.tasks.purge_idempotency_records",
        "service.tasks.expire_disputes",
        "service.tasks.raise_sla_alerts",
    ],
    "notifications": [
        "workflows.tasks.deliver",
        "workflows.tasks.deliver_webhook",
        "workflows.tasks.sweep_webhook_deliveries",
        "workflows.tasks.send_staff_digests",
        "workflows.tasks.send_payment_reminders",
    ],
    "invoicing": ["workflows.tasks.invoice_consolidated_shipments", "workflows.tasks.run_dunning"],
    "bank": ["payments.tasks.run_statement_upload", "payments.tasks.sweep_statement_uploads"],
    "analytics": [
        "analytics.tasks.refresh_snapshots",
        "analytics.tasks.announce_weekly_kpis",
        "simulation.tasks.reset_training_company",  # a training sandbox's nightly batch, minutes long
    ],
}
if env_bool("CELERY_QUEUE_PER_WORKLOAD", False):
    CELERY_TASK_ROUTES = {
        task: {"queue": f"{CELERY_TASK_DEFAULT_QUEUE}-{workload}"}
        for workload, tasks in CELERY_WORKLOADS.items()
        if workload != "default"
        for task in tasks
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "workflows.tasks.sweep_outbox", "schedule": 15.0},
    "sweep-webhook-deliveries": {"task": "workflows.tasks.sweep_webhook_deliveries", "schedule": 15.0},
    "resume-delayed-rule-steps": {"task": "workflows.tasks.resume_delayed_steps", "schedule": 300.0},
    "purge-idempotency-keys": {"task": "workflows.tasks.purge_idempotency_records", "schedule": 3600.0},
    "consolidated-invoicing": {
        "task": "workflows.tasks.invoice_consolidated_shipments",
        "schedule": crontab(hour=2, minute=30),
    },
    "dunning-run": {"task": "workflows.tasks.run_dunning", "schedule": crontab(hour=6, minute=0)},
    "payment-reminders": {"task": "workflows.tasks.send_payment_reminders", "schedule": crontab(hour=7, minute=0)},
    "expire-disputes": {"task": "service.tasks.expire_disputes", "schedule": crontab(hour=5, minute=30)},
    "ticket-sla-alerts": {"task": "service.tasks.raise_sla_alerts", "schedule": 300.0},
    "sweep-statement-uploads": {"task": "payments.tasks.sweep_statement_uploads", "schedule": 60.0},
    "refresh-analytics-snapshots": {"task": "analytics.tasks.refresh_snapshots", "schedule": crontab(minute=10)},
    "staff-digests": {"task": "workflows.tasks.send_staff_digests", "schedule": crontab(minute=5)},
    "weekly-kpis": {
        "task": "analytics.tasks.announce_weekly_kpis",
        "schedule": crontab(day_of_week="mon", hour=7, minute=30),
    },
}
# A training sandbox (docs/admin-guide.md, "Training on a simulated company"): a database whose
# business records `manage.py simulate --training` and the nightly reset may wipe and simulate afresh.
# Never set it on a database with real business.
OTC_TRAINING_SANDBOX = env_bool("TRAINING_SANDBOX", False)
OTC_TRAINING_COMPANY = {
    "customers": int(env("TRAINING_CUSTOMERS", "50")),
    "days": int(env("TRAINING_DAYS", "60")),
    "seed": int(env("TRAINING_SEED", "1")),
}
if OTC_TRAINING_SANDBOX:
    CELERY_BEAT_SCHEDULE["reset-training-company"] = {
        "task": "simulation.tasks.reset_training_company",
        "schedule": crontab(hour=int(env("TRAINING_RESET_HOUR", "1")), minute=0),
    }
# An event claimed by a worker that died becomes claimable again after this lease.
OUTBOX_LEASE_SECONDS = int(env("OUTBOX_LEASE_SECONDS", "300"))
OUTBOX_SWEEP_AFTER_SECONDS = int(env("OUTBOX_SWEEP_AFTER_SECONDS", "10"))
# Hand each committed event to the broker at once. `manage.py simulate` turns it off: its own workers
# take the day's events at the end of each simulated day, in order, as the sweeper would.
OUTBOX_ENQUEUE_ON_COMMIT = True
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "8"))
# Automation rules: events caused by a chain of this many rules' actions run no further rules (loop guard).
AUTOMATION_MAX_RULE_CHAIN = int(env("AUTOMATION_MAX_RULE_CHAIN", "5"))

# Structured logging: JSON lines in production, key=value on a console in development.
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOG_JSON = env_bool("LOG_JSON", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Secrets (one-time links, API keys, tokens, configured secrets) are redacted from every line.
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,  # tracebacks as text, so they are redacted too
                redact_secrets,
                structlog.processors.JSONRenderer() if LOG_JSON else structlog.dev.ConsoleRenderer(colors=False),
            ],
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Eager mode runs tasks inline: their per-task success lines are noise there.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        # WeasyPrint narrates every rendering step at INFO; its warnings (a missing font) still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# Content-Security-Policy (django-csp; otc/csp.py adds what the admin's theme needs under /admin/): our
# own origin only, a per-response nonce for our few inline scripts and styles, no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'", csp_constants.NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Request bodies (otc/uploads.py): a file upload (multipart) may be up to OTC_MAX_UPLOAD_BYTES, any
# other body up to DATA_UPLOAD_MAX_MEMORY_SIZE (15 MB holds a 10 MB ticket attachment base64-encoded in
# JSON, which DRF reads into memory whole); larger ones are refused (413) from Content-Length before they
# are read. Uploaded files above FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file, not memory.
OTC_MAX_UPLOAD_BYTES = int(env("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("DATA_UPLOAD_MAX_MEMORY_SIZE", str(15 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = int(env("FILE_UPLOAD_MAX_MEMORY_SIZE", str(5 * 1024 * 1024 // 2)))

# Plausible input (otc/input_bounds.py): the API and the number parser refuse amounts, quantities and
# dates beyond these (typos, attacks, arithmetic that would overflow); "1_000" is never a number.
OTC_INPUT_MAX_AMOUNT = Decimal(env("INPUT_MAX_AMOUNT", "999999999.99"))
OTC_INPUT_MAX_QUANTITY = Decimal(env("INPUT_MAX_QUANTITY", "999999"))
OTC_INPUT_EARLIEST_DATE = date.fromisoformat(env("INPUT_EARLIEST_DATE", "1970-01-01"))
OTC_INPUT_LATEST_DATE = date.fromisoformat(env("INPUT_LATEST_DATE", "2199-12-31"))

# Request ids (otc/request_ids.py): RequestIdMiddleware decides the id (the trusted proxy's
# X-Request-ID only when this is on, else a new one) and django-structlog logs with it; Celery tasks
# carry it in their headers and the worker binds it into the task's log lines.
OTC_TRUST_REQUEST_ID_HEADER = env_bool("TRUST_REQUEST_ID_HEADER", False)
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_CELERY_ENABLED = True

# Prometheus metrics (otc/metrics.py): /metrics answers a scraper presenting this bearer token and is a
# 404 while it is unset; a worker serves its task metrics on its own port when one is given.
OTC_METRICS_TOKEN = env("METRICS_TOKEN")
OTC_WORKER_METRICS_PORT = int(env("WORKER_METRICS_PORT", "0"))
OTC_WORKER_METRICS_ADDRESS = env("WORKER_METRICS_ADDRESS", "0.0.0.0")  # noqa: S104 - inside the network

structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.filter_by_level,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    cache_logger_on_first_use=True,
)

UNFOLD = {
    "SITE_TITLE": "OTC suite",
    "SITE_HEADER": "OTC suite",
    "SITE_SYMBOL": "account_balance",
    "SHOW_HISTORY": True,
    "DASHBOARD_CALLBACK": "analytics.workspace.dashboard_callback",
    "SIDEBAR": {"show_search": True, "show_all_applications": True, "navigation": "otc.navigation.sidebar"},
}

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# The selling company: its country decides domestic tax, EU reverse charge and exports.
OTC_COMPANY_COUNTRY = env("COMPANY_COUNTRY", "DE")
OTC_COMPANY_CURRENCY = env("COMPANY_CURRENCY", "EUR")
# Invoices due within this many days get a friendly reminder (unless the customer opted out).
OTC_PAYMENT_REMINDER_DAYS = int(env("PAYMENT_REMINDER_DAYS", "3"))
# A bank line's best match is applied without a clerk at this confidence (0..1) or above.
OTC_AUTO_APPLY_CONFIDENCE = float(env("AUTO_APPLY_CONFIDENCE", "0.9"))
# A statement file with more lines than this is imported and reconciled by a worker, its progress
# reported every OTC_STATEMENT_UPLOAD_BATCH_LINES lines; a worker silent for OTC_STATEMENT_UPLOAD_STALL_SECONDS
# is presumed dead and the upload is handed out again (payments.tasks.sweep_statement_uploads).
OTC_STATEMENT_BACKGROUND_LINES = int(env("STATEMENT_BACKGROUND_LINES", "300"))
OTC_STATEMENT_UPLOAD_BATCH_LINES = int(env("STATEMENT_UPLOAD_BATCH_LINES", "500"))  # as BOOKING_BATCH
OTC_STATEMENT_UPLOAD_STALL_SECONDS = int(env("STATEMENT_UPLOAD_STALL_SECONDS", "120"))
# Batches of lines of one file a worker reconciles at once, each on a database connection of its own (a
# thread): one matches while another waits for the database. Each takes a connection (PgBouncer's pool).
OTC_RECONCILIATION_WORKERS = int(env("RECONCILIATION_WORKERS", "4"))
# Short payments up to this much (document currency) may be written off when allocating.
OTC_WRITE_OFF_TOLERANCE = {"default": env("WRITE_OFF_TOLERANCE", "5.00"), "JPY": "500", "KRW": "5000"}
# Payment providers' webhook secrets, "name:secret,name2:secret2": each signs its notifications.
OTC_PAYMENT_PROVIDER_SECRETS = dict(item.split(":", 1) for item in env_list("PAYMENT_PROVIDER_SECRETS") if ":" in item)
# The built-in offline payment provider for the portal (development, tests, the demo); never in production.
# dev.py and test.py turn it on with a secret under "test".
OTC_PAYMENT_TEST_PROVIDER = env_bool("PAYMENT_TEST_PROVIDER", False)
# Service desk: the largest ticket attachment accepted, and how long before an SLA target a ticket
# counts as breaching soon (wall-clock minutes; queues show it and the assignee and lead are told).
OTC_TICKET_ATTACHMENT_MAX_BYTES = int(env("TICKET_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
# What one customer's tickets may hold in files they sent (portal, email, API); staff files do not count.
OTC_CUSTOMER_ATTACHMENT_QUOTA_BYTES = int(env("CUSTOMER_ATTACHMENT_QUOTA_BYTES", str(200 * 1024 * 1024)))
OTC_SLA_BREACH_SOON_MINUTES = int(env("SLA_BREACH_SOON_MINUTES", "60"))
# Surveys: at most this many per contact per calendar month; NPS asked at most once per contact in
# this many days; a survey link works this many days, once.
OTC_SURVEYS_PER_CONTACT_PER_MONTH = int(env("SURVEYS_PER_CONTACT_PER_MONTH", "2"))
OTC_SURVEY_NPS_EVERY_DAYS = int(env("SURVEY_NPS_EVERY_DAYS", "90"))
OTC_SURVEY_LINK_DAYS = int(env("SURVEY_LINK_DAYS", "14"))
# Inbound email: mail providers POST the raw message signed with this secret (HMAC-SHA256 over
# "<timestamp>.<body>", refused when the timestamp is further than the tolerance from now);
# `manage.py fetch_mail` reads the IMAP mailbox. Unknown senders open a ticket without customer
# only when allowed; otherwise their message is recorded and dropped without a reply.
OTC_INBOUND_MAIL_SECRET = env("INBOUND_MAIL_SECRET")
OTC_INBOUND_MAIL_TOLERANCE_SECONDS = int(env("INBOUND_MAIL_TOLERANCE_SECONDS", "300"))
OTC_INBOUND_MAIL_OPEN_FOR_UNKNOWN_SENDERS = env_bool("INBOUND_MAIL_OPEN_FOR_UNKNOWN_SENDERS", False)
OTC_IMAP_HOST = env("IMAP_HOST")
OTC_IMAP_PORT = int(env("IMAP_PORT", "993"))
OTC_IMAP_USER = env("IMAP_USER")
OTC_IMAP_PASSWORD = env("IMAP_PASSWORD")
OTC_IMAP_FOLDER = env("IMAP_FOLDER", "INBOX")
# Automated answers go out at this confidence (0..1) or above; below it a person answers.
OTC_AUTOMATED_ANSWER_CONFIDENCE = float(env("AUTOMATED_ANSWER_CONFIDENCE", "0.7"))
# What order confirmation does when stock is short: "backorder" the rest, or "refuse" the order.
OTC_SHORT_STOCK_POLICY = env("SHORT_STOCK_POLICY", "backorder")
# Partner webhooks (workflows.webhooks): only https to public addresses (dev.py and test.py allow
# http and loopback); each attempt may take this long; failed deliveries are retried with exponential
# back-off (base x 3^(n-1), capped, +-10 % jitter) up to the maximum attempts (the defaults span about
# 42 hours), then dead-lettered; a subscription whose deliveries are given up this many times in a row
# is disabled and its owner told; a rotated secret keeps signing beside the new one for the overlap.
OTC_WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
OTC_WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", False)
OTC_WEBHOOK_TIMEOUT_SECONDS = float(env("WEBHOOK_TIMEOUT_SECONDS", "10"))
OTC_WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "10"))
OTC_WEBHOOK_RETRY_BASE_SECONDS = int(env("WEBHOOK_RETRY_BASE_SECONDS", "60"))
OTC_WEBHOOK_RETRY_MAX_DELAY_SECONDS = int(env("WEBHOOK_RETRY_MAX_DELAY_SECONDS", str(12 * 3600)))
OTC_WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES = int(env("WEBHOOK_DISABLE_AFTER_FAILED_DELIVERIES", "5"))
OTC_WEBHOOK_SECRET_OVERLAP_HOURS = int(env("WEBHOOK_SECRET_OVERLAP_HOURS", "24"))

# Notifications: SMS provider backend (dotted path; a class with send(to, text) -> message id), the
# local hour staff digests go out, and the mail provider's tracking webhooks (django-anymail; basic
# auth "user:password" that the provider's webhook URL carries).
OTC_SMS_BACKEND = env("SMS_BACKEND", "workflows.notifications.sms.ConsoleSmsBackend")
OTC_STAFF_DIGEST_HOUR = int(env("STAFF_DIGEST_HOUR", "8"))
# Without a webhook secret the tracking URLs are not mounted at all (otc/urls.py): an open endpoint
# would let anyone suppress an address.
ANYMAIL = {
    name: value
    for name, value in {
        "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET"),
        "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN"),
    }.items()
    if value
}
