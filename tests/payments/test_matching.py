from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum import iso11649

from customers import services as customers
from invoicing.models import InvoiceStatus
from payments.cash_application.auto_apply import apply_proposal, auto_apply
from payments.cash_application.matching import BankLine, propose_matches, rf_reference
from payments.models import Allocation, Payment
from payments.money.services import unallocate
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
BUYER_IBAN = "DE89 3704 0044 0532 0130 00"
OTHER_IBAN = "DE02120300000000202051"
STRANGER_IBAN = "DE44500105175407324931"


def line(amount: str, remittance: str = "", *, reference: str = "", iban: str = "", name: str = "", **more) -> BankLine:
    return BankLine(
        amount=D(amount),
        currency="EUR",
        booking_date=date(2026, 3, 2),
        remittance=remittance,
        structured_reference=reference,
        payer_iban=iban,
        payer_name=name,
        **more,
    )


def best(bank_line: BankLine):
    proposals = propose_matches([bank_line])[0]
    assert proposals, "no proposal"
    return proposals[0]


def with_bank_account(customer, iban: str, clerk, approver):
    """Bank accounts are added by change request and approved by a second person."""
    request = customers.request_bank_account(
        customer=customer, actor=clerk, holder_name=customer.legal_name, iban=iban, reason="seen on a statement"
    )
    customers.approve_change_request(change_request=request, actor=approver)
    return customer


@pytest.fixture
def buyer_account(buyer, clerk, approver):
    return with_bank_account(buyer, BUYER_IBAN, clerk, approver)


@pytest.fixture
def other_customer(clerk, approver):
    return with_bank_account(
        CustomerFactory(actor=clerk, legal_name="Südwind Logistik AG"), OTHER_IBAN, clerk, approver
    )


def transposed(number: str) -> str:
    """The number with its last two digits swapped (they differ in the fixtures' numbers)."""
    assert number[-1] != number[-2]
    return number[:-2] + number[-1] + number[-2]


def test_an_invoice_number_in_the_remittance_text_with_the_exact_amount_is_proposed(invoices):
    first, _ = invoices

    proposal = best(line("119.00", f"Rechnung {first.number} vielen Dank"))

    assert (proposal.customer_id, proposal.invoice_ids, proposal.amounts) == (
        first.customer_id,
        (first.pk,),
        (D("119.00"),),
    )
    assert proposal.reasons == (f"invoice number {first.number} in remittance text", "amount equal to open amount")
    assert (proposal.confidence, proposal.difference, proposal.write_off) == (0.9, D("0.00"), False)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda number: transposed(number), id="two digits swapped"),
        pytest.param(lambda number: number.replace("-", " ", 1).replace("-", "", 1).lower(), id="separators off"),
    ],
)
def test_an_invoice_number_with_a_small_typo_is_found(invoices, typed):
    first, _ = invoices

    proposal = best(line("119.00", f"RE {typed(first.number)}", name="Nordwind Handel GmbH"))

    assert proposal.invoice_ids == (first.pk,)
    assert proposal.confidence >= 0.9
    assert "payer name matches customer" in proposal.reasons


def test_an_invoice_number_with_ocr_letter_digit_swaps_is_read_as_the_number(invoices):
    first, _ = invoices
    year, sequence = first.number[4:8], first.number[9:]
    scanned = f"INV-{year.replace('0', 'O').replace('2', 'Z')}-{sequence.replace('0', 'O').replace('1', 'I')}"
    assert scanned != first.number

    proposal = best(line("119.00", f"Rechnung {scanned.lower()} Danke"))

    assert (proposal.invoice_ids, proposal.amounts) == ((first.pk,), (D("119.00"),))
    assert proposal.reasons[0] == f"invoice number {first.number} in remittance text"


def test_letters_outside_an_invoice_number_are_not_read_as_digits(invoices):
    assert propose_matches([line("119.00", "INVOISBZ 2OIS order SOBZ")])[0] == []


def test_a_typo_is_found_among_all_open_invoices_when_the_payer_is_unknown(invoices):
    _, second = invoices

    proposal = best(line("238.00", transposed(second.number)))

    assert proposal.invoice_ids == (second.pk,)
    assert (
        proposal.reasons[0]
        == f"{transposed(second.number)} in remittance text is one typo away from invoice number {second.number}"
    )
    assert proposal.confidence == 0.75


def test_an_rf_creditor_reference_points_at_its_invoice(invoices):
    _, second = invoices
    reference = rf_reference(second.number)

    proposal = best(line("238.00", reference=iso11649.format(reference)))

    assert iso11649.is_valid(reference)
    assert reference.endswith(second.number.replace("-", ""))
    assert proposal.invoice_ids == (second.pk,)
    assert proposal.reasons[0] == f"creditor reference {reference} of invoice {second.number} in structured reference"


