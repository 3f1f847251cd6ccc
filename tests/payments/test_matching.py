import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum import iso11649

from customers import services as customers
from customers.models import Customer
from invoicing.models import InvoiceStatus, NumberSeries
from otc import crypto
from otc.crypto import fingerprint
from otc.document_numbers import creditor_reference, near_digits, number_digits
from payments.cash_application import matching
from payments.cash_application.auto_apply import apply_proposal, auto_apply_threshold, clear_winner
from payments.cash_application.matching import BankLine, Proposal, propose_matches
from payments.cash_application.services import reconcile_statement
from payments.models import Allocation, Payment
from payments.money.services import unallocate
from tests import factories
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


@dataclass(frozen=True)
class Applied:
    """What the reconciliation applied a line to, read back from its payment and line."""

    customer_id: int
    invoice_ids: tuple[int, ...]
    amounts: tuple[Decimal, ...]
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Reconciled:
    applied: list[tuple[int, Payment, Applied]]  # (index of the line, its payment, what it paid)
    queued: list[tuple[int, list[Proposal]]]  # (index of the line, its proposals)


def reconciled(lines: list[BankLine], clerk) -> Reconciled:
    """The lines as one imported statement, reconciled as an upload is (matched once, booked set-based)."""
    statement = factories.imported_statement(
        clerk,
        (
            {
                "amount": bank_line.amount,
                "counterparty_name": bank_line.payer_name,
                "counterparty_iban": iban or None,
                "counterparty_iban_fingerprint": fingerprint(iban) if iban else "",
                "remittance_information": bank_line.remittance,
                "structured_reference": bank_line.structured_reference,
            }
            for bank_line in lines
            for iban in [bank_line.payer_iban.replace(" ", "").upper()]
        ),
        statement_id=uuid.uuid4().hex[:12],
        booked_on=lines[0].booking_date,
    )
    result = reconcile_statement(statement=statement, actor=clerk)
    applied = []
    for line in sorted(result.applied, key=lambda line: line.line_no):
        allocations = list(Allocation.objects.filter(payment_id=line.payment_id).order_by("pk"))
        paid = Applied(
            customer_id=line.payment.customer_id,
            invoice_ids=tuple(allocation.invoice_id for allocation in allocations),
            amounts=tuple(allocation.amount for allocation in allocations),
            confidence=line.match_confidence,
            reasons=tuple(line.match_reasons),
        )
        applied.append((line.line_no - 1, line.payment, paid))
    queued = [(line.line_no - 1, result.proposals.get(line.pk, [])) for line in result.queued]
    return Reconciled(applied, sorted(queued, key=lambda item: item[0]))


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


def test_last_years_number_is_not_taken_for_a_typo_of_this_years(invoices, buyer_account, clerk):
    first, _ = invoices
    year = int(first.number[4:8])
    last_years = f"INV-{year - 1}-{first.number[9:]}"

    proposals = propose_matches([line("119.00", f"Rechnung {last_years}", iban=BUYER_IBAN)])[0]
    result = reconciled([line("119.00", f"Rechnung {last_years}", iban=BUYER_IBAN)], clerk)

    assert not any("typo" in reason for proposal in proposals for reason in proposal.reasons)
    assert proposals[0].confidence < 0.9, "only the payer and the amount point at this year's invoice"
    assert (result.applied, Payment.objects.count()) == ([], 0)
    assert near_digits(f"{year - 1}000123", this_year=year) & {f"{year}000123"} == set()
    assert f"{year}000123" in near_digits(f"{year + 40}000123", this_year=year), "an impossible year is a typo"


@pytest.mark.parametrize(
    "typed",
    ["2026000123", "2026123", "20261234567", "2025000000", "2027999999", "2020000200", "2099000123", "199900123"],
)
def test_near_digits_are_every_number_one_typo_from_what_was_typed_keeping_a_year_that_can_be_meant(typed):
    def one_typo(text):
        splits = [(text[:i], text[i:]) for i in range(len(text) + 1)]
        left_out = {left + right[1:] for left, right in splits if right}
        too_many = {left + digit + right for left, right in splits for digit in "0123456789"}
        changed = {left + digit + right[1:] for left, right in splits if right for digit in "0123456789"}
        swapped = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
        return left_out | too_many | changed | swapped

    year = typed[:4]
    kept = year if 2000 <= int(year) <= 2027 else ""
    padded = {year + typed[4:].zfill(6)} if len(typed) < 10 else set()
    everywhere = {
        near
        for near in one_typo(typed) | padded
        if near != typed
        and near.startswith("20")
        and near.startswith(kept)
        and (len(near) == 10 or (10 < len(near) <= 12 and near[4] != "0"))
    }

    assert near_digits(typed, this_year=2026) == everywhere


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        ("INV-2026-000123", "2026000123"),
        ("inv 2026/000123\t", "2026000123"),
        ("RE-2026-\u0663\u0664", "2026\u0663\u0664"),
    ],
)
def test_a_numbers_digits_are_its_digits_alone_in_any_script(number, digits):
    assert number_digits(number) == digits


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
    reference = creditor_reference(second.number)

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


