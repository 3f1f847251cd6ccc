"""SWIFT MT940 through the mt-940 library, with German structured `:86:` details.

The library parses the tags; this module pins its options, reports which line of the file a tag
that fails to parse starts on, and maps the `:86:` sub-fields of the German variant (DFÜ
agreement): ?20-?29 and ?60-?63 remittance (with SEPA keywords such as EREF+ and SVWZ+), ?30 the
counterparty's BIC (or, on old accounts, its bank code), ?31 its IBAN (or account number), ?32/?33
its name. An unstructured `:86:` becomes the remittance text as it stands.
"""

import re
from datetime import date
from typing import Any

import mt940
from mt940.models import Transaction, Transactions

from payments.cash_application.bank_formats import (
    MalformedStatement,
    ParsedLine,
    ParsedStatement,
    check_period,
    check_reconciles,
    check_statement_id,
    checked_amount,
    checked_bic,
    checked_currency,
    checked_iban,
    checked_id,
    clean_name,
    clean_text,
    rf_reference_in,
)

OPTIONS = mt940.Options(
    applicant_iban=True,
    merge_keeps_values=True,
    reversal_sign=True,
    case_insensitive_marks=True,
    unbounded_details=True,
    strip_bom=True,
)
_NOT_PROVIDED = "NOTPROVIDED"
_TAG_LINE = re.compile(r"^:(?P<tag>\d{2}[A-Z]?):")
_IBAN_LIKE = re.compile(r"^[A-Z]{2}\d{2}")


class _TagFailed(Exception):
    def __init__(self, offset: int, tag: str, error: Exception):
        self.offset, self.tag, self.error = offset, tag, error
        super().__init__(f":{tag}: {error}")


class _LocatingTransactions(Transactions):
    """Transactions that say where in the (cleaned) text the tag that failed to parse starts."""

    def _process_match(self, match: re.Match[str], i: int, valid_matches: list[re.Match[str]], data: str) -> None:
        try:
            super()._process_match(match, i, valid_matches, data)
        except (RuntimeError, ValueError, ArithmeticError, KeyError, TypeError) as error:
            raise _TagFailed(data.count("\n", 0, match.start()), match.group("full_tag"), error) from error


def parse_mt940(content: bytes) -> ParsedStatement:
    """Parse an MT940 file holding one statement (one :20: block)."""
    text = _decode(content)
    file_lines = _file_line_numbers(text)
    tag_lines = _tag_line_numbers(text)
    statement_count = len(tag_lines.get("20", []))
    if statement_count != 1:
        raise MalformedStatement("file", f"holds {statement_count} statements (:20:); import one statement per file")
    transactions = _LocatingTransactions(options=OPTIONS)
    try:
        transactions.parse(text)
    except _TagFailed as failure:
        raise MalformedStatement(
            f"line {file_lines[failure.offset]}", f":{failure.tag}: cannot be read ({_reason(failure.error)})"
        ) from None
    return _statement(transactions, tag_lines)


