"""A small book of receivables with known dates, computed by hand in the tests (terms 30 days, no VAT):

| invoice | customer | amount | issued     | due        | settled                               |
|---------|----------|--------|------------|------------|---------------------------------------|
| I6      | Bora (FR)|  400   | 2025-11-15 | 2025-12-15 | open                                  |
| I4      | Bora     |  800   | 2026-01-05 | 2026-02-04 | open; 200 disputed from 2026-03-15    |
| I1      | Alba (DE)| 1000   | 2026-01-10 | 2026-02-09 | 1000 on 2026-02-19                    |
| I2      | Alba     |  500   | 2026-02-15 | 2026-03-17 | 200 on 2026-03-10, 300 open           |
| I3      | Bora     | 2000   | 2026-03-01 | 2026-03-31 | 1998 + 2.00 written off on 2026-04-20 |
| I5      | Alba     |  300   | 2026-03-20 | 2026-04-19 | open                                  |
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from invoicing.models import Invoice
from service import services as service
from tests.factories import CustomerFactory, invoice_for, settle

D = Decimal


@pytest.fixture
def clock(monkeypatch):
    """clock(day): from now on, today is `day` (noon UTC) for every service that asks."""

    def set_day(day: date) -> None:
        moment = datetime.combine(day, time(12), tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return set_day


@dataclass
class Book:
    alba: object
    bora: object
    invoices: dict[str, Invoice]


@pytest.fixture
def book(clerk, clock, sales_rep) -> Book:
    alba = CustomerFactory(actor=clerk, legal_name="Alba Bau GmbH", country="DE", sales_rep=sales_rep)
    bora = CustomerFactory(actor=clerk, legal_name="Bora SARL", country="FR")
    invoices = {
        "I6": invoice_for(bora, clerk, "400", date(2025, 11, 15)),
        "I4": invoice_for(bora, clerk, "800", date(2026, 1, 5)),
        "I1": invoice_for(alba, clerk, "1000", date(2026, 1, 10)),
        "I2": invoice_for(alba, clerk, "500", date(2026, 2, 15)),
        "I3": invoice_for(bora, clerk, "2000", date(2026, 3, 1)),
        "I5": invoice_for(alba, clerk, "300", date(2026, 3, 20)),
    }
    settle(clerk, clock, invoices["I1"], "1000", date(2026, 2, 19))
    settle(clerk, clock, invoices["I2"], "200", date(2026, 3, 10))
    clock(date(2026, 3, 15))
    service.open_dispute(
        invoice=invoices["I4"], reason="price", description="Agreed price was lower.", actor=clerk, amount=D("200")
    )
    settle(clerk, clock, invoices["I3"], "1998", date(2026, 4, 20), write_off="2.00")
    return Book(alba=alba, bora=bora, invoices=invoices)