def test_reconciliation_applies_the_clear_lines_and_queues_the_rest(invoices, buyer_account, clerk):
    first, second = invoices
    lines = [
        line("119.00", f"Invoice {first.number}", iban=BUYER_IBAN),
        line("238.00", "no reference", iban=BUYER_IBAN),
        line("50.00", "Spende", name="Unbekannt AG"),
    ]

    result = reconciled(lines, clerk)

    [(index, payment, proposal)] = result.applied
    assert (index, proposal.invoice_ids) == (0, (first.pk,))  # statement lines: test_reconciliation_crash.py
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

    result = reconciled([twice, twice], clerk)

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
        line("119.00", reference=creditor_reference(first.number), iban=OTHER_IBAN),
        line("12.34", "INV-2026-999999", iban=STRANGER_IBAN, name="Unbekannt AG"),
    ]

    def queries(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            proposals = propose_matches([kinds[i % len(kinds)] for i in range(count)])
        assert len(proposals) == count
        return len(captured)

    assert queries(5) == queries(50) <= 6


# --- Numbers without prefix or year, read only among the payer's own open invoices -----------------


def invoice_numbered(customer, clerk, number: str, amount: str):
    """An issued invoice of `amount` (no VAT) that gets `number`: its series is set just below it."""
    _, year, sequence = number.split("-")
    NumberSeries.objects.update_or_create(code="INV", year=int(year), defaults={"last_value": int(sequence) - 1})
    invoice = factories.invoice_for(customer, clerk, amount, date(int(year), 3, 1))
    assert invoice.number == number
    return invoice


@pytest.fixture
def payer_books(buyer_account, other_customer, clerk):
    """The buyer's INV-2024-001825 (1,250.00) and INV-2025-015020 (480.00); the other customer's
    INV-2025-001825 (1,250.00) and INV-2025-000777 (90.00)."""
    return {
        "1825": invoice_numbered(buyer_account, clerk, "INV-2024-001825", "1250.00"),
        "15020": invoice_numbered(buyer_account, clerk, "INV-2025-015020", "480.00"),
        "theirs 1825": invoice_numbered(other_customer, clerk, "INV-2025-001825", "1250.00"),
        "theirs 777": invoice_numbered(other_customer, clerk, "INV-2025-000777", "90.00"),
    }


@pytest.mark.parametrize(
    ("remittance", "reference", "amount", "invoice", "reason"),
    [
        ("1825", "", "1250.00", "1825", "number 1825 in remittance text, without prefix and year"),
        ("Rg 2024-1825 Kd-Nr. 10077", "", "1250.00", "1825", "number 2024-1825 in remittance text, without prefix"),
        ("factuur 015020", "", "480.00", "15020", "number 15020 in remittance text, without prefix and year"),
        ("RECHNUNG NR. 15020 VOM 03.02.2025 ABZGL. 0,00", "", "480.00", "15020", "number 15020 in remittance"),
        ("", "15020", "480.00", "15020", "number 15020 in structured reference, without prefix and year"),
    ],
)
def test_a_number_without_prefix_or_year_is_applied_to_the_payers_own_invoice(
    payer_books, clerk, remittance, reference, amount, invoice, reason
):
    meant = payer_books[invoice]
    bank_line = line(amount, remittance, reference=reference, iban=BUYER_IBAN)

    result = reconciled([bank_line], clerk)

    [(_, payment, proposal)] = result.applied
    assert (proposal.customer_id, proposal.invoice_ids, proposal.amounts) == (
        meant.customer_id,
        (meant.pk,),
        (D(amount),),
    )
    assert proposal.reasons[0].startswith(reason)
    assert proposal.reasons[0].endswith(f"is the payer's open invoice {meant.number}")
    assert proposal.confidence >= 0.95
    meant.refresh_from_db()
    assert (meant.status, meant.open_amount) == (InvoiceStatus.PAID, D("0.00"))
    assert Allocation.objects.get().payment == payment


def test_two_numbers_without_prefix_settle_both_invoices_when_the_amount_is_their_total(payer_books, clerk):
    proposal = best(line("1730.00", "Rg 1825 u. 15020", iban=BUYER_IBAN))

    assert proposal.invoice_ids == (payer_books["1825"].pk, payer_books["15020"].pk)
    assert proposal.amounts == (D("1250.00"), D("480.00"))
    assert "amount equal to the open total of 2 invoices" in proposal.reasons
    assert proposal.confidence >= 0.9


def test_a_payer_known_by_name_only_gets_a_number_without_prefix_read(payer_books, clerk):
    result = reconciled([line("480.00", "Factuur 15020", name="Nordwind Handel GmbH")], clerk)

    [(_, _, proposal)] = result.applied
    assert proposal.invoice_ids == (payer_books["15020"].pk,)
    assert proposal.reasons[-1] == "payer name matches customer"


def lines_that_must_not_match() -> list[tuple[str, BankLine, bool]]:
    """(what, line, whether the number is the payer's and may be shown as a reason in the queue)."""
    return [
        ("unknown payer", line("1250.00", "1825", iban=STRANGER_IBAN, name="Unbekannt AG"), False),
        ("no payer at all", line("480.00", "factuur 015020"), False),
        ("another customer's number", line("90.00", "Rechnung 777", iban=BUYER_IBAN), False),
        ("the year is not the invoice's", line("1250.00", "Rg 2025-1825", iban=BUYER_IBAN), False),
        ("paid short beyond the tolerance", line("1000.00", "1825", iban=BUYER_IBAN), True),
        ("paid over", line("1300.00", "1825", iban=BUYER_IBAN), True),
        ("the digits of an amount", line("1250.00", "Betrag EUR 1.825,00", iban=BUYER_IBAN), False),
        ("the end of a purchase order number", line("480.00", "Bestellung 4500015020", iban=BUYER_IBAN), False),
        ("an IBAN in the text", line("1250.00", "von DE12 1825 0000 1234 5678 90", iban=BUYER_IBAN), False),
        ("a name two customers have", line("480.00", "15020", name="Nordwind Handel GmbH"), False),
    ]


def test_numbers_without_prefix_are_never_applied_outside_the_payers_own_invoices_or_amounts(payer_books, clerk):
    cases = lines_that_must_not_match()
    CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")

    result = reconciled([bank_line for _, bank_line, _ in cases], clerk)

    assert result.applied == []
    assert sorted(index for index, _ in result.queued) == list(range(len(cases)))
    for index, proposals in result.queued:
        what, _, may_be_read = cases[index]
        read = [p.invoice_ids for p in proposals if any("without prefix" in reason for reason in p.reasons)]
        assert read == ([(payer_books["1825"].pk,)] if may_be_read else []), what
        assert all(proposal.confidence < 0.9 for proposal in proposals), what
    assert not Payment.objects.exists()
    assert not Allocation.objects.exists()


def test_a_number_without_prefix_fitting_two_of_the_payers_invoices_is_not_applied(payer_books, buyer_account, clerk):
    later = invoice_numbered(buyer_account, clerk, "INV-2026-001825", "1250.00")

    result = reconciled([line("1250.00", "Rechnung 1825", iban=BUYER_IBAN)], clerk)

    assert result.applied == []
    [(_, proposals)] = result.queued
    assert {proposal.invoice_ids for proposal in proposals} == {(payer_books["1825"].pk,), (later.pk,)}
    assert not any("without prefix" in reason for proposal in proposals for reason in proposal.reasons)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda reference: iso11649.format(reference), id="printed in groups of four"),
        pytest.param(lambda reference: reference.lower(), id="lower case, no spaces"),
        pytest.param(lambda reference: iso11649.format(reference).replace(" ", "  ", 2), id="double spaces"),
        pytest.param(lambda reference: f"{iso11649.format(reference)} danke", id="text running on"),
        pytest.param(
            lambda reference: reference[:4] + reference[4:7] + reference[7:].replace("0", "O"), id="OCR O for 0"
        ),
    ],
)
def test_a_line_with_only_the_rf_reference_is_applied_to_its_invoice(invoices, clerk, typed):
    _, second = invoices
    reference = creditor_reference(second.number)

    result = reconciled([line("238.00", typed(reference))], clerk)

    [(_, _, proposal)] = result.applied
    assert proposal.invoice_ids == (second.pk,)
    assert proposal.reasons[0] == f"creditor reference {reference} of invoice {second.number} in remittance text"
    second.refresh_from_db()
    assert second.open_amount == D("0.00")


