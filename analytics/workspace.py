"""The admin's home page as a workspace (Unfold's DASHBOARD_CALLBACK): the figures waiting for the
signed-in person's role, each a link to the filtered list behind it.

A figure shows only when the user may open the list it links to; the finance block when they may
work the reconciliation queue, the sales block when they may enter orders. An admin sees both.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.workspace import finance_figures, sales_figures
from orders.models import OrderStatus
from orders.selectors import SHIPPABLE_STATUSES

FINANCE_ROLE = "payments.view_bankstatementline"
SALES_ROLE = "orders.add_order"


@dataclass(frozen=True)
class Card:
    title: str
    value: str
    url: str
    warn: bool = False


def _link(route: str, **query: str) -> str:
    url = reverse(f"admin:{route}")
    return f"{url}?{urlencode(query)}" if query else url


def _visible(request: HttpRequest, cards: list[tuple[str, Card]]) -> list[Card]:
    return [card for permission, card in cards if request.user.has_perm(permission)]


def finance_cards(request: HttpRequest) -> list[Card]:
    today = timezone.localdate()
    figures = finance_figures(today=today)
    money: list[tuple[str, Card]] = []
    for row in figures.receivables:
        money += [
            (
                "invoicing.view_invoice",
                Card(
                    f"Open receivables {row.currency}",
                    f"{row.open_receivables:,}",
                    _link(
                        "invoicing_invoice_changelist",
                        kind__exact="invoice",
                        open_amount__gt="0",
                        currency__exact=row.currency,
                    ),
                ),
            ),
            (
                "invoicing.view_invoice",
                Card(
                    f"Overdue {row.currency}",
                    f"{row.overdue:,}",
                    _link("invoicing_invoice_changelist", overdue="yes", currency__exact=row.currency),
                    warn=row.overdue > 0,
                ),
            ),
        ]
    iso_today = today.isoformat()
    queues = [
        (
            FINANCE_ROLE,
            Card("Bank lines waiting", str(figures.bank_lines_waiting), _link("payments_bankstatementline_changelist")),
        ),
        (
            "orders.view_order",
            Card(
                "Credit holds waiting",
                str(figures.credit_holds_waiting),
                _link("orders_order_changelist", status__exact=OrderStatus.ON_CREDIT_HOLD),
                warn=figures.credit_holds_waiting > 0,
            ),
        ),
        (
            "service.view_dispute",
            Card(
                "Disputes open", str(figures.disputes_open), _link("service_dispute_changelist", status__exact="open")
            ),
        ),
        (
            "payments.view_promisetopay",
            Card(
                "Promises due today",
                str(figures.promises_due_today),
                _link("payments_promisetopay_changelist", status__exact="open", promised_date=iso_today),
            ),
        ),
        (
            "payments.view_dunningletter",
            Card(
                "Dunning letters ready",
                str(figures.dunning_letters_ready),
                _link("payments_dunningletter_changelist", created_at__date=iso_today),
            ),
        ),
    ]
    return _visible(request, money + queues)


def sales_cards(request: HttpRequest) -> list[Card]:
    figures = sales_figures()
    orders = "orders_order_changelist"
    return _visible(
        request,
        [
            (
                "orders.view_order",
                Card(
                    "Orders on credit hold",
                    str(figures.orders_on_credit_hold),
                    _link(orders, status__exact=OrderStatus.ON_CREDIT_HOLD),
                    warn=figures.orders_on_credit_hold > 0,
                ),
            ),
            ("orders.view_order", Card("Backorders", str(figures.backorders), _link(orders, backordered="yes"))),
            (
                "orders.view_order",
                Card(
                    "Orders to ship",
                    str(figures.orders_to_ship),
                    _link(orders, status__in=",".join(SHIPPABLE_STATUSES)),
                ),
            ),
        ],
    )


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    """Unfold calls this for the admin index; the template shows one block per role the user holds."""
    user = request.user
    context["workspace"] = {
        "finance": finance_cards(request) if user.has_perm(FINANCE_ROLE) else [],
        "sales": sales_cards(request) if user.has_perm(SALES_ROLE) else [],
    }
    return context
