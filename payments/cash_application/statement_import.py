"""Write side of bank statement import: a statement is parsed and checked whole before anything is
written, then stored with all its lines in one transaction, or not at all.

A file may hold several statements (of one account over several days, or of several accounts);
they are imported together or not at all, each for one of the company's own bank accounts.
A statement is imported once. The same account, statement id and period, or the very same file,
is refused naming who imported it and when; unique constraints hold this under concurrent uploads
too (the second upload waits for the first to commit, then gets the same refusal).
"""

import hashlib
from datetime import date
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from otc.audit import acting
from otc.bulk_rows import copy_rows
from otc.crypto import fingerprint
from otc.errors import InvalidInput
from otc.models import User
from payments.cash_application.bank_formats import AccountReference, ParsedStatement
from payments.cash_application.bank_formats.bai2 import parse_bai2
from payments.cash_application.bank_formats.camt import parse_camt052, parse_camt053, parse_camt054
from payments.cash_application.bank_formats.csv_layout import CSV_LAYOUTS, parse_csv
from payments.cash_application.bank_formats.mt940 import parse_mt940
from payments.cash_application.errors import NotOurBankAccount, StatementAlreadyImported
from payments.models import BankStatement, BankStatementLine, CompanyBankAccount, StatementFormat


def import_bank_statement(
    *,
    content: bytes | BinaryIO,
    filename: str,
    format: str,
    actor: User,
    csv_layout: str = "generic",
    csv_account_iban: str = "",
    csv_statement_id: str = "",
    csv_period: tuple[date, date] | None = None,
) -> list[BankStatement]:
    """Import a bank statement file (CAMT.053, CAMT.052, CAMT.054, MT940, BAI2 or CSV): every statement
    in it with all its lines, in one transaction, or nothing. `content` is the file's bytes or the open
    file: a CAMT file given open is read as it is parsed, never held whole.

    Raises MalformedStatement naming the line or element at fault, InvalidInput for a bad format or
    layout, NotOurBankAccount for a statement of an account that is not one of the company's, and
    StatementAlreadyImported for a statement or file seen before.
    """
    file_sha256 = file_fingerprint(content)
    refuse_imported_file(file_sha256)
    parsed_statements = _parse(content, format, csv_layout, csv_account_iban, csv_statement_id, csv_period)
    accounts = [own_bank_account(parsed.account, parsed.currency) for parsed in parsed_statements]
    same_statements = Q(pk__in=[])
    for parsed, account in zip(parsed_statements, accounts, strict=True):
        same_statement = Q(
            account_iban=account.identifier,
            statement_id=parsed.statement_id,
            period_start=parsed.period_start,
            period_end=parsed.period_end,
        )
        _refuse_imported(same_statement, f"Statement {parsed.statement_id}")
        same_statements |= same_statement
    try:
        with transaction.atomic(), acting(actor, f"bank statement import {filename}"):
            return [
                _store(parsed, account, file_sha256=file_sha256, filename=filename, actor=actor)
                for parsed, account in zip(parsed_statements, accounts, strict=True)
            ]
    except IntegrityError:
        _refuse_imported(Q(file_sha256=file_sha256) | same_statements, "A statement of this file")
        raise


def file_fingerprint(content: bytes | BinaryIO) -> str:
    """The SHA-256 of a statement file, by which the same file is recognised; an open file is read in
    chunks and rewound."""
    if isinstance(content, bytes):
        return hashlib.sha256(content).hexdigest()
    digest = hashlib.file_digest(content, "sha256").hexdigest()
    content.seek(0)
    return digest


def refuse_imported_file(file_sha256: str) -> None:
    """StatementAlreadyImported, naming when and by whom, if this very file was imported before."""
    _refuse_imported(Q(file_sha256=file_sha256), "This file")


def own_bank_account(reference: AccountReference, currency: str) -> CompanyBankAccount:
    """The company's active account in `currency` that the statement names, by IBAN or by bank and
    account number; a statement of any other account is refused, naming it."""
    candidates = CompanyBankAccount.objects.filter(is_active=True, currency=currency)
    if reference.iban:
        found = [account for account in candidates if account.iban == reference.iban]
    else:
        found = [account for account in candidates if _names_account(reference, account)]
    if len(found) == 1:
        return found[0]
    if found:
        raise NotOurBankAccount(
            f"Account {reference} in {currency} could be any of {', '.join(str(account) for account in found)}; "
            "enter the bank code of each so the statement names one."
        )
    raise NotOurBankAccount(
        f"Account {reference} in {currency} is not one of the company's bank accounts; a statement is imported "
        "only for an active account set up under Payments › Company bank accounts."
    )