def test_an_rf_reference_failing_the_check_digits_is_not_taken_for_a_reference(invoices, clerk):
    _, second = invoices
    reference = creditor_reference(second.number)
    wrong = f"RF{(int(reference[2:4]) + 1) % 100:02d}{reference[4:]}"
    elsewhere = "RF18 5390 0754 7034"  # the standard's example: a valid reference of someone else's

    proposals = propose_matches([line("238.00", wrong), line("238.00", elsewhere)])

    assert all("creditor reference" not in reason for p in proposals[0] for reason in p.reasons)
    assert proposals[1] == []


# --- Dense numbering: a one-digit slip lands on another real invoice of the payer ------------------


@pytest.fixture
def neighbours(buyer_account, clerk):
    """The buyer's INV-2026-000120 (300.00) and INV-2026-000210 (450.00): two adjacent digits apart."""
    return (
        invoice_numbered(buyer_account, clerk, "INV-2026-000120", "300.00"),
        invoice_numbered(buyer_account, clerk, "INV-2026-000210", "450.00"),
    )


@pytest.mark.parametrize(
    ("cited", "amount", "paid", "read"),
    [
        pytest.param(
            "INV-2026-000120", "450.00", 1, "INV-2026-000120", id="paying over the cited invoice what its neighbour is"
        ),
        pytest.param(
            "INV-2026-000210",
            "300.00",
            0,
            "INV-2026-000210",
            id="paying short of the cited invoice what its neighbour is",
        ),
        pytest.param("2026-000120", "450.00", 1, "number 2026-120", id="a number without prefix"),
    ],
)
def test_a_number_cited_and_an_amount_paying_its_neighbour_instead_are_left_to_a_clerk(
    neighbours, cited, amount, paid, read
):
    proposals = propose_matches([line(amount, f"Rechnung {cited}", iban=BUYER_IBAN)])[0]

    assert clear_winner(proposals, auto_apply_threshold()) is None
    assert {proposal.invoice_ids for proposal in proposals} >= {(neighbours[0].pk,), (neighbours[1].pk,)}
    assert max(proposal.confidence for proposal in proposals) <= 0.5
    by_amount = next(proposal for proposal in proposals if proposal.invoice_ids == (neighbours[paid].pk,))
    assert by_amount.reasons[-1] == (
        f"{read} cited and the amount point at different open invoices of the customer: a clerk decides"
    )


