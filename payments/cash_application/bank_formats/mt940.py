"""SWIFT MT940 through the mt-940 library, with German structured `:86:` details.

The library parses the tags; this module pins its options, reports which line of the file a tag
that fails to parse starts on, and maps the `:86:` sub-fields of the German variant (DFÜ
agreement): ?20-?29 and ?60-?63 remittance (with SEPA keywords such as EREF+ and SVWZ+), ?30 the
counterparty's BIC (or, on old accounts, its bank code), ?31 its IBAN (or account number), ?32/?33
its name. The Dutch structured `:86:` (ING, Rabobank, ABN AMRO) is read by its `/KEY/` fields, and an
unstructured `:86:` becomes the remittance text as it stands, its lines unwrapped.

A statement too long for one message goes on in the next: that page opens with the intermediate
balance (:60M:) the page before closed with (:62M:), and the pages make one statement.
"""

import dataclasses
import itertools
import logging
import re
from datetime import date
from typing import Any

import mt940
from mt940.models import Transaction, Transactions
from stdnum import iban

from payments.cash_application.bank_formats import (
    MAX_REFERENCE_LENGTH,
    AccountReference,
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

# The library logs each line it reads or fails to read, payers' names and IBANs included.
logging.getLogger("mt940").setLevel(logging.CRITICAL)

OPTIONS = mt940.Options(
    applicant_iban=True,
    merge_keeps_values=True,
    reversal_sign=True,
    case_insensitive_marks=True,
    unbounded_details=True,
    strip_bom=True,
)
_TAG_LINE = re.compile(r"^:(?P<tag>\d{2}[A-Z]?):")
_IBAN_LIKE = re.compile(r"^[A-Z]{2}\d{2}")
_DUTCH_KEY = re.compile(
    r"/(EREF|NAME|IBAN|BIC|REMI|MARF|CSID|PREF|ADDR|RTRN|ORDP|BENM|CNTP|ULTC|ULTD|PURP|TRCD|TRTP|ISDT)/"
)
_REMI_KIND = re.compile(r"^(USTD/+|STRD/+CUR/+|STRD/+)")
_IBAN_SHAPED = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,33}$")
_DOMESTIC_ACCOUNT = re.compile(r"^[0-9A-Z][0-9A-Z.-]{0,33}$")
SWIFT_LINE_WIDTH = 65


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


def parse_mt940(content: bytes) -> list[ParsedStatement]:
    """Parse an MT940 file: every statement (:20: block) in it, in file order, each checked alone."""
    text = _decode(content)
    lines = text.split("\n")
    starts = [number for number, line in enumerate(lines) if line.lstrip("\ufeff").startswith(":20:")]
    if not starts:
        raise MalformedStatement("file", "no statement (:20:) in the file")
    bounds = [0, *starts[1:], len(lines)]
    return _joined_pages(
        [_block("\n".join(lines[start:end]), first_line=start) for start, end in itertools.pairwise(bounds)]
    )


@dataclasses.dataclass(frozen=True)
class _Page:
    statement: ParsedStatement
    continues: bool  # opens with an intermediate balance (:60M:): it goes on with the page before
    opening_where: str


def _joined_pages(pages: list[_Page]) -> list[ParsedStatement]:
    """The pages of one statement joined: a page that opens with :60M: must continue the page before
    it (same account and currency, its opening balance the previous page's closing balance)."""
    statements: list[ParsedStatement] = []
    for page in pages:
        statement = page.statement
        if not page.continues:
            statements.append(statement)
            continue
        previous = statements[-1] if statements else None
        if (
            previous is None
            or (previous.account, previous.currency) != (statement.account, statement.currency)
            or previous.closing_balance != statement.opening_balance
        ):
            raise MalformedStatement(
                page.opening_where, ":60M: (intermediate opening balance) does not continue the statement before it"
            )
        statements[-1] = dataclasses.replace(
            previous,
            period_end=statement.period_end,
            closing_balance=statement.closing_balance,
            lines=previous.lines + statement.lines,
        )
    return statements


def _block(text: str, *, first_line: int) -> _Page:
    """One :20: block; line numbers in errors count from the start of the file."""
    file_lines = [number + first_line for number in _file_line_numbers(text)]
    tag_lines = {tag: [number + first_line for number in numbers] for tag, numbers in _tag_line_numbers(text).items()}
    transactions = _LocatingTransactions(options=OPTIONS)
    try:
        transactions.parse(text)
    except _TagFailed as failure:
        raise MalformedStatement(
            f"line {file_lines[failure.offset]}", f":{failure.tag}: cannot be read ({_reason(failure.error)})"
        ) from None
    return _Page(
        _statement(transactions, tag_lines),
        continues="final_opening_balance" not in transactions.data,
        opening_where=_where(tag_lines, "60", 0),
    )


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
    account, account_currency = _account(data.get("account_identification") or "", _where(tag_lines, "25", 0))
    if account_currency and account_currency != currency:
        raise MalformedStatement(
            _where(tag_lines, "25", 0), f"the account is in {account_currency}, the balances in {currency}"
        )
    lines = [
        _line(transaction, currency, tag_lines, index) for index, transaction in enumerate(transactions.transactions)
    ]
    opening_balance = checked_amount(str(opening.amount.amount), currency, opening_where)
    closing_balance = checked_amount(str(closing.amount.amount), currency, closing_where)
    check_reconciles(opening_balance, lines, closing_balance, f"{_where(tag_lines, '20', 0)} balances")
    period_start, period_end = _plain_date(opening.date), _plain_date(closing.date)
    check_period(period_start, period_end, f"{opening_where} and {closing_where}")
    return ParsedStatement(
        format="mt940",
        account=account,
        statement_id=check_statement_id(data.get("transaction_reference") or "", _where(tag_lines, "20", 0)),
        period_start=period_start,
        period_end=period_end,
        currency=currency,
        opening_balance=opening_balance,
        closing_balance=closing_balance,
        lines=lines,
    )


