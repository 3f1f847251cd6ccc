from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking
        from celery.signals import task_postrun, task_prerun
        from prometheus_client import REGISTRY

        from workflows import metrics, receivers  # receivers records published events in the outbox
        from workflows.notifications.suppression import on_tracking

        task_prerun.connect(receivers.scheduled_job_started, weak=False, dispatch_uid="scheduled_job_started")
        task_postrun.connect(receivers.scheduled_job_finished, weak=False, dispatch_uid="scheduled_job_finished")
        tracking.connect(on_tracking, weak=False, dispatch_uid="workflows.suppression")
        metrics.register(REGISTRY)