def _names_account(reference: AccountReference, account: CompanyBankAccount) -> bool:
    """A domestic account number (leading zeros aside), and the bank when the statement gives one: its
    code or BIC as entered, or as it is part of the IBAN (a German BLZ, a Dutch bank's BIC prefix)."""
    number = reference.number.lstrip("0")
    basic_account = account.iban[4:]
    if account.account_number:
        if account.account_number.lstrip("0") != number:
            return False
    elif not number or not basic_account.endswith(number):
        return False
    if not reference.bank:
        return True
    bank = reference.bank
    return (
        (bool(account.bank_code) and (account.bank_code == bank or account.bank_code[:8] == bank[:8]))
        or (bank.isdigit() and basic_account.startswith(bank))
        or (not bank.isdigit() and len(bank) >= 8 and _bic_fits_iban(bank, account.iban))
    )


def _bic_fits_iban(bic: str, iban: str) -> bool:
    """Same country, and the same bank where the IBAN spells it in letters (NL "INGB", GB "NWBK")."""
    basic_account = iban[4:]
    return iban[:2] == bic[4:6] and (not basic_account[:4].isalpha() or basic_account.startswith(bic[:4]))


def _parse(
    content: bytes | BinaryIO,
    format: str,
    csv_layout: str,
    csv_account_iban: str,
    csv_statement_id: str,
    csv_period: tuple[date, date] | None,
) -> list[ParsedStatement]:
    read_as_parsed = {
        StatementFormat.CAMT053: parse_camt053,
        StatementFormat.CAMT052: parse_camt052,
        StatementFormat.CAMT054: parse_camt054,
    }
    read_whole = {StatementFormat.MT940: parse_mt940, StatementFormat.BAI2: parse_bai2}
    if format in read_as_parsed:
        return read_as_parsed[format](content)
    if not isinstance(content, bytes):
        content = content.read()
    if format in read_whole:
        return read_whole[format](content)
    if format == StatementFormat.CSV:
        if csv_layout not in CSV_LAYOUTS:
            raise InvalidInput(
                f"No CSV layout {csv_layout!r}.", fields={"csv_layout": [f"One of {list(CSV_LAYOUTS)}."]}
            )
        return [
            parse_csv(
                content,
                layout=CSV_LAYOUTS[csv_layout],
                account_iban=csv_account_iban,
                statement_id=csv_statement_id,
                period=csv_period,
            )
        ]
    raise InvalidInput(f"Unknown format {format!r}.", fields={"format": [f"One of {StatementFormat.values}."]})


def _refuse_imported(match: Q, what: str) -> None:
    """Raise StatementAlreadyImported naming when and by whom, if a statement matches."""
    earlier = BankStatement.objects.filter(match).select_related("imported_by").first()
    if earlier is not None:
        raise StatementAlreadyImported(
            f"{what} was imported already, on {timezone.localtime(earlier.imported_at):%Y-%m-%d %H:%M} "
            f"by {earlier.imported_by} (statement {earlier.statement_id} of {earlier.account_iban}, "
            f"{earlier.period_start}–{earlier.period_end}, {earlier.filename})."
        )


def _store(
    parsed: ParsedStatement, account: CompanyBankAccount, *, file_sha256: str, filename: str, actor: User
) -> BankStatement:
    statement = BankStatement.objects.create(
        bank_account=account,
        account_iban=account.identifier,
        statement_id=parsed.statement_id,
        period_start=parsed.period_start,
        period_end=parsed.period_end,
        currency=parsed.currency,
        opening_balance=parsed.opening_balance,
        closing_balance=parsed.closing_balance,
        format=parsed.format,
        file_sha256=file_sha256,
        filename=filename[:255],
        line_count=len(parsed.lines),
        imported_by=actor,
    )
    copy_rows(
        BankStatementLine,
        (
            BankStatementLine(
                statement_id=statement.pk,
                line_no=line_no,
                booking_date=line.booking_date,
                value_date=line.value_date,
                amount=line.amount,
                currency=line.currency,
                counterparty_name=line.counterparty_name,
                counterparty_iban=line.counterparty_iban,
                counterparty_iban_fingerprint=fingerprint(line.counterparty_iban) if line.counterparty_iban else "",
                counterparty_bic=line.counterparty_bic,
                remittance_information=line.remittance_information,
                structured_reference=line.structured_reference,
                end_to_end_id=line.end_to_end_id,
                bank_reference=line.bank_reference,
            )
            for line_no, line in enumerate(parsed.lines, start=1)
        ),
        now=timezone.now(),
    )
    return statement