def _account(written: str, where: str) -> tuple[AccountReference, str]:
    """:25: as banks write it: "IBAN", "IBAN CCY", "BLZ/account", "BIC/account" or a bare domestic
    account number; with the currency when one is appended. An IBAN that fails its check is refused."""
    compact = "".join(written.split()).upper()
    if "/" in compact:
        bank, _, number = compact.partition("/")
        if not bank or not _DOMESTIC_ACCOUNT.match(number):
            raise MalformedStatement(where, f":25: {written!r} is not a bank code or BIC and an account number")
        return AccountReference(bank=bank, number=number, written=written.strip()), ""
    currency = ""
    if _IBAN_SHAPED.match(compact) and not iban.is_valid(compact) and compact[-3:].isalpha():
        compact, currency = compact[:-3], checked_currency(compact[-3:], where)
    if _IBAN_SHAPED.match(compact):
        return AccountReference(iban=checked_iban(compact, where), written=written.strip()), currency
    if not _DOMESTIC_ACCOUNT.match(compact):
        raise MalformedStatement(where, f":25: {written!r} is neither an IBAN nor an account number")
    return AccountReference(number=compact, written=written.strip()), currency


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
    details = _unwrapped(data.get("transaction_details") or "")
    dutch = dutch_details(details)
    remittance = details if "transaction_details" in data else _purpose(data)
    if dutch:
        remittance = dutch.get("REMI", "")
    return ParsedLine(
        booking_date=_plain_date(data.get("entry_date") or value_date),
        value_date=value_date,
        amount=checked_amount(str(data["amount"].amount), currency, where),
        currency=currency,
        counterparty_name=clean_name(data.get("applicant_name") or dutch.get("NAME")),
        counterparty_iban=checked_iban(_counterparty_iban(data) or dutch.get("IBAN", ""), details_where),
        counterparty_bic=_counterparty_bic(data, details_where)
        or _checked_optional_bic(dutch.get("BIC"), details_where),
        remittance_information=remittance,
        structured_reference=rf_reference_in(remittance),
        end_to_end_id=checked_id(
            data.get("end_to_end_reference") or dutch.get("EREF", ""), details_where, max_length=MAX_REFERENCE_LENGTH
        ),
        bank_reference=checked_id(data.get("bank_reference") or "", where),
    )


def _details_where(tag_lines: dict[str, list[int]], index: int) -> str:
    """The :86: line that follows the index-th :61: line (its details)."""
    statement_line = tag_lines.get("61", [])[index]
    following = [number for number in tag_lines.get("86", []) if number > statement_line]
    return f"line {following[0]}" if following else f"line {statement_line}"


def _purpose(data: dict[str, Any]) -> str:
    """The German structured ?20-?29 (SVWZ+ when keyed) and ?60-?63."""
    return clean_text(" ".join(part for part in (data.get("purpose"), data.get("additional_purpose")) if part))


def _unwrapped(details: str) -> str:
    """The :86: text as one line. Banks wrap it at 65 characters, mid-word: Dutch structured text goes
    on in the next line as it stands, and so does a free-text line that fills the whole width."""
    lines = [line.rstrip("\r") for line in details.split("\n")]
    joined = clean_text("".join(lines))
    if dutch_details(joined):
        return joined
    text = lines[0]
    for previous, line in itertools.pairwise(lines):
        text += ("" if len(previous) >= SWIFT_LINE_WIDTH else " ") + line
    return clean_text(text)


def dutch_details(text: str) -> dict[str, str]:
    """The `/KEY/value` sub-fields of a Dutch :86: (ING, Rabobank, ABN AMRO SEPA): EREF, NAME, IBAN,
    BIC and REMI (its USTD// or STRD/CUR/ prefix dropped), the counterparty from ING's
    /CNTP/account/BIC/name/city/; empty when the text is not so structured."""
    keys = list(_DUTCH_KEY.finditer(text))
    if not text.startswith("/") or not any(key.group(1) in ("REMI", "EREF") for key in keys):
        return {}
    fields: dict[str, str] = {}
    for key, following in itertools.pairwise([*keys, None]):
        value = text[key.end() : following.start() if following else len(text)].strip("/ ")
        if key.group(1) == "REMI":
            value = _REMI_KIND.sub("", value).strip("/ ")
        fields.setdefault(key.group(1), clean_text(value))
    if "CNTP" in fields:
        account, bic, name, *_ = [*fields["CNTP"].split("/"), "", "", ""]
        fields.setdefault("IBAN", account if _IBAN_SHAPED.match(account) else "")
        fields.setdefault("BIC", bic)
        fields.setdefault("NAME", name)
    return {key: value for key, value in fields.items() if value}


def _counterparty_iban(data: dict[str, Any]) -> str:
    """?31 when it is an IBAN (old accounts put a plain account number there), else IBAN+ in the text."""
    account = clean_text(data.get("applicant_iban")).replace(" ", "")
    if _IBAN_LIKE.match(account):
        return account
    return clean_text(data.get("gvc_applicant_iban")).replace(" ", "")


def _checked_optional_bic(value: str | None, where: str) -> str:
    return checked_bic(value, where) if value else ""


def _counterparty_bic(data: dict[str, Any], where: str) -> str:
    """?30 when it is a BIC; a German bank code (digits only) is not one."""
    code = clean_text(data.get("applicant_bin") or data.get("gvc_applicant_bin")).replace(" ", "")
    if not code or code.isdigit():
        return ""
    return checked_bic(code, where)
