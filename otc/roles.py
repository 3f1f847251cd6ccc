"""Staff roles as groups, kept in step with this table after every migrate.

Permissions are named as "app_label.codename"; a permission that does not exist yet (its app has
not landed) is skipped, so later capabilities only add lines here.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet

_CUSTOMER_DATA = ["customer", "contact", "address", "preferences", "creditprofile"]
_CATALOGUE = ["product", "pricelist", "pricelistitem", "customerprice", "taxcategory", "taxrate"]
_STOCK = ["warehouse", "stocklevel", "stockmove", "reorderpoint"]
_ORDERS = [
    "order",
    "orderline",
    "shipment",
    "shipmentline",
    "returnorder",
    "returnline",
    "returnrequest",
    "returnrequestline",
    "ordertimelineentry",
]
_INVOICING = [
    "invoice",
    "invoiceline",
    "taxbreakdown",
    "invoicedshipment",
    "numberseries",
    "storeddocument",
    "invoicedeliverylog",
    "invoicehold",
]
_INVOICING_RIGHTS = ["invoicing.issue_invoice", "invoicing.issue_credit_note"]
_LEDGER = ["ledgeraccount", "openitem", "journalentry", "journalline"]
_PAYMENTS = ["payment", "allocation", "refund"]
_STATEMENTS = ["bankstatement", "bankstatementline", "bankstatementupload"]
_COLLECTIONS = [
    "dunningpolicy",
    "dunninglevel",
    "dunningassignment",
    "dunningrun",
    "dunningletter",
    "promisetopay",
    "paymentplan",
]
_TICKETS = ["ticket", "ticketmessage", "ticketattachment"]
_DESK_RECORDS = ["inboundmail", "ticketrecognition"]  # written only by the email channel, read by staff
_DESK_SETUP = ["team", "cannedreply", "workingcalendar", "workinghours", "holiday", "slapolicy"]
_AUTOMATION = ["automationrule", "automationruleversion", "rulerun", "delayedstep"]
_WEBHOOKS = ["webhooksubscription", "webhookdelivery", "webhookdeadletter", "webhookattempt"]
_NOTIFICATIONS = ["notificationtemplate", "notificationtemplateversion", "suppression", "staffnotificationsettings"]


def _crud(app: str, models: list[str], actions: tuple[str, ...] = ("view", "add", "change", "delete")) -> list[str]:
    return [f"{app}.{action}_{model}" for model in models for action in actions]


ROLES: dict[str, list[str]] = {
    "finance": [
        *_crud("customers", _CUSTOMER_DATA, ("view", "add", "change")),
        *_crud("customers", ["bankaccount", "changerequest"], ("view", "add")),
        "customers.approve_changerequest",
        *_crud("workflows", ["outboxevent", "delivery", *_WEBHOOKS, *_NOTIFICATIONS], ("view",)),
        *_crud("workflows", _AUTOMATION, ("view",)),
        *_crud("workflows", ["automationrule", "delayedstep"], ("add", "change")),
        *_crud("customers", ["customertag"], ("view", "add", "delete")),
        *_crud("service", ["followuptask"], ("view", "add", "change")),
        *_crud("inventory", [*_CATALOGUE, *_STOCK], ("view",)),
        *_crud("orders", _ORDERS, ("view", "change")),
        "orders.release_credit_hold",
        *_crud("invoicing", _INVOICING, ("view",)),
        *_INVOICING_RIGHTS,
        *_crud("ledger", _LEDGER, ("view",)),
        "ledger.view_ledger",
        *_crud("otc", ["companyprofile"], ("view", "change")),
        *_crud("otc", ["documentstyle"], ("view", "add", "change")),
        *_crud("customers", ["customergroup"], ("view", "change")),
        *_crud("otc", ["exchangerate"], ("view", "add", "change")),
        *_crud("payments", _PAYMENTS, ("view", "add", "change")),
        "payments.approve_refund",
        *_crud("payments", [*_STATEMENTS, *_COLLECTIONS], ("view", "add", "change")),
        *_crud("service", ["dispute"], ("view", "add", "change")),
        *_crud("service", [*_TICKETS, *_DESK_RECORDS], ("view",)),
        "analytics.view_customerbehaviour",
    ],
    "sales": [
        *_crud("customers", _CUSTOMER_DATA, ("view", "add", "change")),
        *_crud("customers", ["changerequest"], ("view", "add")),
        *_crud("inventory", [*_CATALOGUE, *_STOCK], ("view",)),
        *_crud("inventory", ["customerprice"], ("add", "change")),
        *_crud("orders", _ORDERS, ("view", "add", "change")),
        "orders.decide_returnrequest",
        "invoicing.view_invoice",
        *_crud("payments", ["promisetopay", "dunningletter"], ("view",)),
        "analytics.view_customerbehaviour",
        *_crud("service", ["survey", "keyaccount"], ("view",)),
        *_crud("customers", ["customertag"], ("view", "add")),
        *_crud("service", ["followuptask"], ("view", "add", "change")),
        "workflows.view_rulerun",
    ],
    "service": [
        *_crud("customers", _CUSTOMER_DATA, ("view",)),
        *_crud("customers", ["contact", "address", "preferences"], ("change", "add")),
        *_crud("customers", ["portalmembership", "portalinvitation"], ("view", "add", "change")),
        *_crud("inventory", ["product", "stocklevel", "warehouse"], ("view",)),
        *_crud("orders", _ORDERS, ("view",)),
        *_crud("orders", ["returnorder", "returnline"], ("add",)),
        "invoicing.view_invoice",
        *_crud("payments", ["promisetopay", "dunningletter"], ("view",)),
        *_crud("service", ["dispute"], ("view", "add", "change")),
        *_crud("service", _TICKETS, ("view", "add", "change")),
        *_crud("service", [*_DESK_SETUP, *_DESK_RECORDS], ("view",)),
        *_crud("service", ["cannedreply"], ("add", "change")),
        *_crud("service", ["survey", "keyaccount"], ("view",)),
        *_crud("service", ["followuptask"], ("view", "add", "change")),
        "customers.view_customertag",
        "workflows.view_rulerun",
    ],
    "admin": [
        *_crud("customers", [*_CUSTOMER_DATA, "bankaccount", "changerequest", "portalmembership", "portalinvitation"]),
        "customers.approve_changerequest",
        *_crud("otc", ["user", "apikey", "exchangerate", "companyprofile", "documentstyle"]),
        *_crud("customers", ["customergroup"], ("view", "change")),
        *_crud("workflows", ["outboxevent", "delivery", "handlerrun", *_AUTOMATION, *_WEBHOOKS, *_NOTIFICATIONS]),
        *_crud("customers", ["customertag"]),
        *_crud("service", ["followuptask"]),
        *_crud("inventory", [*_CATALOGUE, *_STOCK]),
        "inventory.receive_low_stock_alerts",
        *_crud("orders", _ORDERS),
        "orders.release_credit_hold",
        "orders.decide_returnrequest",
        "orders.override_price",
        *_crud("invoicing", _INVOICING),
        *_INVOICING_RIGHTS,
        *_crud("ledger", _LEDGER),
        "ledger.view_ledger",
        *_crud("payments", [*_PAYMENTS, *_STATEMENTS, *_COLLECTIONS]),
        "payments.approve_refund",
        *_crud("service", ["dispute", *_TICKETS, *_DESK_SETUP, "slaalert", "keyaccount"]),
        "service.view_survey",
        *_crud("service", _DESK_RECORDS, ("view",)),
        "analytics.view_customerbehaviour",
    ],
}


def sync_staff_roles(**kwargs) -> None:
    """post_migrate receiver: create the groups and set exactly the permissions listed above.

    It runs after every app's migrate and after every flush (each transactional test), so it reads the
    permissions it names in one query instead of one query per name."""
    codenames = {name.split(".")[1] for names in ROLES.values() for name in names}
    existing = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(codename__in=codenames).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([existing[name] for name in names if name in existing])


PRIVILEGED_ROLES = ("finance", "admin")


def has_privileged_role(user) -> bool:
    """Finance and admin powers: what MFA and short-lived API keys protect."""
    return user.is_superuser or user.groups.filter(name__in=PRIVILEGED_ROLES).exists()


def staff_with_permission(permission: str, *, superusers: bool = True) -> QuerySet:
    """Active staff who hold `app_label.codename` directly, through a group, or as superusers (unless
    `superusers` is off: an opt-in permission is only held when granted)."""
    app_label, codename = permission.split(".")
    grant = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label) | Q(
        groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label
    )
    if superusers:
        grant |= Q(is_superuser=True)
    return get_user_model().objects.filter(grant, is_active=True, is_staff=True).distinct()
