from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.models import JournalEntry, JournalLine
from otc.errors import InvalidInput
from payments.cash_application.bank_formats import MalformedStatement
from payments.cash_application.errors import StatementAlreadyImported
from payments.cash_application.statement_import import import_bank_statement
from payments.models import (
    Allocation,
    BankStatement,
    BankStatementLine,
    CompanyBankAccount,
    Payment,
    StatementLineStatus,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_accounts")]
D = Decimal
SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def variant(name: str, old: str, new: str) -> bytes:
    """The sample with one passage changed, so each test shows the one thing wrong with its file."""
    text = sample(name).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def upload(content: bytes, format: str, clerk, filename: str = "statement", **options) -> BankStatement:
    [statement] = import_bank_statement(content=content, filename=filename, format=format, actor=clerk, **options)
    return statement


def lines_of(statement: BankStatement) -> list[tuple]:
    """(amount, payer IBAN or "" when the bank gave none, structured reference, end-to-end id) per line."""
    rows = statement.lines.order_by("line_no").values_list(
        "amount", "counterparty_iban", "structured_reference", "end_to_end_id"
    )
    return [(amount, iban or "", *rest) for amount, iban, *rest in rows]


def test_camt053_v02_imports_each_transaction_of_a_batch_as_its_own_line(clerk):
    statement = upload(sample("camt053_v02.xml"), "camt053", clerk, filename="camt053_v02.xml")

    assert (statement.account_iban, statement.statement_id) == ("DE89370400440532013000", "2024-03-05-DE89")
    assert (statement.period_start, statement.period_end) == (date(2024, 3, 5), date(2024, 3, 5))
    assert (statement.opening_balance, statement.closing_balance) == (D("10000.00"), D("11284.50"))
    assert statement.line_count == 5 == statement.lines.count()
    assert lines_of(statement) == [
        (D("1190.00"), "NL91ABNA0417164300", "RF70INV2024000002", "NW-PAY-8841"),
        (D("119.00"), "BE68539007547034", "", ""),
        (D("238.00"), "FR1420041010050500013M02606", "RF43INV2024000003", "PSST-55120"),
        (D("-250.00"), "DE02120300000000202051", "", "OTC-REFUND-17"),
        (D("-12.50"), "", "", ""),
    ]
    batch_line = statement.lines.get(line_no=2)
    assert batch_line.counterparty_name == "Brasserie du Parc SARL"
    assert batch_line.remittance_information == "Invoice INV-2024-000004 customer 10077"
    assert batch_line.bank_reference == "2024030500002-1"
    assert statement.lines.get(line_no=4).counterparty_name == "Kaffeerösterei Berg KG"
    assert statement.lines.get(line_no=5).remittance_information == "Account maintenance fee February"
    assert set(statement.lines.values_list("status", flat=True)) == {StatementLineStatus.UNMATCHED}
    assert statement.imported_by == clerk


def test_camt053_v08_reads_the_newer_paths_and_takes_the_period_from_the_booking_dates(clerk):
    statement = upload(sample("camt053_v08.xml"), "camt053", clerk)

    assert (statement.account_iban, statement.statement_id) == ("DE12500105170648489890", "053-2024-0068")
    assert (statement.period_start, statement.period_end) == (date(2024, 3, 7), date(2024, 3, 8))
    assert (statement.opening_balance, statement.closing_balance) == (D("2500.00"), D("3599.99"))
    assert statement.line_count == 4
    assert lines_of(statement) == [
        (D("400.00"), "NL91ABNA0417164300", "RF32INV2024000007", "NW-PAY-9012"),
        (D("350.25"), "AT611904300234573201", "", ""),
        (D("249.75"), "ES9121000418450200051332", "", "CX-7730215"),
        (D("99.99"), "CH9300762011623852957", "", ""),
    ]
    first = statement.lines.get(line_no=1)
    assert (first.counterparty_name, first.counterparty_bic) == ("Nordwind Handel GmbH", "ABNANL2A")


def test_mt940_reads_the_german_structured_details_and_falls_back_to_the_raw_text(clerk):
    statement = upload(sample("mt940_de.sta"), "mt940", clerk)

    assert (statement.account_iban, statement.statement_id) == ("DE89370400440532013000", "STARTUMS")
    assert (statement.period_start, statement.period_end) == (date(2024, 3, 4), date(2024, 3, 6))
    assert (statement.opening_balance, statement.closing_balance) == (D("10000.00"), D("11284.50"))
    assert statement.line_count == 5
    assert lines_of(statement) == [
        (D("1190.00"), "NL91ABNA0417164300", "RF70INV2024000002", "NW-PAY-8841"),
        (D("-250.00"), "DE02120300000000202051", "", "OTC-REFUND-17"),
        (D("238.00"), "", "", ""),
        (D("119.00"), "", "", ""),
        (D("-12.50"), "", "", ""),
    ]
    first, _, unstructured, old_account, _ = statement.lines.order_by("line_no")
    assert first.counterparty_name == "Nordwind Handel GmbH"
    assert first.counterparty_bic == "ABNANL2A"
    assert first.remittance_information == "RF70INV2024000002 Rechnung vom 01.02.2024"
    assert first.bank_reference == "2024030500001"
    assert unstructured.remittance_information == "Atelier Lumiere, Paris - facture INV-2024-000003 merci"
    assert (old_account.counterparty_name, old_account.counterparty_bic) == ("Brasserie du Parc SARL", "")


def test_csv_imports_with_the_account_id_and_period_given_at_upload(clerk):
    statement = upload(
        sample("generic.csv"),
        "csv",
        clerk,
        csv_account_iban="DE89 3704 0044 0532 0130 00",
        csv_statement_id="2024-W11",
        csv_period=(date(2024, 3, 11), date(2024, 3, 15)),
    )

    assert (statement.account_iban, statement.statement_id) == ("DE89370400440532013000", "2024-W11")
    assert (statement.period_start, statement.period_end) == (date(2024, 3, 11), date(2024, 3, 15))
    assert (statement.opening_balance, statement.closing_balance) == (None, None)
    assert statement.line_count == 4
    assert lines_of(statement) == [
        (D("1190.00"), "NL91ABNA0417164300", "RF70INV2024000002", ""),
        (D("-250.00"), "DE02120300000000202051", "", ""),
        (D("1234.56"), "", "", ""),
        (D("-0.99"), "", "", ""),
    ]
    assert statement.lines.get(line_no=3).counterparty_name == "Brasserie du Parc, SARL"
    assert statement.lines.get(line_no=1).bank_reference == "BK-240311-01"


def test_csv_without_a_period_spans_its_booking_dates(clerk):
    statement = upload(sample("generic.csv"), "csv", clerk, csv_account_iban="DE89370400440532013000")

    assert (statement.period_start, statement.period_end) == (date(2024, 3, 11), date(2024, 3, 12))
    assert statement.statement_id == "20240311-20240312"


def test_a_statement_imported_again_is_refused_naming_who_and_when_and_nothing_is_written(clerk):
    first = upload(sample("camt053_v02.xml"), "camt053", clerk)
    same_statement_other_file = sample("camt053_v02.xml") + b"\n<!-- downloaded again -->\n"

    with pytest.raises(StatementAlreadyImported) as refused:
        upload(same_statement_other_file, "camt053", clerk)

    assert refused.value.code == "statement_already_imported"
    assert "Statement 2024-03-05-DE89 was imported already" in refused.value.message
    assert "by Clara Clerk" in refused.value.message
    assert list(BankStatement.objects.all()) == [first]
    assert BankStatementLine.objects.count() == 5


def test_the_same_file_is_refused_even_under_another_statement_id(clerk):
    upload(sample("generic.csv"), "csv", clerk, filename="march.csv", csv_account_iban="DE89370400440532013000")

    with pytest.raises(StatementAlreadyImported, match=r"This file was imported already.*march\.csv"):
        upload(sample("generic.csv"), "csv", clerk, csv_account_iban="DE89370400440532013000", csv_statement_id="x")

    assert BankStatement.objects.count() == 1


IBAN = {"csv_account_iban": "DE89370400440532013000"}


@dataclass(frozen=True)
class BadFile:
    """A sample with one passage changed (`old` → `new`; none: the sample as it is), and the error it gets."""

    sample: str
    format: str
    error: str
    old: str = ""
    new: str = ""
    options: dict = field(default_factory=dict)
    refused_with: type[InvalidInput] = MalformedStatement

    def content(self) -> bytes:
        return variant(self.sample, self.old, self.new) if self.old else sample(self.sample)


BAD_FILES = {
    "camt amount with a decimal comma": BadFile(
        "camt053_v02.xml",
        "camt053",
        r"^Ntry\[2\]/Amt: '357,00' is not a decimal amount$",
        '<Amt Ccy="EUR">357.00</Amt>',
        '<Amt Ccy="EUR">357,00</Amt>',
    ),
    "camt amount beyond the currency's minor units": BadFile(
        "camt053_v08.xml",
        "camt053",
        r"^Ntry\[2\]/Amt: 99\.991 has more decimals than EUR allows$",
        '<Amt Ccy="EUR">99.99</Amt>\n        <CdtDbtInd>',
        '<Amt Ccy="EUR">99.991</Amt>\n        <CdtDbtInd>',
    ),
    "camt not well-formed": BadFile(
        "camt053_v02.xml", "camt053", r"^line 131: not well-formed XML", "<NtryRef>3</NtryRef>", "<NtryRef>3</NtryRf>"
    ),
    "camt batch not adding up": BadFile(
        "camt053_v02.xml",
        "camt053",
        r"^Ntry\[2\]: the transactions add up to 356\.00, the entry to 357\.00",
        '<TxAmt><Amt Ccy="EUR">238.00</Amt>',
        '<TxAmt><Amt Ccy="EUR">237.00</Amt>',
    ),
    "camt balances not reconciling": BadFile(
        "camt053_v02.xml",
        "camt053",
        r"^balances: opening 10000\.00 \+ movements 1284\.50 ≠ closing 11200\.00",
        "11284.50",
        "11200.00",
    ),
    "mt940 balances not reconciling": BadFile(
        "mt940_de.sta",
        "mt940",
        r"movements 1284\.50 ≠ closing 11284\.05",
        ":62F:C240306EUR11284,50",
        ":62F:C240306EUR11284,05",
    ),
    "mt940 unreadable statement line": BadFile(
        "mt940_de.sta",
        "mt940",
        r"^line 13: :61: cannot be read",
        ":61:2403060306C238,00NMSC",
        ":61:2403060306X238,00NMSC",
    ),
    "mt940 impossible date": BadFile(
        "mt940_de.sta",
        "mt940",
        r"^line 17: :61: cannot be read \(month must be in 1..12\)",
        ":61:2403060306D12,50",
        ":61:2413060306D12,50",
    ),
    "mt940 bad counterparty IBAN": BadFile(
        "mt940_de.sta",
        "mt940",
        r"^line 6: NL91ABNA0417164301 is not a valid IBAN",
        "?31NL91ABNA0417164300",
        "?31NL91ABNA0417164301",
    ),
    "mt940 account with an anonymised IBAN": BadFile(
        "mt940_de.sta",
        "mt940",
        r"^line 2: DE00370400440532013000 is not a valid IBAN",
        ":25:DE89370400440532013000",
        ":25:DE00370400440532013000",
    ),
    "csv bad counterparty IBAN": BadFile(
        "generic.csv",
        "csv",
        r"^line 3, Counterparty IBAN: DE02120300000000202052 is not a valid",
        "DE02120300000000202051",
        "DE02120300000000202052",
        options=IBAN,
    ),
    "csv line outside the given period": BadFile(
        "generic.csv",
        "csv",
        r"^line 5: booked 2024-03-12, outside the period",
        options={**IBAN, "csv_period": (date(2024, 3, 11), date(2024, 3, 11))},
    ),
    "csv without a layout column": BadFile(
        "generic.csv",
        "csv",
        r"^line 1: no column 'Counterparty IBAN'",
        "Counterparty IBAN,",
        "IBAN,",
        options=IBAN,
    ),
    "csv row with more cells than the header": BadFile(
        "generic.csv",
        "csv",
        r"^line 6: more cells than the 7 in the header",
        "Bank fee,",
        "Bank fee,extra,",
        options=IBAN,
    ),
    "csv account not a valid IBAN": BadFile(
        "generic.csv", "csv", r"IBAN", options={"csv_account_iban": "DE00 1234"}, refused_with=InvalidInput
    ),
    "unknown format": BadFile("generic.csv", "qif", r"^Unknown format 'qif'", refused_with=InvalidInput),
    "camt054 entry count not the control total's": BadFile(
        "camt054_two_notifications.xml",
        "camt054",
        r"^Ntfctn\[1\]/TxsSummry/TtlNtries/NbOfNtries: says 3 entries, the report has 2$",
        "<NbOfNtries>2</NbOfNtries><Sum>1428.00</Sum>",
        "<NbOfNtries>3</NbOfNtries><Sum>1428.00</Sum>",
    ),
    "camt054 debit sum not the control total's": BadFile(
        "camt054_two_notifications.xml",
        "camt054",
        r"^Ntfctn\[2\]/TxsSummry/TtlDbtNtries/Sum: says 12.05, the entries add up to 12.50$",
        "<Sum>12.50</Sum>",
        "<Sum>12.05</Sum>",
    ),
    "camt054 net not the entries'": BadFile(
        "camt054_two_notifications.xml",
        "camt054",
        r"^Ntfctn\[2\]/TxsSummry/TtlNtries/TtlNetNtry: says a net -488.00, the entries net 488.00$",
        "<Amt>488.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>",
        "<Amt>488.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>",
    ),
    "camt054 read as camt053": BadFile(
        "camt054_two_notifications.xml",
        "camt053",
        r"^Document: namespace 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08' is not CAMT.053",
    ),
    "camt052 with a DTD and an entity": BadFile(
        "camt052_intraday.xml",
        "camt052",
        r"^DOCTYPE: a DTD or entity reference is not allowed",
        "<Document ",
        '<!DOCTYPE Document [<!ENTITY who "Nordwind">]>\n<Document ',
    ),
    "camt052 interim balance not reconciling": BadFile(
        "camt052_intraday.xml",
        "camt052",
        r"^balances: opening 100.00 \+ movements 1190.00 ≠ closing 1365.00",
        '<Amt Ccy="EUR">1290.00</Amt>',
        '<Amt Ccy="EUR">1365.00</Amt>',
    ),
    "bai2 account control total wrong": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 8 \(49 account trailer\): account control total is 1782151, the records add up to 1782150$",
        "49,1782150,6/",
        "49,1782151,6/",
    ),
    "bai2 record count without the continuation": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 13 \(99 file trailer\): number of records is 12, the file has 13$",
        "99,1853550,1,13/",
        "99,1853550,1,12/",
    ),
    "bai2 amount with a decimal point": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 7 \(16 transaction detail\): amount '125.00' must be in minor units without a decimal point$",
        "16,475,12500,",
        "16,475,125.00,",
    ),
    "bai2 type code neither credit nor debit": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 7 \(16 transaction detail\): type code 975 is neither a credit \(100-399\) nor a debit",
        "16,475,",
        "16,975,",
    ),
    "bai2 summary credits not the details'": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 3 \(03 account identifier\): summary 100 says 2565.51, the details add up to 2565.50$",
        "100,256550,2",
        "100,256551,2",
    ),
    "bai2 unknown funds type": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 10 \(16 transaction detail\): funds type 'X' is not one of 0, 1, 2, Z, V, S, D$",
        "16,195,23800,1,",
        "16,195,23800,X,",
    ),
    "bai2 test group": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 2 \(02 group header\): group status '4'; only updates",
        "021000021,1,240306",
        "021000021,4,240306",
    ),
    "bai2 without its file trailer": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 12: the file trailer \(99\) is missing$",
        "99,1853550,1,13/\n",
        "",
    ),
    "bai2 account outside a group": BadFile(
        "bai2_two_accounts.bai",
        "bai2",
        r"^line 2 \(03 account identifier\): not allowed after a 01 file header record$",
        "02,OTCDEMO,021000021,1,240306,2400,USD,2/\n",
        "",
    ),
}