def test_a_known_iban_and_the_exact_amount_propose_the_invoice_but_not_surely(invoices, buyer_account):
    _, second = invoices

    proposal = best(line("238.00", "Zahlung", iban=BUYER_IBAN))

    assert proposal.invoice_ids == (second.pk,)
    assert proposal.reasons == ("amount equal to open amount", "payer IBAN belongs to customer")
    assert proposal.confidence == 0.55


def test_the_payer_name_and_a_sum_of_two_open_invoices_propose_both(invoices):
    first, second = invoices

    proposal = best(line("357.00", "Sammelzahlung", name="NORDWIND HANDEL GMBH"))

    assert (proposal.invoice_ids, proposal.amounts) == ((first.pk, second.pk), (D("119.00"), D("238.00")))
    assert proposal.reasons == ("amount equal to the sum of 2 open invoices", "payer name matches customer")


def test_an_amount_short_by_a_fee_within_tolerance_is_written_off(invoices, buyer_account, clerk):
    first, _ = invoices
    bank_line = line("116.50", f"{first.number}", iban=BUYER_IBAN)

    proposal = best(bank_line)
    payment = apply_proposal(line=bank_line, proposal=proposal, actor=clerk)

    assert (proposal.write_off, proposal.difference, proposal.amounts) == (True, D("-2.50"), (D("116.50"),))
    assert "amount 2.50 EUR below open amount, within the write-off tolerance (fee or discount)" in proposal.reasons
    first.refresh_from_db()
    allocation = payment.allocations.get()
    assert (first.status, allocation.amount, allocation.write_off_amount) == (
        InvoiceStatus.PAID,
        D("116.50"),
        D("2.50"),
    )


def test_an_unknown_payer_without_reference_gets_no_proposal(invoices):
    assert propose_matches([line("999.99", "Danke", iban=STRANGER_IBAN, name="Unbekannt AG")]) == {0: []}


def test_conflicting_evidence_lowers_the_confidence(invoices, other_customer):
    first, _ = invoices

    plain = best(line("119.00", first.number))
    conflicting = best(line("119.00", first.number, iban=OTHER_IBAN))

    assert conflicting.invoice_ids == (first.pk,)
    assert conflicting.confidence < plain.confidence
    assert "payer IBAN belongs to another customer" in conflicting.reasons


def test_auto_apply_applies_the_clear_lines_and_queues_the_rest(invoices, buyer_account, clerk):
    first, second = invoices
    lines = [
        line("119.00", f"Invoice {first.number}", iban=BUYER_IBAN, line_id=7),
        line("238.00", "no reference", iban=BUYER_IBAN),
        line("50.00", "Spende", name="Unbekannt AG"),
    ]

    result = auto_apply(lines, actor=clerk)

    [(index, payment, proposal)] = result.applied
    assert (index, proposal.invoice_ids, payment.external_id) == (0, (first.pk,), "bank-line:7")
    assert [(index, bool(proposals)) for index, proposals in result.queued] == [(1, True), (2, False)]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (InvoiceStatus.PAID, InvoiceStatus.ISSUED)
    assert Payment.objects.count() == 1

    unallocate(allocation=payment.allocations.get(), actor=clerk, reason="wrong customer")
    first.refresh_from_db()
    assert (first.status, first.open_amount) == (InvoiceStatus.ISSUED, D("119.00"))


def test_a_line_that_fails_to_apply_is_queued_and_the_others_stay_applied(invoices, buyer_account, clerk):
    first, _ = invoices
    twice = line("119.00", first.number, iban=BUYER_IBAN)

    result = auto_apply([twice, twice], actor=clerk)

    assert [index for index, _, _ in result.applied] == [0]
    assert [index for index, _ in result.queued] == [1]
    assert Allocation.objects.get().invoice_id == first.pk
    assert Payment.objects.count() == 1


def test_proposing_takes_as_many_queries_for_50_lines_as_for_5(invoices, buyer_account, other_customer):
    first, second = invoices
    kinds = [
        line("119.00", first.number, iban=BUYER_IBAN),
        line("238.00", transposed(second.number), name="Nordwind Handel"),
        line("357.00", "", name="Nordwind Handel GmbH"),
        line("119.00", reference=rf_reference(first.number), iban=OTHER_IBAN),
        line("12.34", "INV-2026-999999", iban=STRANGER_IBAN, name="Unbekannt AG"),
    ]

    def queries(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            proposals = propose_matches([kinds[i % len(kinds)] for i in range(count)])
        assert len(proposals) == count
        return len(captured)

    assert queries(5) == queries(50) <= 6
