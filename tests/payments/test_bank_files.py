"""Statements laid out as banks export them (tests/payments/bank_files/README.md names the sources):
several statements in one file, accounts named other than by a bare IBAN, placeholders, and files
that must be refused whole."""

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from payments.cash_application.bank_formats import MalformedStatement
from payments.cash_application.errors import NotOurBankAccount
from payments.cash_application.statement_import import import_bank_statement
from payments.models import BankStatement, BankStatementLine, CompanyBankAccount

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_accounts")]
D = Decimal
FILES = Path(__file__).parent / "bank_files"
LONG_END_TO_END = "NORDWIND-ERP-2024-03-07-PAYMENT-RUN-0042-ITEM-0001"


def bank_file(name: str, old: str = "", new: str = "") -> bytes:
    text = (FILES / name).read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


def upload(content: bytes, format: str, clerk) -> list[BankStatement]:
    return import_bank_statement(content=content, filename="bank-file", format=format, actor=clerk)


def nothing_written() -> bool:
    return not BankStatement.objects.exists() and not BankStatementLine.objects.exists()


def line_facts(statement: BankStatement) -> list[tuple]:
    return list(
        statement.lines.order_by("line_no").values_list(
            "booking_date", "amount", "counterparty_name", "remittance_information", "end_to_end_id"
        )
    )


def test_camt053_with_two_statements_imports_both_each_for_its_own_account(clerk, own_accounts):
    main, sparkasse, _ = own_accounts

    first, second = upload(bank_file("camt053_multi_othr.xml"), "camt053", clerk)

    assert (first.bank_account, first.statement_id, first.period_start) == (main, "2024-03-07-DE89", date(2024, 3, 7))
    assert (first.opening_balance, first.closing_balance) == (D("100.00"), D("1290.00"))
    assert line_facts(first) == [
        (date(2024, 3, 7), D("1190.00"), "Nordwind Handel GmbH", "INV-2024-000002", LONG_END_TO_END)
    ]
    assert first.lines.get().value_date == date(2024, 3, 7)
    assert (second.bank_account, second.account_iban) == (sparkasse, "DE12500105170648489890")
    assert line_facts(second) == [(date(2024, 3, 7), D("238.00"), "Atelier Lumiere", "", "")]
    assert {first.file_sha256} == {second.file_sha256}


def test_mt940_with_two_statement_blocks_reads_dutch_and_german_details(clerk, own_accounts):
    _, sparkasse, ing = own_accounts

    first, second = upload(bank_file("mt940_ing_sparkasse_multi.sta"), "mt940", clerk)

    assert (first.bank_account, first.statement_id) == (ing, "P240307000000001")
    assert (first.opening_balance, first.closing_balance) == (D("5000.00"), D("6690.50"))
    assert line_facts(first) == [
        (date(2024, 3, 7), D("1190.00"), "Nordwind Handel GmbH", "INV-2024-000002", ""),
        (
            date(2024, 3, 7),
            D("500.50"),
            "",
            "Invoices 2024-000003 and 2024-000004",
            "OTC-PAY-0000000000000000000000000000000000000042",
        ),
    ]
    assert list(first.lines.values_list("bank_reference", flat=True).order_by("line_no")) == ["00000000001001", ""]
    assert (second.bank_account, second.statement_id) == (sparkasse, "STARTUMS")
    assert line_facts(second) == [
        (date(2024, 3, 7), D("238.00"), "Atelier Lumiere", "facture INV-2024-000003", ""),
        (date(2024, 3, 7), D("-12.50"), "", "Kontofuehrung Maerz", ""),
    ]
    assert second.lines.get(line_no=1).counterparty_iban == "NL91ABNA0417164300"


def test_a_file_whose_second_statement_does_not_add_up_is_refused_whole(clerk):
    content = bank_file("mt940_ing_sparkasse_multi.sta", ":62F:C240307EUR2725,50", ":62F:C240307EUR2725,49")

    with pytest.raises(MalformedStatement, match=r"^line 14 balances: opening 2500\.00 \+ movements 225\.50"):
        upload(content, "mt940", clerk)

    assert nothing_written()


def test_a_camt053_statement_of_an_account_not_ours_is_refused_naming_it_and_nothing_is_written(clerk):
    content = bank_file("camt053_multi_othr.xml", "<Id>0648489890</Id>", "<Id>0999999999</Id>")

    with pytest.raises(NotOurBankAccount, match=r"^Account 0999999999 in EUR is not one of the company's bank"):
        upload(content, "camt053", clerk)

    assert nothing_written()


def test_a_statement_of_our_account_in_another_currency_or_inactive_is_refused(clerk, own_accounts):
    CompanyBankAccount.objects.filter(pk=own_accounts[2].pk).update(is_active=False)

    with pytest.raises(NotOurBankAccount, match=r"^Account NL20INGB0001234567EUR in EUR is not one of"):
        upload(bank_file("mt940_ing_sparkasse_multi.sta"), "mt940", clerk)

    assert nothing_written()


def test_a_dtd_with_an_entity_is_refused_rather_than_the_text_after_it_lost(clerk):
    content = bank_file(
        "camt053_multi_othr.xml",
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE Document [<!ENTITY inv "INV-2024-000002">]>',
    ).replace(b"<Ustrd>INV-2024-000002</Ustrd>", b"<Ustrd>&inv; paid in full</Ustrd>")

    with pytest.raises(MalformedStatement, match=r"^DOCTYPE: a DTD or entity reference is not allowed"):
        upload(content, "camt053", clerk)

    assert nothing_written()


def test_the_mt940_library_logs_no_payer_details(clerk, caplog):
    content = bank_file("mt940_ing_sparkasse_multi.sta", ":61:240307D12,50NCHG", ":61:24030XD12,50NCHG")

    with caplog.at_level(logging.DEBUG), pytest.raises(MalformedStatement, match=r"^line 20: :61: cannot be read"):
        upload(content, "mt940", clerk)

    assert "Atelier" not in caplog.text
    assert [record for record in caplog.records if record.name.startswith("mt940")] == []
