"""Read side of cash application: statements with their lines counted, the reconciliation queue, and the
matching engine's ranked proposals for lines, as the screens and the API show them."""

from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from customers.models import Customer
from invoicing.models import Invoice
from otc.money import quantize
from payments.cash_application.matching import PROPOSAL_LIMIT, BankLine, Proposal, propose_matches
from payments.models import BankStatement, BankStatementLine, BankStatementUpload, StatementLineStatus

ZERO = Decimal("0")


def bank_line(line: BankStatementLine) -> BankLine:
    """What the matching engine needs of a statement line."""
    return BankLine(
        amount=line.amount,
        currency=line.currency,
        booking_date=line.booking_date,
        remittance=line.remittance_information,
        structured_reference=line.structured_reference,
        # The fingerprint tells whose the IBAN is: it is decrypted only for a line stored without one.
        payer_iban="" if line.counterparty_iban_fingerprint else line.counterparty_iban or "",
        payer_iban_fingerprint=line.counterparty_iban_fingerprint,
        payer_name=line.counterparty_name,
        line_id=line.pk,
    )


def statement_list() -> QuerySet[BankStatement]:
    """Statements with how many of their lines are unmatched, applied and ignored (one query)."""
    counts = {
        f"{line_status}_lines": Count("lines", filter=Q(lines__status=line_status))
        for line_status in StatementLineStatus.values
    }
    return BankStatement.objects.select_related("imported_by").annotate(**counts)


def statements_with_lines() -> QuerySet[BankStatement]:
    lines = BankStatementLine.objects.select_related("payment").order_by("line_no")
    return statement_list().prefetch_related(Prefetch("lines", queryset=lines))


def upload_list() -> QuerySet[BankStatementUpload]:
    """Statement uploads with who uploaded them and their statements' ids."""
    return BankStatementUpload.objects.select_related("uploaded_by").prefetch_related(
        Prefetch("statements", queryset=BankStatement.objects.only("pk").order_by("pk"))
    )


def queue_condition() -> Q:
    """The reconciliation queue: incoming bank lines nobody has applied or ignored yet."""
    return Q(status=StatementLineStatus.UNMATCHED, amount__gt=0)


def line_list() -> QuerySet[BankStatementLine]:
    return BankStatementLine.objects.select_related("payment")


def line_proposals(*, line: BankStatementLine, limit: int = PROPOSAL_LIMIT) -> list[Proposal]:
    """The ranked proposals for one line, with their reasons, for the reconciliation screen."""
    return propose_matches([bank_line(line)], limit=limit).get(0, [])


def ranked_proposals(lines: list[BankStatementLine]) -> dict[int, list[dict]]:
    """Each unmatched incoming line's proposals by line id, for any number of lines in one matching
    pass plus one query for the customers and one for the invoice numbers."""
    open_lines = [line for line in lines if line.status == StatementLineStatus.UNMATCHED and line.amount > ZERO]
    if not open_lines:
        return {}
    ranked = propose_matches([bank_line(line) for line in open_lines], limit=PROPOSAL_LIMIT)
    return proposal_rows(open_lines, {line.pk: ranked.get(index, []) for index, line in enumerate(open_lines)})


def proposal_rows(lines: list[BankStatementLine], ranked: dict[int, list[Proposal]]) -> dict[int, list[dict]]:
    """The ranked proposals of the lines (by line id) as the API shows them: one query for the
    customers and one for the invoice numbers, whatever the number of lines."""
    proposals = [proposal for found in ranked.values() for proposal in found]
    customers = Customer.objects.only("id", "number", "legal_name").in_bulk(
        {proposal.customer_id for proposal in proposals}
    )
    invoice_ids = {invoice_id for proposal in proposals for invoice_id in proposal.invoice_ids}
    numbers = (
        dict(Invoice.objects.filter(pk__any=list(invoice_ids)).order_by().values_list("pk", "number"))
        if invoice_ids
        else {}
    )
    return {
        line.pk: [
            {
                "rank": rank,
                "customer": customers[proposal.customer_id],
                "invoices": [numbers[invoice_id] for invoice_id in proposal.invoice_ids],
                "amounts": [str(quantize(amount, line.currency)) for amount in proposal.amounts],
                "confidence": round(proposal.confidence, 2),
                "reasons": list(proposal.reasons),
                "difference": str(quantize(proposal.difference, line.currency)),
                "write_off": proposal.write_off,
            }
            for rank, proposal in enumerate(ranked[line.pk], start=1)
        ]
        for line in lines
        if line.pk in ranked
    }


# What a bank line's state allows; the services refuse the rest, the admin offers only these.


def is_waiting(line: BankStatementLine) -> bool:
    """In the reconciliation queue: money in that nobody has applied or ignored yet."""
    return line.status == StatementLineStatus.UNMATCHED and line.amount > 0


def is_undecided(line: BankStatementLine) -> bool:
    return line.status == StatementLineStatus.UNMATCHED


def has_payment(line: BankStatementLine) -> bool:
    return line.payment_id is not None
