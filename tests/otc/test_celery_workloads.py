"""Each task belongs to one workload; with a queue per workload each goes to its own queue, and the
worker of docker-compose.yml takes every one of those queues."""

import gc
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import yaml
from celery.backends.base import DisabledBackend
from django.apps import apps
from django.conf import settings

from otc import celery_app

ROOT = Path(__file__).resolve().parents[2]


def test_every_task_of_the_project_belongs_to_exactly_one_workload():
    celery_app.loader.import_default_modules()
    ours = {config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT}
    tasks = sorted(name for name in celery_app.tasks if name.split(".")[0] in ours)

    listed = sorted(task for workload in settings.CELERY_WORKLOADS.values() for task in workload)

    assert listed == tasks


def test_with_a_queue_per_workload_each_task_goes_to_its_workloads_queue():
    environment = {**os.environ, "CELERY_QUEUE_PER_WORKLOAD": "1", "CELERY_QUEUE": "otc"}
    script = "import json; from django.conf import settings; print(json.dumps(settings.CELERY_TASK_ROUTES))"

    printed = subprocess.run(
        [sys.executable, "-c", script], env=environment, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    routes = json.loads(printed)
    assert routes["payments.tasks.run_statement_upload"] == {"queue": "otc-bank"}
    assert routes["workflows.tasks.deliver"] == {"queue": "otc-notifications"}
    assert routes["analytics.tasks.refresh_snapshots"] == {"queue": "otc-analytics"}
    assert "workflows.tasks.dispatch_event" not in routes, "events stay on the default queue"


def test_the_compose_worker_takes_the_default_queue_and_every_workloads_queue():
    worker = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]
    queues = re.search(r"WORKER_QUEUES:-([\w,-]+)", " ".join(worker["command"])).group(1).split(",")

    workloads = [workload for workload in settings.CELERY_WORKLOADS if workload != "default"]
    assert queues == ["otc", *(f"otc-{workload}" for workload in workloads)]


def test_a_worker_process_freezes_what_it_holds_once_started():
    from celery.signals import worker_process_init

    from otc.celery import freeze_startup_objects

    receivers = [receiver() for _, receiver in worker_process_init.receivers]
    assert freeze_startup_objects in receivers
    frozen_before = gc.get_freeze_count()
    try:
        freeze_startup_objects()
        # Django, the apps and their modules: far more than any test's own objects.
        assert gc.get_freeze_count() - frozen_before > 50_000
    finally:
        gc.unfreeze()


def test_every_thread_shares_one_backend_that_keeps_no_results():
    """A new thread (a bank file's reconciliation threads) takes the process's backend, not a lookup of its own."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(celery_app.backend))
    thread.start()
    thread.join()

    assert seen == [celery_app.backend]
    assert isinstance(celery_app.backend, DisabledBackend)
