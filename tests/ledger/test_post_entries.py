"""Posting a batch of entries (the set-based path bulk invoicing takes) writes what posting them one by
one writes: balanced entries with their lines in both currencies, or nothing when one does not balance."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from ledger.errors import LedgerOutOfBalance
from ledger.models import AccountRole, EntryKind, JournalEntry, JournalLine
from ledger.selectors import ledger_problems
from ledger.services import EntryToPost, Posting, account_ids, post_entries

D = Decimal


def _fee(amount: str, *, currency: str = "EUR", rate: str = "1", cash: str | None = None) -> EntryToPost:
    return EntryToPost(
        kind=EntryKind.FEE,
        posted_on=date(2026, 3, 31),
        memo=f"Bank fee {amount} {currency}",
        postings=[Posting(AccountRole.BANK_FEES, D(amount)), Posting(AccountRole.CASH, -D(cash or amount))],
        currency=currency,
        rate=D(rate),
    )


def test_a_batch_of_entries_is_posted_with_its_lines_in_both_currencies(clerk):
    post_entries(
        entries=[_fee("2.50"), _fee("10.00", currency="USD", rate="0.9137")],
        actor=clerk,
        accounts=account_ids(),
        now=timezone.now(),
    )

    entries = list(JournalEntry.objects.order_by("pk"))
    assert [(entry.memo, entry.created_by_id) for entry in entries] == [
        ("Bank fee 2.50 EUR", clerk.pk),
        ("Bank fee 10.00 USD", clerk.pk),
    ]
    lines = JournalLine.objects.order_by("pk").values_list("entry_id", "currency", "amount", "amount_company")
    assert list(lines) == [
        (entries[0].pk, "EUR", D("2.50"), D("2.50")),
        (entries[0].pk, "EUR", D("-2.50"), D("-2.50")),
        (entries[1].pk, "USD", D("10.00"), D("9.14")),
        (entries[1].pk, "USD", D("-10.00"), D("-9.14")),
    ]
    assert ledger_problems() == []


def test_a_batch_with_an_entry_that_does_not_balance_writes_nothing(clerk):
    with pytest.raises(LedgerOutOfBalance), transaction.atomic():
        post_entries(
            entries=[_fee("2.50"), _fee("3.00", cash="2.99")], actor=clerk, accounts=account_ids(), now=timezone.now()
        )

    assert not JournalEntry.objects.exists()
    assert not JournalLine.objects.exists()