def _decode(content: bytes) -> str:
    """UTF-8 when it is; banks' older exports are Latin-1, which decodes any byte."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _file_line_numbers(text: str) -> list[int]:
    """The file line number of each line the library keeps (it drops blank and "-" lines)."""
    kept = Transactions.strip(text.split("\n"))
    numbers, kept_index = [], 0
    for number, line in enumerate(text.split("\n"), start=1):
        if kept_index < len(kept) and line.replace("\r", "").rstrip() == kept[kept_index]:
            numbers.append(number)
            kept_index += 1
    return numbers


def _tag_line_numbers(text: str) -> dict[str, list[int]]:
    """Tag (without option letter) -> the file lines it starts on, in order."""
    found: dict[str, list[int]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        match = _TAG_LINE.match(line.lstrip("\ufeff"))
        if match:
            found.setdefault(match.group("tag")[:2], []).append(number)
    return found


def _reason(error: Exception) -> str:
    if isinstance(error, RuntimeError):
        return "it does not match the MT940 layout"
    return str(error) or type(error).__name__


def _statement(transactions: Transactions, tag_lines: dict[str, list[int]]) -> ParsedStatement:
    data = transactions.data
    opening = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    closing = data.get("final_closing_balance") or data.get("intermediate_closing_balance")
    if opening is None or closing is None:
        raise MalformedStatement("file", "an opening (:60F:) and a closing (:62F:) balance are required")
    opening_where, closing_where = _where(tag_lines, "60", 0), _where(tag_lines, "62", 0)
    currency = checked_currency(opening.amount.currency, opening_where)
    if checked_currency(closing.amount.currency, closing_where) != currency:
        raise MalformedStatement(closing_where, f"closing balance in {closing.amount.currency}, opening in {currency}")
    account = data.get("account_identification") or ""
    if not _IBAN_LIKE.match(account.strip()):
        raise MalformedStatement(_where(tag_lines, "25", 0), f":25: {account!r} is not an IBAN")
    lines = [
        _line(transaction, currency, tag_lines, index) for index, transaction in enumerate(transactions.transactions)
    ]
    opening_balance = checked_amount(str(opening.amount.amount), currency, opening_where)
    closing_balance = checked_amount(str(closing.amount.amount), currency, closing_where)
    check_reconciles(opening_balance, lines, closing_balance)
    period_start, period_end = _plain_date(opening.date), _plain_date(closing.date)
    check_period(period_start, period_end, f"{opening_where} and {closing_where}")
    return ParsedStatement(
        format="mt940",
        account_iban=checked_iban(account, _where(tag_lines, "25", 0)),
        statement_id=check_statement_id(data.get("transaction_reference") or "", _where(tag_lines, "20", 0)),
        period_start=period_start,
        period_end=period_end,
        currency=currency,
        opening_balance=opening_balance,
        closing_balance=closing_balance,
        lines=lines,
    )


def _where(tag_lines: dict[str, list[int]], tag: str, index: int) -> str:
    numbers = tag_lines.get(tag, [])
    return f"line {numbers[index]}" if index < len(numbers) else f":{tag}:"


def _plain_date(value: date) -> date:
    return date(value.year, value.month, value.day)


def _line(transaction: Transaction, currency: str, tag_lines: dict[str, list[int]], index: int) -> ParsedLine:
    """A :61: line and its :86: details; errors name the :61: line, or the :86: line for details."""
    data: dict[str, Any] = transaction.data
    where, details_where = _where(tag_lines, "61", index), _details_where(tag_lines, index)
    if data["amount"].currency != currency:
        raise MalformedStatement(where, f"in {data['amount'].currency}, the statement is in {currency}")
    value_date = _plain_date(data["date"])
    remittance = _remittance(data)
    end_to_end_id = clean_text(data.get("end_to_end_reference"))
    return ParsedLine(
        booking_date=_plain_date(data.get("entry_date") or value_date),
        value_date=value_date,
        amount=checked_amount(str(data["amount"].amount), currency, where),
        currency=currency,
        counterparty_name=clean_name(data.get("applicant_name")),
        counterparty_iban=checked_iban(_counterparty_iban(data), details_where),
        counterparty_bic=_counterparty_bic(data, details_where),
        remittance_information=remittance,
        structured_reference=rf_reference_in(remittance),
        end_to_end_id="" if end_to_end_id == _NOT_PROVIDED else checked_id(end_to_end_id, details_where),
        bank_reference=checked_id(data.get("bank_reference") or "", where),
    )


def _details_where(tag_lines: dict[str, list[int]], index: int) -> str:
    """The :86: line that follows the index-th :61: line (its details)."""
    statement_line = tag_lines.get("61", [])[index]
    following = [number for number in tag_lines.get("86", []) if number > statement_line]
    return f"line {following[0]}" if following else f"line {statement_line}"


def _remittance(data: dict[str, Any]) -> str:
    """Structured ?20-?29 (SVWZ+ when keyed) and ?60-?63, else the raw :86: text."""
    if "transaction_details" in data:
        return clean_text(data["transaction_details"])
    return clean_text(" ".join(part for part in (data.get("purpose"), data.get("additional_purpose")) if part))


def _counterparty_iban(data: dict[str, Any]) -> str:
    """?31 when it is an IBAN (old accounts put a plain account number there), else IBAN+ in the text."""
    account = clean_text(data.get("applicant_iban")).replace(" ", "")
    if _IBAN_LIKE.match(account):
        return account
    return clean_text(data.get("gvc_applicant_iban")).replace(" ", "")


def _counterparty_bic(data: dict[str, Any], where: str) -> str:
    """?30 when it is a BIC; a German bank code (digits only) is not one."""
    code = clean_text(data.get("applicant_bin") or data.get("gvc_applicant_bin")).replace(" ", "")
    if not code or code.isdigit():
        return ""
    return checked_bic(code, where)
