from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger.services import ensure_chart_of_accounts

        post_migrate.connect(ensure_chart_of_accounts, sender=self, dispatch_uid="ledger.chart_of_accounts")
