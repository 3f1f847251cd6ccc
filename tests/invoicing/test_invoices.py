from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from invoicing import services
from invoicing.errors import AlreadyInvoiced, InvoiceNotDraft
from invoicing.models import Invoice, InvoicedShipment, InvoiceLine, InvoiceStatus, NumberSeries, TaxBreakdown
from ledger.models import AccountRole, JournalEntry, JournalLine
from ledger.services import account_ids
from orders import services as orders
from orders.selectors import customer_exposure
from otc.errors import InvalidInput
from otc.exchange_rates import MissingExchangeRate
from otc.models import ExchangeRate
from tests.factories import ship

pytestmark = pytest.mark.django_db
D = Decimal


def ledger_of(invoice) -> dict[str, Decimal]:
    return {
        line.account.role: line.amount
        for line in JournalLine.objects.filter(entry__item__document_id=invoice.pk).select_related("account")
    }


def test_a_shipment_becomes_a_numbered_issued_invoice_with_a_balanced_posting(clerk, customer, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)

    year = timezone.localdate().year
    assert invoice.number == f"INV-{year}-000001"
    assert (invoice.status, invoice.issue_date, invoice.due_date) == (
        InvoiceStatus.ISSUED,
        timezone.localdate(),
        timezone.localdate() + timedelta(days=30),
    )
    widget_line, manual_line = invoice.lines.order_by("line_no")
    # 12 × 9.00 × (1 − 0.069) = 100.548 -> 100.55 ; 3 × 19.99 × 0.98 = 58.7706 -> 58.77
    assert (widget_line.quantity, widget_line.discount_percent, widget_line.net_amount) == (
        D("12"),
        D("6.9"),
        D("100.55"),
    )
    assert (manual_line.net_amount, manual_line.tax_rate, manual_line.tax_category) == (D("58.77"), D("7"), "S")
    breakdown = {
        (row.tax_rate, row.taxable_amount, row.tax_amount) for row in TaxBreakdown.objects.filter(invoice=invoice)
    }
    assert breakdown == {(D("19"), D("100.55"), D("19.10")), (D("7"), D("58.77"), D("4.11"))}
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total, invoice.open_amount) == (
        D("159.32"),
        D("23.21"),
        D("182.53"),
        D("182.53"),
    )
    assert invoice.po_number == "PO-4711"
    assert invoice.customer_snapshot["legal_name"] == "Nordwind Handel GmbH"
    assert ledger_of(invoice) == {
        AccountRole.RECEIVABLE: D("182.53"),
        AccountRole.TAX_PAYABLE: D("-23.21"),
        AccountRole.REVENUE: D("-159.32"),
    }
    assert customer_exposure(customer=customer).open_receivables == D("182.53")


def test_a_shipment_is_never_invoiced_twice(clerk, shipment):
    services.invoice_shipments(shipments=[shipment], actor=clerk)

    with pytest.raises(AlreadyInvoiced):
        services.invoice_shipments(shipments=[shipment], actor=clerk)

    assert Invoice.objects.count() == 1
    assert NumberSeries.objects.get(code="INV").last_value == 1
    assert JournalEntry.objects.count() == 1


def test_partial_shipments_each_get_their_invoice_and_the_rest_stays_uninvoiced(clerk, confirmed_order):
    first = ship(confirmed_order, clerk, WIDGET="5")
    second = ship(confirmed_order, clerk)

    one = services.invoice_shipments(shipments=[first], actor=clerk)
    two = services.invoice_shipments(shipments=[second], actor=clerk)

    # 5 × 9.00 × 0.931 = 41.895 -> 41.90 ; 7 × 9.00 × 0.931 = 58.653 -> 58.65
    assert [line.net_amount for line in one.lines.all()] == [D("41.90")]
    assert sorted(line.net_amount for line in two.lines.all()) == [D("58.65"), D("58.77")]
    assert [one.number[-6:], two.number[-6:]] == ["000001", "000002"]


