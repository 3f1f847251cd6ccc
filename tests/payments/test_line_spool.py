import hashlib
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from payments.cash_application.bank_formats import ParsedLine
from payments.cash_application.bank_formats.spool import LineSpool
from payments.cash_application.statement_import import import_bank_statement
from payments.models import BankStatementLine

SAMPLES = Path(__file__).parent / "samples"
PAYER_IBAN = "NL91ABNA0417164300"


def parsed_line(number: int) -> ParsedLine:
    return ParsedLine(
        booking_date=date(2026, 3, 1 + number % 28),
        value_date=None if number % 2 else date(2026, 3, 2),
        amount=Decimal(number) + Decimal("0.01"),
        currency="EUR",
        counterparty_name=f"Brasserie du Parc {number}",
        counterparty_iban=PAYER_IBAN,
        remittance_information=f"Invoice INV-2026-{number:06d}",
    )


@pytest.fixture
def spooled_files(monkeypatch) -> list:
    """The temporary files the spools open, kept to read what went to disk."""
    opened, open_temporary_file = [], tempfile.TemporaryFile

    def temporary_file():
        file = open_temporary_file()
        opened.append(file)
        return file

    monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
    monkeypatch.setattr(LineSpool, "batch_size", 3)
    yield opened
    for file in opened:
        file.close()


def test_a_spool_gives_back_every_line_in_order_however_often_and_interleaved_it_is_read(spooled_files):
    lines = [parsed_line(number) for number in range(10)]
    spool = LineSpool()
    spool.extend(lines)

    assert len(spool) == 10
    assert list(spool) == lines
    assert list(spool) == lines
    assert list(zip(spool, spool, strict=True)) == [(line, line) for line in lines]
    assert len(spooled_files) == 1


def test_what_a_spool_writes_to_disk_holds_no_payer_detail_in_clear(spooled_files):
    spool = LineSpool()
    spool.extend(parsed_line(number) for number in range(7))

    [file] = spooled_files
    file.seek(0)
    on_disk = file.read()
    assert len(on_disk) > 1000
    for clear in (PAYER_IBAN.encode(), b"Brasserie", b"INV-2026-000001"):
        assert clear not in on_disk


def test_a_statement_within_one_batch_never_touches_disk(spooled_files):
    spool = LineSpool()
    spool.extend(parsed_line(number) for number in range(2))

    assert list(spool) == [parsed_line(0), parsed_line(1)]
    assert spooled_files == []


@pytest.mark.django_db
@pytest.mark.usefixtures("own_accounts")
def test_a_camt_file_given_open_imports_through_the_spool_the_lines_its_bytes_import(clerk, spooled_files):
    path = SAMPLES / "camt053_v02.xml"
    with path.open("rb") as source:
        [statement] = import_bank_statement(content=source, filename=path.name, format="camt053", actor=clerk)

    assert len(spooled_files) == 1  # five lines in batches of three
    assert statement.line_count == 5
    rows = list(
        BankStatementLine.objects.filter(statement=statement)
        .order_by("line_no")
        .values_list("amount", "counterparty_iban", "remittance_information")
    )
    assert [amount for amount, _, _ in rows] == [
        Decimal("1190.00"),
        Decimal("119.00"),
        Decimal("238.00"),
        Decimal("-250.00"),
        Decimal("-12.50"),
    ]
    assert rows[0][1] == PAYER_IBAN
    assert rows[1][2] == "Invoice INV-2024-000004 customer 10077"
    assert statement.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.django_db
@pytest.mark.usefixtures("own_accounts")
def test_an_mt940_file_given_open_imports_as_its_bytes_do(clerk):
    path = SAMPLES / "mt940_de.sta"
    with path.open("rb") as source:
        imported = import_bank_statement(content=source, filename=path.name, format="mt940", actor=clerk)

    assert sum(statement.line_count for statement in imported) == BankStatementLine.objects.count() > 0
