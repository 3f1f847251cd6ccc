"""Bank statement file formats: each parser turns a file into one `ParsedStatement` or raises
`MalformedStatement` naming the line (MT940, CSV) or element (CAMT) at fault, so a clerk can tell
the bank what is wrong. The checks every format shares (amounts in the currency's minor units,
IBANs, balances that reconcile) live here so the formats cannot drift apart.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.core.exceptions import ValidationError
from stdnum import iso11649

from customers.validators import normalize_bic, normalize_iban
from otc.errors import InvalidInput
from otc.money import parse_decimal, quantize, validate_currency

MAX_ID_LENGTH = 35
MAX_REFERENCE_LENGTH = 140
MAX_NAME_LENGTH = 140
_RF_REFERENCE = re.compile(r"\bRF\d{2}[0-9A-Z]{1,21}\b")
# What banks and payers' software write where a value is absent; stored, it would read as remittance.
PLACEHOLDERS = frozenset({"NOTPROVIDED", "NOT PROVIDED", "NONREF", "NONE", "N/A", "NA", "/", "-", "."})


class MalformedStatement(InvalidInput):
    code = "malformed_statement"
    title = "The bank statement file is malformed."

    def __init__(self, where: str, problem: str):
        self.where = where
        self.problem = problem
        message = f"{where}: {problem}"
        super().__init__(message, fields={"file": [message]})


@dataclass(frozen=True)
class AccountReference:
    """An account as a statement names it: an IBAN, or a bank (code or BIC) and an account number,
    so it can be resolved to one of the company's own bank accounts."""

    iban: str = ""
    bank: str = ""
    number: str = ""
    written: str = ""

    def __str__(self) -> str:
        return self.written or self.iban or "/".join(part for part in (self.bank, self.number) if part)


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One booked movement; amount signed (credit positive), identifiers normalised. Slotted: a large
    statement holds one per line."""

    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str = ""
    counterparty_iban: str = ""
    counterparty_bic: str = ""
    remittance_information: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""


class Lines(Protocol):
    """A statement's lines: a list, or a bank_formats.spool.LineSpool where a long file keeps them on disk."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[ParsedLine]: ...


@dataclass(frozen=True)
class ParsedStatement:
    """A whole statement, checked: balances (when the format has them) reconcile with the lines."""

    format: str
    account: AccountReference
    statement_id: str
    period_start: date
    period_end: date
    currency: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    lines: Lines


def checked_amount(text: str, currency: str, where: str) -> Decimal:
    """A finite decimal with no more decimals than the currency has minor units."""
    try:
        return quantize(parse_decimal(text, field=where, currency=currency), currency)
    except InvalidInput as error:
        raise MalformedStatement(where, error.fields[where][0]) from None


def checked_currency(code: str, where: str) -> str:
    code = code.strip().upper()
    try:
        validate_currency(code)
    except ValidationError as error:
        raise MalformedStatement(where, error.messages[0]) from None
    return code


def checked_iban(value: str, where: str) -> str:
    """The compact IBAN; a blank value stays blank (the counterparty's account is optional)."""
    if not value.strip():
        return ""
    try:
        return normalize_iban(value)
    except ValidationError as error:
        raise MalformedStatement(where, error.messages[0]) from None


def checked_bic(value: str, where: str) -> str:
    try:
        return normalize_bic(value)
    except ValidationError as error:
        raise MalformedStatement(where, error.messages[0]) from None


def checked_id(value: str, where: str, *, max_length: int = MAX_ID_LENGTH) -> str:
    """An identifier in full, or a refusal: a cut one would match the wrong payment. Statement and
    bank references are 35 characters in every format; end-to-end references reach 140 in practice."""
    value = clean_text(value)
    if len(value) > max_length:
        raise MalformedStatement(where, f"{value!r} is longer than {max_length} characters")
    return value


def clean_text(value: str | None) -> str:
    """One line of text without placeholders: banks wrap remittance information at fixed widths and
    write "NOTPROVIDED" or "NONREF" where the payer gave nothing."""
    text = " ".join((value or "").split())
    return "" if text.upper() in PLACEHOLDERS else text


def clean_name(value: str | None) -> str:
    return clean_text(value)[:MAX_NAME_LENGTH]


def rf_reference_in(text: str) -> str:
    """The first valid ISO 11649 creditor reference (RF...) in free text, so formats without a
    structured field still hand cash application the reference the payer typed."""
    for candidate in _RF_REFERENCE.findall(text.upper()):
        if iso11649.is_valid(candidate):
            return candidate
    return ""


def check_reconciles(opening: Decimal, lines: Lines, closing: Decimal, where: str) -> None:
    """Opening balance plus the movements must give the closing balance, or a line is missing."""
    movements = sum((line.amount for line in lines), Decimal("0"))
    if opening + movements != closing:
        raise MalformedStatement(
            where, f"opening {opening} + movements {movements} ≠ closing {closing}; a movement is missing or wrong"
        )


def check_period(start: date, end: date, where: str) -> None:
    if start > end:
        raise MalformedStatement(where, f"the period starts {start}, after it ends {end}")


def check_statement_id(statement_id: str, where: str) -> str:
    statement_id = checked_id(statement_id, where)
    if not statement_id:
        raise MalformedStatement(where, "the statement id is missing")
    return statement_id
