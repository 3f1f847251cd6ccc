"""Journal lines carry their entry's posting date and kind, so reports as of a date read the lines
alone; the posting and reversal services copy them, and the ledger's checks catch a line that differs."""

from datetime import date
from decimal import Decimal

import pgtrigger
import pytest

from ledger.models import AccountRole, EntryKind, JournalLine
from ledger.selectors import ledger_problems
from ledger.services import Posting, post_entry, reverse_entry


def test_posting_and_reversing_copy_the_entrys_date_and_kind_onto_every_line(clerk):
    entry = post_entry(
        kind=EntryKind.FEE,
        posted_on=date(2026, 3, 31),
        memo="Bank fee",
        postings=[Posting(AccountRole.BANK_FEES, Decimal("2.50")), Posting(AccountRole.CASH, Decimal("-2.50"))],
        currency="EUR",
        actor=clerk,
    )
    reversal = reverse_entry(entry=entry, actor=clerk, reason="Charged twice", posted_on=date(2026, 4, 2))

    lines = JournalLine.objects.order_by("pk").values_list("entry_id", "posted_on", "entry_kind", "amount")
    assert list(lines) == [
        (entry.pk, date(2026, 3, 31), EntryKind.FEE, Decimal("2.50")),
        (entry.pk, date(2026, 3, 31), EntryKind.FEE, Decimal("-2.50")),
        (reversal.pk, date(2026, 4, 2), EntryKind.REVERSAL, Decimal("-2.50")),
        (reversal.pk, date(2026, 4, 2), EntryKind.REVERSAL, Decimal("2.50")),
    ]
    assert ledger_problems() == []


@pytest.mark.ledger_broken
def test_a_line_whose_date_or_kind_differs_from_its_entrys_is_a_ledger_problem(clerk):
    entry = post_entry(
        kind=EntryKind.FEE,
        posted_on=date(2026, 3, 31),
        memo="Bank fee",
        postings=[Posting(AccountRole.BANK_FEES, Decimal("2.50")), Posting(AccountRole.CASH, Decimal("-2.50"))],
        currency="EUR",
        actor=clerk,
    )
    first, second = entry.lines.order_by("pk")
    with pgtrigger.ignore("ledger.JournalLine:journal_line_append_only"):
        JournalLine.objects.filter(pk=first.pk).update(posted_on=date(2026, 4, 1))
        JournalLine.objects.filter(pk=second.pk).update(entry_kind=EntryKind.REFUND)

    assert ledger_problems() == [
        f"JE-{entry.pk}: line {first.pk} does not carry its entry's posting date and kind.",
        f"JE-{entry.pk}: line {second.pk} does not carry its entry's posting date and kind.",
    ]
