"""The training company: a sandbox filled by the simulation and reset to a freshly simulated company
(on a schedule, or by `manage.py simulate --training`), so each session starts from realistic,
current history whatever the last one did to it.

A reset wipes the company's business records (customers, catalogue and stock, orders, invoices,
the books' entries, payments, bank statements, dunning, tickets, surveys, the outbox and the audit
history of all of them) and keeps how the company is set up (staff logins and roles, the chart of
accounts, company profile and bank accounts, dunning policy, automation rules, notification
templates, customer groups, service teams, SLA and working hours, webhook subscriptions, schedules). It runs only
where `OTC_TRAINING_SANDBOX` says this database is a training sandbox: nowhere else does anything
delete business records.
"""

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

from customers.models import PortalMembership
from ledger.services import ensure_chart_of_accounts
from otc.errors import Conflict
from otc.models import ApiKey, User
from simulation.business import Simulation, Tally
from simulation.channels import SHOP_KEY_NAME

# Whole apps whose every table is a business record (inventory's catalogue is simulated afresh too).
WIPED_APPS = ("inventory", "orders", "analytics")
# The business records of apps that also hold set-up.
WIPED_MODELS = (
    "otc.IdempotencyRecord",
    "customers.Customer",
    "customers.CreditProfile",
    "customers.Contact",
    "customers.Address",
    "customers.Preferences",
    "customers.BankAccount",
    "customers.ChangeRequest",
    "customers.PortalMembership",
    "customers.PortalInvitation",
    "customers.CustomerTag",
    "customers.CustomerBehaviour",
    "ledger.OpenItem",
    "ledger.JournalEntry",
    "ledger.JournalLine",
    "invoicing.NumberSeries",
    "invoicing.Invoice",
    "invoicing.InvoiceHold",
    "invoicing.InvoiceLine",
    "invoicing.TaxBreakdown",
    "invoicing.InvoicedShipment",
    "invoicing.StoredDocument",
    "invoicing.InvoiceDeliveryLog",
    "payments.Payment",
    "payments.Allocation",
    "payments.Refund",
    "payments.BankStatement",
    "payments.BankStatementLine",
    "payments.BankStatementUpload",
    "payments.BankStatementUploadPart",
    "payments.DunningAssignment",
    "payments.DunningRun",
    "payments.DunningLetter",
    "payments.DunningLetterItem",
    "payments.InvoiceDunningState",
    "payments.PromiseToPay",
    "payments.PaymentPlan",
    "payments.PaymentPlanInstalment",
    "payments.PaymentReminder",
    "payments.Checkout",
    "payments.CheckoutItem",
    "service.TicketNumberSeries",
    "service.Ticket",
    "service.TicketMessage",
    "service.TicketAttachment",
    "service.TicketRecognition",
    "service.Dispute",
    "service.FollowUpTask",
    "service.InboundMail",
    "service.SlaAlert",
    "service.Survey",
    "service.KeyAccount",
    "workflows.OutboxEvent",
    "workflows.HandlerRun",
    "workflows.Delivery",
    "workflows.ScheduledJobRun",
    "workflows.RuleRun",
    "workflows.DelayedStep",
    "workflows.StaffDigest",
    "workflows.Suppression",
    "workflows.WebhookDelivery",
    "workflows.WebhookAttempt",
    "workflows.WebhookDeadLetter",
)


class NotATrainingSandbox(Conflict):
    """The database is not marked as a training sandbox; nothing was wiped."""


def reset_training_company(*, customers: int, days: int, seed: int) -> tuple[Simulation, Tally]:
    """Wipe the business records and simulate the company afresh, ending yesterday."""
    wipe_business_records_of_sandbox()
    simulation = Simulation(customers=customers, days=days, seed=seed)
    return simulation, simulation.run()


def wipe_business_records_of_sandbox() -> None:
    """`wipe_business_records`, refused (changing nothing) unless this database is a training sandbox."""
    if not settings.OTC_TRAINING_SANDBOX:
        raise NotATrainingSandbox(
            "This database is not a training sandbox (set TRAINING_SANDBOX=true only on one): "
            "resetting it would delete its business records."
        )
    wipe_business_records()


@transaction.atomic
def wipe_business_records() -> None:
    """Empty every business record's table, with their audit history, in one statement. TRUNCATE is
    refused while a kept table points into a wiped one, so a record left out of the lists cannot
    leave set-up dangling. Logins that only existed for the business (portal users, the simulated web
    shop's key and its account) go with it; staff logins and partners' keys stay."""
    shop = ApiKey.objects.filter(name=SHOP_KEY_NAME)
    business_logins = [
        *PortalMembership.objects.values_list("user_id", flat=True),
        *shop.values_list("user_id", flat=True),
    ]
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in wiped_models())
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY")
    shop.delete()
    User.objects.filter(pk__in=business_logins).delete()
    ensure_chart_of_accounts()


def wiped_models() -> list[type[models.Model]]:
    """The business records' tables (not views, such as analytics' behaviour) and the audit history
    models that track them."""
    records = [model for label in WIPED_APPS for model in apps.get_app_config(label).get_models()]
    records += [apps.get_model(name) for name in WIPED_MODELS]
    records = [model for model in records if _is_table(model) and getattr(model, "pgh_tracked_model", None) is None]
    records += [
        field.remote_field.through
        for model in records
        for field in model._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    history = [model for model in apps.get_models() if getattr(model, "pgh_tracked_model", None) in set(records)]
    return records + history


def _is_table(model: type[models.Model]) -> bool:
    return model._meta.managed and not model._meta.proxy