def test_issued_documents_lines_and_postings_refuse_changes_in_the_database(clerk, shipment):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)
    line = invoice.lines.first()
    entry = JournalEntry.objects.get(item__document_id=invoice.pk)

    refusals = [
        lambda: Invoice.objects.filter(pk=invoice.pk).update(net_total=D("1.00"), gross_total=D("24.21")),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(customer_snapshot={}),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
        lambda: InvoiceLine.objects.filter(pk=line.pk).update(unit_price=D("0.01")),
        lambda: InvoiceLine.objects.filter(pk=line.pk).delete(),
        lambda: InvoiceLine.objects.create(
            invoice=invoice, line_no=9, description="sneaked in", quantity=1, unit_price=1, tax_rate=0, net_amount=1
        ),
        lambda: TaxBreakdown.objects.filter(invoice=invoice).update(tax_amount=D("0")),
        lambda: JournalEntry.objects.filter(pk=entry.pk).update(memo="edited"),
        lambda: JournalLine.objects.filter(entry=entry).update(amount=D("0.01")),
        lambda: JournalLine.objects.filter(entry=entry).delete(),
    ]
    for refused in refusals:
        with pytest.raises(DatabaseError), transaction.atomic():
            refused()

    invoice.refresh_from_db()
    assert (invoice.net_total, invoice.lines.count(), entry.lines.count()) == (D("159.32"), 2, 3)
    # Settlement columns stay writable for payments and credit notes.
    assert Invoice.objects.filter(pk=invoice.pk).update(open_amount=invoice.open_amount) == 1


def test_an_unbalanced_entry_cannot_commit(clerk):
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        entry = JournalEntry.objects.create(posted_on=date.today(), kind="fee", memo="one-sided", created_by=clerk)
        JournalLine.objects.create(
            entry=entry,
            posted_on=entry.posted_on,
            entry_kind=entry.kind,
            account_id=account_ids()[AccountRole.CASH],
            currency="EUR",
            amount=1,
            amount_company=1,
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_a_failed_issue_gives_its_number_back(clerk, customer):
    line = services.ManualLine(description="Consulting", quantity=D("2"), unit_price=D("100"), tax_rate=D("19"))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.create_manual_invoice(customer=customer, lines=[line], actor=clerk)
        raise RuntimeError("the connection dropped after numbering")

    invoice = services.create_manual_invoice(customer=customer, lines=[line], actor=clerk)

    assert invoice.number.endswith("-000001")
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("200.00"), D("38.00"), D("238.00"))


def test_a_draft_is_issued_once(clerk, customer):
    line = services.ManualLine(description="Setup fee", quantity=D("1"), unit_price=D("50"), tax_rate=D("19"))
    draft = services.create_manual_invoice(customer=customer, lines=[line], actor=clerk, issue=False)
    assert (draft.status, draft.number) == (InvoiceStatus.DRAFT, None)
    assert not JournalEntry.objects.exists()

    services.issue_invoice(invoice=draft, actor=clerk)
    with pytest.raises(InvoiceNotDraft):
        services.issue_invoice(invoice=draft, actor=clerk)
    with pytest.raises(InvoiceNotDraft):
        services.discard_draft(invoice=draft, actor=clerk)
    assert JournalEntry.objects.count() == 1


def test_a_foreign_currency_invoice_records_the_rate_and_posts_company_amounts(clerk, customer):
    ExchangeRate.objects.create(currency="USD", rate_date=date(2020, 1, 1), rate=D("0.91234567"))
    line = services.ManualLine(description="Support", quantity=D("3"), unit_price=D("33.33"), tax_rate=D("19"))

    invoice = services.create_manual_invoice(customer=customer, lines=[line], actor=clerk, currency="USD")

    assert (invoice.currency, invoice.exchange_rate, invoice.gross_total) == ("USD", D("0.91234567"), D("118.99"))
    lines = JournalLine.objects.filter(entry__item__document_id=invoice.pk)
    company = dict(lines.values_list("account__role", "amount_company"))
    # 118.99 × 0.91234567 = 108.56 ; tax 19.00 × rate = 17.33 ; revenue takes the rest: -91.23
    assert company == {
        AccountRole.RECEIVABLE: D("108.56"),
        AccountRole.TAX_PAYABLE: D("-17.33"),
        AccountRole.REVENUE: D("-91.23"),
    }
    assert customer_exposure(customer=customer).open_receivables == D("108.56")


def test_a_missing_exchange_rate_is_a_clear_error_and_writes_nothing(clerk, customer):
    line = services.ManualLine(description="Support", quantity=D("1"), unit_price=D("10"), tax_rate=D("19"))

    with pytest.raises(MissingExchangeRate, match="No exchange rate for CHF"):
        services.create_manual_invoice(customer=customer, lines=[line], actor=clerk, currency="CHF")

    assert not Invoice.objects.exists()
    assert not NumberSeries.objects.filter(last_value__gt=0).exists()