def test_a_number_cited_whose_amount_is_paid_is_applied_though_a_neighbour_exists(neighbours):
    proposals = propose_matches([line("300.00", "Rechnung INV-2026-000120", iban=BUYER_IBAN)])[0]

    winner = clear_winner(proposals, auto_apply_threshold())
    assert winner is not None
    assert (winner.invoice_ids, winner.amounts, winner.confidence) == ((neighbours[0].pk,), (D("300.00"),), 0.99)


# --- A million invoices a year: sequences of seven digits -----------------------------------------


def test_from_the_millionth_invoice_of_a_year_numbers_are_read_whole_and_their_typos_found(buyer_account, clerk):
    millionth = invoice_numbered(buyer_account, clerk, "INV-2026-1000123", "250.00")

    slipped = best(line("250.00", "Rechnung INV-2026-1000132", iban=BUYER_IBAN))
    exact = reconciled([line("250.00", "Rechnung INV-2026-1000123", iban=BUYER_IBAN)], clerk)

    [(_, _, paid)] = exact.applied
    assert (paid.invoice_ids, paid.amounts) == ((millionth.pk,), (D("250.00"),))
    assert paid.reasons[0] == "invoice number INV-2026-1000123 in remittance text"
    assert slipped.invoice_ids == (millionth.pk,)
    assert (
        slipped.reasons[0]
        == "INV-2026-1000132 in remittance text is one typo away from invoice number INV-2026-1000123"
    )


