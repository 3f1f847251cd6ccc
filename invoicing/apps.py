from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InvoicingConfig(AppConfig):
    name = "invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from customers.selectors import register_exposure_source
        from invoicing.selectors import open_receivables
        from invoicing.services import ensure_chart_of_accounts

        register_exposure_source("open_receivables", open_receivables)
        post_migrate.connect(ensure_chart_of_accounts, sender=self, dispatch_uid="invoicing.chart_of_accounts")
