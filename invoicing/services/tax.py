"""Tax of credit notes: each VAT group capped at what the credited invoice has left."""

from collections.abc import Iterable
from decimal import Decimal

from invoicing.models import (
    InvoiceLine,
)
from otc.money import TaxGroup, tax_groups


def credit_tax_groups(
    lines: Iterable[InvoiceLine], *, remaining: dict[tuple[str, Decimal], tuple[Decimal, Decimal]], currency: str
) -> list[TaxGroup]:
    """Tax of a credit note, capped by what each of the invoice's groups has left (net, tax) uncredited."""
    groups = []
    for group in tax_groups(lines, currency):
        left_net, left_tax = remaining[(group.tax_category, group.tax_rate)]
        tax = left_tax if group.taxable_amount == left_net else min(group.tax_amount, left_tax)
        groups.append(TaxGroup(group.tax_category, group.tax_rate, group.taxable_amount, tax, group.exemption_reason))
    return groups