def test_a_supply_not_subject_to_vat_is_invoiced_alone_and_without_a_rate(clerk, customer):
    outside = services.ManualLine(
        description="Damages", quantity=D("1"), unit_price=D("500"), tax_rate=D("0"), tax_category="O"
    )
    taxed = services.ManualLine(description="Support", quantity=D("1"), unit_price=D("10"), tax_rate=D("19"))
    with_rate = services.ManualLine(
        description="Damages", quantity=D("1"), unit_price=D("500"), tax_rate=D("19"), tax_category="O"
    )

    with pytest.raises(InvalidInput, match="cannot share an invoice with other VAT categories"):
        services.create_manual_invoice(customer=customer, lines=[outside, taxed], actor=clerk)
    with pytest.raises(InvalidInput, match="has no VAT rate"):
        services.create_manual_invoice(customer=customer, lines=[with_rate], actor=clerk)
    assert not Invoice.objects.exists()

    invoice = services.create_manual_invoice(customer=customer, lines=[outside], actor=clerk)

    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("500.00"), D("0.00"), D("500.00"))
    assert list(invoice.tax_breakdown.values_list("tax_category", "taxable_amount")) == [("O", D("500.00"))]


def test_weekly_customers_get_one_invoice_for_the_week_and_a_rerun_adds_nothing(clerk, customer, confirmed_order):
    from customers.services import update_preferences

    update_preferences(customer=customer, actor=clerk, data={"invoicing_schedule": "weekly"})
    first = ship(confirmed_order, clerk, WIDGET="5")
    second = ship(confirmed_order, clerk)
    next_monday = timezone.localdate() + timedelta(days=7 - timezone.localdate().weekday())

    assert services.invoice_consolidated_shipments(actor=clerk, today=timezone.localdate()) == []
    invoices = services.invoice_consolidated_shipments(actor=clerk, today=next_monday)
    again = services.invoice_consolidated_shipments(actor=clerk, today=next_monday)

    assert len(invoices) == 1
    assert again == []
    assert set(InvoicedShipment.objects.values_list("shipment_id", flat=True)) == {first.pk, second.pk}
    assert invoices[0].lines.count() == 3


def test_a_dispatched_shipment_is_invoiced_now_only_for_per_shipment_customers_and_once(
    clerk, customer, confirmed_order
):
    from customers.services import update_preferences

    first = ship(confirmed_order, clerk, WIDGET="5")
    invoice = services.invoice_shipment_if_due(shipment_id=first.pk, customer_id=customer.pk, actor=clerk)
    again = services.invoice_shipment_if_due(shipment_id=first.pk, customer_id=customer.pk, actor=clerk)
    update_preferences(customer=customer, actor=clerk, data={"invoicing_schedule": "weekly"})
    second = ship(confirmed_order, clerk)
    weekly = services.invoice_shipment_if_due(shipment_id=second.pk, customer_id=customer.pk, actor=clerk)

    assert (invoice.status, again, weekly) == ("issued", None, None)
    assert list(InvoicedShipment.objects.values_list("shipment_id", "invoice_id")) == [(first.pk, invoice.pk)]


@pytest.mark.ledger_broken
def test_verify_ledger_exits_non_zero_when_receivables_and_open_items_disagree(clerk, shipment, capsys):
    invoice = services.invoice_shipments(shipments=[shipment], actor=clerk)
    call_command("verify_ledger")
    assert "The ledger verifies" in capsys.readouterr().out

    Invoice.objects.filter(pk=invoice.pk).update(open_amount=D("100.00"))
    with pytest.raises(SystemExit) as exited:
        call_command("verify_ledger")

    assert exited.value.code == 1
    assert "receivable 182.5300 EUR but open items 100.0000 EUR" in capsys.readouterr().err


def test_the_daily_job_invoices_a_per_shipment_customers_shipment_its_event_left_behind(clerk, confirmed_order):
    yesterday = timezone.now() - timedelta(days=1)
    left_behind = orders.dispatch_shipment(order=confirmed_order, actor=clerk, dispatched_at=yesterday)

    (invoice,) = services.invoice_consolidated_shipments(actor=clerk)

    assert InvoicedShipment.objects.get(shipment=left_behind).invoice == invoice
    assert services.invoice_consolidated_shipments(actor=clerk) == []
