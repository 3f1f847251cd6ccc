from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking

        from workflows import receivers  # noqa: F401 - records published events in the outbox
        from workflows.notifications.suppression import on_tracking

        tracking.connect(on_tracking, weak=False, dispatch_uid="workflows.suppression")
