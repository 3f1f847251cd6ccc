from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OtcConfig(AppConfig):
    name = "otc"
    verbose_name = "Accounts and API access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from otc import admin_lists, lookups, metrics, request_ids  # noqa: F401 - connect their signal receivers
        from otc.roles import sync_staff_roles
        from otc.trigger_functions import install_trigger_functions

        post_migrate.connect(sync_staff_roles, dispatch_uid="otc.sync_staff_roles")
        # Sent for this app after pgtrigger's and pghistory's (INSTALLED_APPS order), so it replaces theirs.
        post_migrate.connect(install_trigger_functions, sender=self, dispatch_uid="otc.trigger_functions")
        admin_lists.install()
        lookups.install()
