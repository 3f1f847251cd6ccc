import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.dev")

app = Celery("otc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker binds the request id (and user) a task was queued with into the task's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)
