"""Write side of the ledger: the chart of accounts, open items, posting a balanced entry and
reversing one. Invoicing and payments post through these, inside their own business transaction."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ledger.errors import LedgerOutOfBalance, ReceivableWithoutItem
from ledger.models import CHART_OF_ACCOUNTS, AccountRole, EntryKind, JournalEntry, JournalLine, LedgerAccount, OpenItem
from otc.bulk_rows import copy_values, next_ids
from otc.errors import InvalidInput
from otc.exchange_rates import company_currency
from otc.models import User
from otc.money import quantize

ZERO = Decimal("0")


def ensure_chart_of_accounts(**kwargs) -> None:
    """post_migrate receiver: the accounts the services post to exist."""
    for code, name, kind, role in CHART_OF_ACCOUNTS:
        LedgerAccount.objects.get_or_create(role=role, defaults={"code": code, "name": name, "kind": kind})


def open_item(
    *, customer_id: int, kind: str, document_id: int, reference: str, currency: str, issued_on: date, due_on: date
) -> OpenItem:
    """An open item (unsaved) for an issued document; `create_open_items` writes a batch of them."""
    return OpenItem(
        customer_id=customer_id,
        kind=kind,
        document_id=document_id,
        reference=reference,
        currency=currency,
        issued_on=issued_on,
        due_on=due_on,
    )


def create_open_items(*, items: list[OpenItem]) -> list[OpenItem]:
    """Write the open items of issued documents in one statement; each gets its id."""
    return OpenItem.objects.bulk_create(items)


@dataclass(frozen=True)
class Posting:
    """One side of an entry: debit positive, credit negative, in the document currency. A
    receivable posting names the customer and the open item it raises or settles."""

    role: str
    amount: Decimal
    customer_id: int | None = None
    item_id: int | None = None


def journal_lines(
    *,
    postings: list[Posting],
    currency: str,
    rate: Decimal,
    accounts: dict[str, int],
    posted_on: date,
    entry_kind: str,
) -> list[JournalLine]:
    """Lines in the document and the company currency, carrying their entry's date and kind."""
    return [
        JournalLine(
            entry_id=None,  # the caller's entry; given, so that bulk postings skip the field's default lookup
            account_id=accounts[posting.role],
            customer_id=posting.customer_id,
            item_id=posting.item_id,
            posted_on=posted_on,
            entry_kind=entry_kind,
            currency=currency,
            amount=posting.amount,
            amount_company=amount_company,
        )
        for posting, amount_company in company_amounts(postings, rate)
    ]


def company_amounts(postings: list[Posting], rate: Decimal) -> list[tuple[Posting, Decimal]]:
    """The postings that move money, each with its amount in the company currency. Converting each may
    leave a rounding cent; it goes to the largest line after the first, so the entry balances in both
    currencies."""
    if sum((posting.amount for posting in postings), ZERO) != ZERO:
        raise LedgerOutOfBalance(f"Debits and credits differ: {[(p.role, p.amount) for p in postings]}")
    if any(posting.role == AccountRole.RECEIVABLE and posting.amount and not posting.item_id for posting in postings):
        raise ReceivableWithoutItem("Each receivable posting names its open item, so aging can tell what is open.")
    home = company_currency()
    moving = [posting for posting in postings if posting.amount != ZERO]
    converted = [quantize(posting.amount * rate, home) for posting in moving]
    difference = sum(converted, ZERO)
    if difference and len(moving) > 1:
        largest = max(range(1, len(moving)), key=lambda index: abs(moving[index].amount))
        converted[largest] -= difference
    return list(zip(moving, converted, strict=True))


def account_ids() -> dict[str, int]:
    return dict(LedgerAccount.objects.values_list("role", "pk"))


def post_entry(
    *,
    kind: str,
    posted_on: date,
    memo: str,
    postings: list[Posting],
    currency: str,
    actor: User,
    rate: Decimal = Decimal(1),
    item: OpenItem | None = None,
    source: str = "",
) -> JournalEntry:
    """Post one balanced journal entry; call inside the business action's transaction."""
    lines = journal_lines(
        postings=postings, currency=currency, rate=rate, accounts=account_ids(), posted_on=posted_on, entry_kind=kind
    )
    entry = JournalEntry.objects.create(
        posted_on=posted_on, kind=kind, memo=memo[:300], item=item, source=source, created_by=actor
    )
    for line in lines:
        line.entry = entry
    JournalLine.objects.bulk_create(lines)
    return entry


@dataclass(frozen=True)
class EntryToPost:
    """One entry of a batch for `post_entries`: what `post_entry` takes for a single one."""

    kind: str
    posted_on: date
    memo: str
    postings: list[Posting]
    currency: str
    rate: Decimal = Decimal(1)
    item_id: int | None = None
    source: str = ""


JOURNAL_ENTRY_FIELDS = ("id", "posted_on", "kind", "memo", "item", "source", "created_by", "created_at")
JOURNAL_LINE_FIELDS = (
    "entry",
    "posted_on",
    "entry_kind",
    "account",
    "customer",
    "item",
    "currency",
    "amount",
    "amount_company",
)


def post_entries(*, entries: list[EntryToPost], actor: User, accounts: dict[str, int], now: datetime) -> list[int]:
    """Post many balanced entries in a fixed handful of statements, for set-based paths such as bulk
    invoicing: the entries' ids are taken from their sequence in one query, then entries and lines are
    written with COPY, as plain rows (a model instance per line cost more than writing it); the balance
    trigger checks each entry at commit, as for `post_entry`. Call inside the business action's
    transaction. Returns the entries' ids, in the order given."""
    if not entries:
        return []
    ids = next_ids(JournalEntry, len(entries))
    entry_rows, line_rows = [], []
    for entry_id, entry in zip(ids, entries, strict=True):
        entry_rows.append(
            (entry_id, entry.posted_on, entry.kind, entry.memo[:300], entry.item_id, entry.source, actor.pk, now)
        )
        line_rows += [
            (
                entry_id,
                entry.posted_on,
                entry.kind,
                accounts[posting.role],
                posting.customer_id,
                posting.item_id,
                entry.currency,
                posting.amount,
                amount_company,
            )
            for posting, amount_company in company_amounts(entry.postings, entry.rate)
        ]
    copy_values(JournalEntry, JOURNAL_ENTRY_FIELDS, entry_rows)
    copy_values(JournalLine, JOURNAL_LINE_FIELDS, line_rows)
    return ids


@transaction.atomic
def reverse_entry(*, entry: JournalEntry, actor: User, reason: str, posted_on: date | None = None) -> JournalEntry:
    """Undo an entry by posting its mirror image; the original stays as it was."""
    if not reason.strip():
        raise InvalidInput("A reversal needs a reason.", fields={"reason": ["This field is required."]})
    reversal = JournalEntry.objects.create(
        posted_on=posted_on or timezone.localdate(),
        kind=EntryKind.REVERSAL,
        memo=f"Reversal of JE-{entry.pk}: {reason.strip()}"[:300],
        item_id=entry.item_id,
        source=entry.source,
        reverses=entry,
        created_by=actor,
    )
    JournalLine.objects.bulk_create(
        [
            JournalLine(
                entry=reversal,
                account_id=line.account_id,
                customer_id=line.customer_id,
                item_id=line.item_id,
                posted_on=reversal.posted_on,
                entry_kind=reversal.kind,
                currency=line.currency,
                amount=-line.amount,
                amount_company=-line.amount_company,
            )
            for line in entry.lines.all()
        ]
    )
    return reversal
