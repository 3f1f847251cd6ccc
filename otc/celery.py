import gc
import os

from celery import Celery
from celery.signals import worker_process_init
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.dev")

app = Celery("otc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker binds the request id (and user) a task was queued with into the task's log lines.
app.steps["worker"].add(DjangoStructLogInitStep)


@worker_process_init.connect
def freeze_startup_objects(**kwargs) -> None:
    """What a worker process holds once started (Django, the apps, their modules) lives as long as the
    process: frozen, the garbage collector no longer walks it in every full collection. Reconciling a bank
    file at 200 open invoices per customer spent a fifth of its time in the collector before."""
    gc.collect()
    gc.freeze()
