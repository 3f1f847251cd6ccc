"""An open item knows since when nothing is open on it (`settled_on`), kept by a trigger on the journal
lines whatever path posts them; reports as of a date read only the items not settled by then, and stay
exact to the cent for any past date after later payments, reversals and back-dated postings."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.selectors.receivables import aging_report
from ledger.models import AccountRole, EntryKind, ItemKind, JournalEntry, OpenItem
from ledger.selectors import item_balances, ledger_problems
from ledger.services import (
    EntryToPost,
    Posting,
    account_ids,
    create_open_items,
    open_item,
    post_entries,
    post_entry,
    reverse_entry,
)

D = Decimal
pytestmark = pytest.mark.django_db


def _item(customer, number: int, issued_on: date = date(2026, 1, 10)) -> OpenItem:
    (item,) = create_open_items(
        items=[
            open_item(
                customer_id=customer.pk,
                kind=ItemKind.INVOICE,
                document_id=number,
                reference=f"INV-{number}",
                currency="EUR",
                issued_on=issued_on,
                due_on=date(2026, 2, 9),
            )
        ]
    )
    return item


def _invoiced(item: OpenItem, amount: str) -> EntryToPost:
    return EntryToPost(
        kind=EntryKind.INVOICE,
        posted_on=item.issued_on,
        memo=item.reference,
        postings=[
            Posting(AccountRole.RECEIVABLE, D(amount), customer_id=item.customer_id, item_id=item.pk),
            Posting(AccountRole.REVENUE, -D(amount)),
        ],
        currency="EUR",
        item_id=item.pk,
    )


def _paid(item: OpenItem, amount: str, on: date) -> EntryToPost:
    return EntryToPost(
        kind=EntryKind.ALLOCATION,
        posted_on=on,
        memo=f"Payment of {item.reference}",
        postings=[
            Posting(AccountRole.RECEIVABLE, -D(amount), customer_id=item.customer_id, item_id=item.pk),
            Posting(AccountRole.CASH, D(amount)),
        ],
        currency="EUR",
        item_id=item.pk,
    )


def _post(entry: EntryToPost, actor) -> JournalEntry:
    return post_entry(
        kind=entry.kind,
        posted_on=entry.posted_on,
        memo=entry.memo,
        postings=entry.postings,
        currency=entry.currency,
        actor=actor,
        item=OpenItem.objects.get(pk=entry.item_id),
    )


def _aging(on: date) -> list[tuple]:
    return [(*row.buckets.values(), row.unapplied_credit, row.total) for row in aging_report(on=on)]


def _settled_on(item: OpenItem) -> date | None:
    return OpenItem.objects.values_list("settled_on", flat=True).get(pk=item.pk)


def test_aging_of_a_past_date_stays_exact_after_the_item_is_paid(clerk, customer):
    item = _item(customer, 1)
    _post(_invoiced(item, "119.00"), clerk)
    assert _settled_on(item) is None
    _post(_paid(item, "19.00", date(2026, 2, 20)), clerk)
    _post(_paid(item, "100.00", date(2026, 3, 15)), clerk)

    assert _settled_on(item) == date(2026, 3, 15)
    # current, 1-30, 31-60, 61-90, 90+, unapplied credit, total
    assert _aging(date(2026, 2, 1)) == [(D("119.00"), 0, 0, 0, 0, 0, D("119.00"))]
    assert _aging(date(2026, 3, 1)) == [(0, D("100.00"), 0, 0, 0, 0, D("100.00"))]
    assert _aging(date(2026, 3, 14)) == [(0, 0, D("100.00"), 0, 0, 0, D("100.00"))]
    assert _aging(date(2026, 3, 15)) == []
    assert not item_balances(on=date(2026, 6, 30)).exists()
    assert ledger_problems() == []


def test_a_reversal_reopens_the_item_and_past_dates_keep_their_figures(clerk, customer):
    item = _item(customer, 2)
    _post(_invoiced(item, "250.00"), clerk)
    payment = _post(_paid(item, "250.00", date(2026, 3, 1)), clerk)
    assert _settled_on(item) == date(2026, 3, 1)

    reverse_entry(entry=payment, actor=clerk, reason="Bounced", posted_on=date(2026, 3, 20))

    assert _settled_on(item) is None
    assert _aging(date(2026, 2, 28)) == [(0, D("250.00"), 0, 0, 0, 0, D("250.00"))]
    assert _aging(date(2026, 3, 10)) == []
    assert _aging(date(2026, 4, 1)) == [(0, 0, D("250.00"), 0, 0, 0, D("250.00"))]

    _post(_paid(item, "250.00", date(2026, 4, 10)), clerk)

    assert _settled_on(item) == date(2026, 4, 10)
    assert _aging(date(2026, 3, 10)) == []
    assert _aging(date(2026, 4, 1)) == [(0, 0, D("250.00"), 0, 0, 0, D("250.00"))]
    assert _aging(date(2026, 4, 10)) == []
    assert ledger_problems() == []


def test_a_back_dated_posting_moves_or_clears_the_settlement_date(clerk, customer):
    item = _item(customer, 3)
    _post(_invoiced(item, "100.00"), clerk)
    _post(_paid(item, "100.00", date(2026, 3, 15)), clerk)
    # A fee on the item, posted today but dated before the payment: the item is open again.
    post_entry(
        kind=EntryKind.FEE,
        posted_on=date(2026, 3, 1),
        memo="Dunning fee",
        postings=[
            Posting(AccountRole.RECEIVABLE, D("5.00"), customer_id=customer.pk, item_id=item.pk),
            Posting(AccountRole.FEE_INCOME, D("-5.00")),
        ],
        currency="EUR",
        actor=clerk,
        item=item,
    )
    assert _settled_on(item) is None
    assert _aging(date(2026, 3, 10)) == [(0, D("105.00"), 0, 0, 0, 0, D("105.00"))]
    assert _aging(date(2026, 3, 20)) == [(0, 0, D("5.00"), 0, 0, 0, D("5.00"))]

    # The fee's payment, back-dated before the first payment: settled again on the latest date.
    _post(_paid(item, "5.00", date(2026, 3, 5)), clerk)

    assert _settled_on(item) == date(2026, 3, 15)
    assert _aging(date(2026, 3, 3)) == [(0, D("105.00"), 0, 0, 0, 0, D("105.00"))]
    assert _aging(date(2026, 3, 10)) == [(0, D("100.00"), 0, 0, 0, 0, D("100.00"))]
    assert _aging(date(2026, 3, 20)) == []
    assert ledger_problems() == []


def test_bulk_posting_keeps_the_settlement_date_in_the_same_statements(clerk, customer):
    paid, open_, later = _item(customer, 4), _item(customer, 5), _item(customer, 6, issued_on=date(2026, 1, 20))
    post_entries(
        entries=[
            _invoiced(paid, "10.00"),
            _invoiced(open_, "20.00"),
            _invoiced(later, "30.00"),
            _paid(paid, "10.00", date(2026, 2, 1)),
            _paid(open_, "5.00", date(2026, 2, 1)),
        ],
        actor=clerk,
        accounts=account_ids(),
        now=timezone.now(),
    )

    assert dict(OpenItem.objects.values_list("reference", "settled_on")) == {
        "INV-4": date(2026, 2, 1),
        "INV-5": None,
        "INV-6": None,
    }
    assert _aging(date(2026, 1, 31)) == [(D("60.00"), 0, 0, 0, 0, 0, D("60.00"))]
    assert _aging(date(2026, 2, 1)) == [(D("45.00"), 0, 0, 0, 0, 0, D("45.00"))]

    post_entries(
        entries=[_paid(open_, "15.00", date(2026, 2, 5)), _paid(later, "30.00", date(2026, 1, 25))],
        actor=clerk,
        accounts=account_ids(),
        now=timezone.now(),
    )

    assert dict(OpenItem.objects.values_list("reference", "settled_on")) == {
        "INV-4": date(2026, 2, 1),
        "INV-5": date(2026, 2, 5),
        "INV-6": date(2026, 1, 25),
    }
    assert _aging(date(2026, 2, 1)) == [(D("15.00"), 0, 0, 0, 0, 0, D("15.00"))]
    assert _aging(date(2026, 2, 5)) == []
    assert ledger_problems() == []


@pytest.mark.ledger_broken
def test_a_settlement_date_that_disagrees_with_the_lines_is_a_ledger_problem(clerk, customer):
    item = _item(customer, 7)
    _post(_invoiced(item, "10.00"), clerk)
    _post(_paid(item, "10.00", date(2026, 2, 1)), clerk)
    OpenItem.objects.filter(pk=item.pk).update(settled_on=date(2026, 1, 31))

    assert ledger_problems() == ["INV-7 is marked settled on 2026-01-31, its lines say 2026-02-01."]