def written_rows() -> dict[str, int]:
    """What an import could write, directly or through the matching run after it."""
    models = (BankStatement, BankStatementLine, Payment, Allocation, JournalEntry, JournalLine)
    return {model.__name__: model.objects.count() for model in models}


@pytest.mark.parametrize("bad", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_malformed_statement_is_refused_whole_naming_what_is_wrong_and_nothing_is_written(bad, clerk, invoices):
    before = written_rows()

    with pytest.raises(bad.refused_with, match=bad.error):
        upload(bad.content(), bad.format, clerk, **bad.options)

    assert written_rows() == before
    assert (before["BankStatement"], before["BankStatementLine"], before["JournalEntry"]) == (0, 0, 2)


def test_a_malformed_statement_is_invalid_input_on_the_file_field(clerk):
    bad = BAD_FILES["camt amount with a decimal comma"]

    with pytest.raises(MalformedStatement) as malformed:
        upload(bad.content(), bad.format, clerk)

    assert malformed.value.code == "malformed_statement"
    assert malformed.value.fields == {"file": [malformed.value.message]}
    assert isinstance(malformed.value, InvalidInput)


def test_mt940_account_by_bank_code_and_number_is_the_company_account_of_that_iban(clerk, own_accounts):
    content = variant("mt940_de.sta", ":25:DE89370400440532013000", ":25:37040044/0532013000")

    statement = upload(content, "mt940", clerk)

    assert (statement.bank_account, statement.account_iban) == (own_accounts[0], "DE89370400440532013000")


def test_a_bad_account_iban_at_upload_names_the_account_field(clerk):
    with pytest.raises(InvalidInput) as invalid:
        upload(sample("generic.csv"), "csv", clerk, csv_account_iban="DE00 1234")

    assert list(invalid.value.fields) == ["account_iban"]


def test_the_import_is_audited_with_the_clerk(clerk):
    statement = upload(sample("mt940_de.sta"), "mt940", clerk)

    events = BankStatementLine.pgh_event_model.objects.filter(pgh_obj__statement=statement)
    assert events.count() == 5
    assert {event.pgh_context.metadata["user"] for event in events} == {clerk.pk}


@pytest.fixture
def us_accounts(db) -> list[CompanyBankAccount]:
    """The company's two US accounts at the bank with routing number 021000021, named by number only."""
    return [
        CompanyBankAccount.objects.create(
            name=f"Chase USD {number[-4:]}", bank_code="021000021", account_number=number, currency="USD"
        )
        for number in ("0123456789", "0987654321")
    ]


def test_bai2_with_two_accounts_imports_one_statement_per_account_with_amounts_in_cents(clerk, us_accounts):
    first, second = import_bank_statement(
        content=sample("bai2_two_accounts.bai"), filename="lockbox.bai", format="bai2", actor=clerk
    )

    assert (first.bank_account, first.statement_id, first.format) == (us_accounts[0], "240307-1", "bai2")
    assert (first.period_start, first.period_end, first.currency) == (date(2024, 3, 6), date(2024, 3, 6), "USD")
    assert (first.opening_balance, first.closing_balance) == (D("5000.00"), D("7440.50"))
    assert list(
        first.lines.order_by("line_no").values_list(
            "amount", "value_date", "remittance_information", "bank_reference", "end_to_end_id"
        )
    ) == [
        (D("1190.00"), None, "LOCKBOX REMITTANCE INV-2024-000002 NORDWIND HANDEL GMBH", "BR0001", "INV-2024-000002"),
        (D("1375.50"), date(2024, 3, 7), "PAYMENT RG 2024-3, 2024-4", "BR0002", "CHK 4711"),
        (D("-125.00"), None, "BANK FEE", "BR0003", ""),
    ]
    assert (second.bank_account, second.account_iban) == (us_accounts[1], "021000021/0987654321")
    assert lines_of(second) == [(D("238.00"), "", "", "")]


def test_camt054_notifications_import_for_their_accounts_without_balances(clerk, own_accounts):
    main, _, ing = own_accounts

    first, second = import_bank_statement(
        content=sample("camt054_two_notifications.xml"), filename="c54.xml", format="camt054", actor=clerk
    )

    assert (first.bank_account, first.statement_id, first.format) == (main, "C54-20240307-DE89", "camt054")
    assert (first.opening_balance, first.closing_balance) == (None, None)
    assert lines_of(first) == [
        (D("1190.00"), "NL91ABNA0417164300", "", "NORDWIND-0042"),
        (D("238.00"), "", "RF18539007547034", ""),
    ]
    assert second.bank_account == ing
    assert [line[0] for line in lines_of(second)] == [D("500.50"), D("-12.50")]


def test_camt052_intraday_report_imports_booked_entries_and_leaves_pending_ones(clerk, own_accounts):
    statement = upload(sample("camt052_intraday.xml"), "camt052", clerk)

    assert (statement.bank_account, statement.format, statement.line_count) == (own_accounts[0], "camt052", 1)
    assert (statement.opening_balance, statement.closing_balance) == (D("100.00"), D("1290.00"))
    assert statement.lines.get().remittance_information == "Rechnung INV-2024-000002"
    assert not BankStatementLine.objects.filter(amount=D("75.00")).exists()
