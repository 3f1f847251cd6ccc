from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from invoicing.selectors import register_ledger_check
        from payments.money.selectors import unapplied_payment_problems

        register_ledger_check(unapplied_payment_problems)