@pytest.mark.django_db
def test_the_name_lookup_keeps_to_the_prefix_index_in_a_prepared_statements_generic_plan(clerk):
    """A worker's connection prepares the statement and, after five runs, may keep one generic plan: the
    trigram index then answered the equal names at 2 ms a name (350 ms for a batch's 200 prefixes)."""
    first = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH")
    columns = [field.column for field in Customer._meta.concrete_fields if not field.primary_key]
    copied = [{"number": "'K' || n", "name_key": "'nordwind handel ' || n"}.get(column, column) for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(  # two thousand more, for statistics like a real customer table's
            f"INSERT INTO customers_customer ({', '.join(columns)}) SELECT {', '.join(copied)}"
            " FROM customers_customer, generate_series(1, 2000) AS n WHERE id = %s",
            [first.pk],
        )
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(
            "PREPARE customers_by_name (text[], int, text[]) AS "
            + matching.CUSTOMERS_BY_NAME_SQL.replace("%s", "${}").format(1, 2, 3)
        )
        cursor.execute("EXPLAIN EXECUTE customers_by_name ('{nordwind handel 1}', 6, '{nordwind handel, nordwind}')")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE customers_by_name")

    assert plan.count("customer_name_key_prefix") == 2, plan
    assert "trigram" not in plan


# --- Many open invoices per customer: only those the amount can settle are read ------------------------


def test_of_a_customer_with_many_open_invoices_only_the_oldest_and_those_the_amount_pays_are_read(
    buyer_account, clerk, monkeypatch
):
    """Forty open invoices, oldest due first: the amount of the newest is found by its window, a sum of
    the two oldest by the search among the oldest `SUBSET_POOL`; 21 rows are read, not 40."""
    books = [
        factories.invoice_for(buyer_account, clerk, f"{100 + index}.00", date(2026, 1, 1 + index % 28))
        for index in range(40)
    ]
    oldest = sorted(books, key=lambda invoice: (invoice.due_date, invoice.pk))
    read = []
    loaded = matching._open_invoices_paid_by
    monkeypatch.setattr(
        matching,
        "_open_invoices_paid_by",
        lambda wanted: read.append(items := loaded(wanted)) or items,
    )

    newest = best(line(str(oldest[-1].gross_total), "Zahlung", iban=BUYER_IBAN))
    both = best(line(str(oldest[0].gross_total + oldest[1].gross_total), "Sammelzahlung", iban=BUYER_IBAN))

    assert newest.invoice_ids == (oldest[-1].pk,)
    assert newest.reasons == ("amount equal to open amount", "payer IBAN belongs to customer")
    assert both.invoice_ids == (oldest[0].pk, oldest[1].pk)
    [items] = read[0].values()
    assert len(items.by_amount) == matching.SUBSET_POOL + 1
    assert [item.id for item in items.oldest_first] == [invoice.pk for invoice in oldest[: matching.SUBSET_POOL]]


def test_reconciling_reads_the_lines_payer_ibans_by_fingerprint_without_a_query_or_decryption_per_line(
    invoices, clerk, monkeypatch
):
    decrypted = []
    monkeypatch.setattr(
        crypto, "decrypt", lambda token, decrypt=crypto.decrypt: decrypted.append(token) or decrypt(token)
    )

    def queries(count: int) -> int:
        statement = factories.imported_statement(
            clerk,
            (
                {
                    "amount": D("12.34"),
                    "counterparty_name": "Unbekannt AG",
                    "counterparty_iban": STRANGER_IBAN,
                    "counterparty_iban_fingerprint": fingerprint(STRANGER_IBAN),
                    "remittance_information": "Danke",
                }
                for _ in range(count)
            ),
            statement_id=uuid.uuid4().hex[:12],
            booked_on=date(2026, 3, 2),
        )
        with CaptureQueriesContext(connection) as captured:
            result = reconcile_statement(statement=statement, actor=clerk)
        assert len(result.queued) == count
        return len(captured)

    assert queries(2) == queries(10)
    assert decrypted == []


def test_a_customer_found_by_a_typo_alone_has_the_invoices_the_amount_pays_weighed_when_in_view(buyer_account, clerk):
    """The unknown payer's typo names the buyer's oldest invoice, the amount is the newest's (beyond the
    oldest searched for sums): the buyer's invoices the amount pays are read for it (in a second query,
    as the typo is found batch-wide) because another line of the batch brings the buyer into view."""
    books = [
        factories.invoice_for(buyer_account, clerk, f"{100 + index}.00", date(2026, 1, 1 + index))
        for index in range(matching.SUBSET_POOL + 1)
    ]
    oldest, newest = books[0], books[-1]
    assert oldest.number[-4] != "7"
    slipped = oldest.number[:-4] + "7" + oldest.number[-3:]  # one typo from the oldest, two from the others
    typo = line(str(newest.gross_total), f"Rechnung {slipped}", iban=STRANGER_IBAN, name="X")
    buyers_other_payment = line("999.99", "Danke", iban=BUYER_IBAN)

    alone = propose_matches([typo])[0]
    with_buyer_in_view = propose_matches([typo, buyers_other_payment])[0]

    assert {proposal.invoice_ids for proposal in alone} == {(oldest.pk,)}
    assert {proposal.invoice_ids for proposal in with_buyer_in_view} == {(oldest.pk,), (newest.pk,)}
