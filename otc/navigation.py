"""The admin's sidebar by job, not by app (Unfold's SIDEBAR "navigation").

A clerk thinks "Receivables", not "payments" and "invoicing". Each entry names the admin list it
opens and is shown only to users who may view that list; a section with nothing left is dropped.
Lists are named by their admin route, so this kernel module imports no app.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class Entry:
    title: str
    icon: str
    model: str  # "app_label.model_name"
    query: tuple[tuple[str, str], ...] = ()
    needs: str = ""  # the permission to view the list, when it is not the model's own view permission

    @property
    def permission(self) -> str:
        app_label, model_name = self.model.split(".")
        return self.needs or f"{app_label}.view_{model_name}"

    @property
    def link(self) -> str:
        url = reverse("admin:{}_{}_changelist".format(*self.model.split(".")))
        return f"{url}?{urlencode(self.query)}" if self.query else url


SECTIONS: list[tuple[str, list[Entry]]] = [
    (
        "Customers",
        [
            Entry("Customers", "groups", "customers.customer"),
            Entry("Change requests", "rule", "customers.changerequest"),
            Entry("Tickets", "support_agent", "service.ticket"),
            Entry("Follow-ups", "task_alt", "service.followuptask"),
        ],
    ),
    (
        "Sales",
        [
            Entry("Orders", "shopping_cart", "orders.order"),
            Entry("Credit-hold queue", "credit_score", "orders.order", (("status__exact", "on_credit_hold"),)),
            Entry("Backorders", "inventory", "orders.order", (("backordered", "yes"),)),
            Entry("Return requests", "assignment_return", "orders.returnrequest"),
        ],
    ),
    (
        "Receivables",
        [
            Entry("Invoices", "receipt_long", "invoicing.invoice", (("kind__exact", "invoice"),)),
            Entry("Credit notes", "undo", "invoicing.invoice", (("kind__exact", "credit_note"),)),
            Entry("Payments", "payments", "payments.payment"),
            Entry("Reconciliation queue", "account_balance", "payments.bankstatementline"),
            Entry("Bank statements", "description", "payments.bankstatement"),
            Entry("Statement uploads", "upload_file", "payments.bankstatementupload"),
            Entry("Dunning letters", "mail", "payments.dunningletter"),
            Entry("Promises to pay", "handshake", "payments.promisetopay"),
            Entry("Payment plans", "event_repeat", "payments.paymentplan"),
            Entry("Disputes", "gavel", "service.dispute"),
            Entry("Journal entries", "menu_book", "ledger.journalentry"),
        ],
    ),
    (
        "Catalogue",
        [
            Entry("Products", "category", "inventory.product"),
            Entry("Price lists", "sell", "inventory.pricelist"),
            Entry("Customer prices", "price_change", "inventory.customerprice"),
            Entry("Tax rates", "percent", "inventory.taxrate"),
            Entry("Stock", "warehouse", "inventory.stocklevel"),
            Entry("Reorder points", "low_priority", "inventory.reorderpoint"),
        ],
    ),
    (
        "Settings",
        [
            Entry("Company", "domain", "otc.companyprofile"),
            Entry("Document styles", "palette", "otc.documentstyle"),
            Entry("Customer groups", "group_work", "customers.customergroup"),
            Entry("Number series", "pin", "invoicing.numberseries"),
            Entry("Dunning policies", "policy", "payments.dunningpolicy"),
            Entry("Bank accounts", "account_balance_wallet", "payments.companybankaccount"),
            Entry("API keys", "key", "otc.apikey"),
            Entry("Users", "person", "otc.user"),
            Entry("Roles", "badge", "auth.group"),
            Entry("Operations", "monitor_heart", "workflows.operationsview", needs="workflows.view_outboxevent"),
        ],
    ),
]


def sidebar(request: HttpRequest) -> list[dict]:
    """Unfold's navigation for this user: the sections they have something to open in."""
    groups = []
    for title, entries in SECTIONS:
        items = [
            {"title": entry.title, "icon": entry.icon, "link": entry.link}
            for entry in entries
            if request.user.has_perm(entry.permission)
        ]
        if items:
            groups.append({"title": title, "separator": True, "collapsible": True, "items": items})
    return groups
