"""BAI2 (BAI Cash Management Balance Reporting Specifications, version 2): the previous-day and
same-day reports US banks and lockbox services send.

Records are comma-separated fields ending in "/": 01 file header, 02 group header (one bank's
reports as of one date), 03 account identifier with summary amounts (010 opening ledger, 015 closing
ledger, 100 total credits, 400 total debits, each with an item count and funds type), 16
transaction detail (type code, amount, funds type, bank reference, customer reference, free text),
88 continuation of the record before it, 49 account trailer, 98 group trailer, 99 file trailer.
Amounts carry no decimal point: they are in the currency's minor units (cents). Funds types:
0, 1, 2 (immediate, one day, two or more days), Z (unknown), V (value dated: date and time follow),
S (distributed: three amounts follow), D (distributed: a count, then days and amount pairs).

Every trailer's control total and record count is checked, and the summary totals against the
details; one account of one group becomes one statement. Errors name the physical line and the
record ("line 9 (49 account trailer): ..."); a file with any fault is refused whole.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from otc.money import minor_units
from payments.cash_application.bank_formats import (
    MAX_REFERENCE_LENGTH,
    AccountReference,
    MalformedStatement,
    ParsedLine,
    ParsedStatement,
    check_reconciles,
    check_statement_id,
    checked_currency,
    checked_id,
    clean_text,
    rf_reference_in,
)

RECORD_NAMES = {
    "01": "file header",
    "02": "group header",
    "03": "account identifier",
    "16": "transaction detail",
    "49": "account trailer",
    "88": "continuation",
    "98": "group trailer",
    "99": "file trailer",
}
# Which record may follow which: a file is one or more groups, a group one or more accounts.
_MAY_FOLLOW = {
    "01": {None},
    "02": {"01", "98"},
    "03": {"02", "49"},
    "16": {"03", "16"},
    "49": {"03", "16"},
    "98": {"02", "49"},
    "99": {"98"},
}
OPENING_LEDGER, CLOSING_LEDGER, TOTAL_CREDITS, TOTAL_DEBITS = "010", "015", "100", "400"
CREDIT_TYPES = range(100, 400)
DEBIT_TYPES = range(400, 700)
GROUP_UPDATE = "1"
DEFAULT_CURRENCY = "USD"  # the specification's default when a group names none


@dataclass
class _Record:
    """One logical record: its first physical line, its fields (continuations joined) and how many
    physical records it took (the trailers count physical records)."""

    line: int
    code: str
    fields: list[str]
    physical: int = 1

    @property
    def where(self) -> str:
        return f"line {self.line} ({self.code} {RECORD_NAMES[self.code]})"

    def fail(self, problem: str) -> MalformedStatement:
        return MalformedStatement(self.where, problem)


@dataclass
class _Account:
    record: _Record
    number: str
    currency: str
    summary: dict[str, tuple[int | None, int | None]]
    lines: list[ParsedLine] = field(default_factory=list)
    control_total: int = 0
    physical: int = 1


def parse_bai2(content: bytes) -> list[ParsedStatement]:
    """Every account of every group in the file, in file order, all checked before any is returned."""
    records = _records(content)
    statements: list[ParsedStatement] = []
    file_total, file_physical, groups = 0, 0, 0
    header: _Record | None = None
    group: _Record | None = None
    group_total, group_physical, group_accounts = 0, 0, 0
    account: _Account | None = None
    previous: str | None = None
    for record in records:
        if previous == "99":
            raise record.fail("a record after the file trailer")
        if previous not in _MAY_FOLLOW[record.code]:
            after = f"after a {previous} {RECORD_NAMES[previous]} record" if previous else "first"
            raise record.fail(f"not allowed {after}")
        previous = record.code
        file_physical += record.physical
        if record.code == "01":
            header = record
            _file_header(record)
        elif record.code == "02":
            group, group_total, group_physical, group_accounts = record, 0, record.physical, 0
            _group_header(record)
        elif record.code == "03":
            account = _account(record, _group_currency(group))
            group_physical += record.physical
        elif record.code == "16":
            account.lines.append(_transaction(record, account, _as_of(group)))
            account.physical += record.physical
            group_physical += record.physical
        elif record.code == "49":
            account.physical += record.physical
            group_physical += record.physical
            statements.append(_statement(header, group, account))
            _check_trailer(record, [("account control total", account.control_total)], account.physical)
            group_total += account.control_total
            group_accounts += 1
        elif record.code == "98":
            group_physical += record.physical
            _check_trailer(
                record, [("group control total", group_total), ("number of accounts", group_accounts)], group_physical
            )
            file_total += group_total
            groups += 1
        elif record.code == "99":
            _check_trailer(record, [("file control total", file_total), ("number of groups", groups)], file_physical)
    if previous != "99":
        raise MalformedStatement(f"line {records[-1].line if records else 1}", "the file trailer (99) is missing")
    return statements


def _records(content: bytes) -> list[_Record]:
    """Physical lines as logical records, 88 continuations joined to the record they continue: a
    transaction's text goes on with a space, other records' fields with the next field."""
    try:
        text = content.decode("ascii")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise MalformedStatement(f"line {line}", "BAI2 files are ASCII; this byte is not") from None
    records: list[_Record] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        raw = raw.strip()
        if not raw:
            continue
        code, _, rest = raw.partition(",")
        if code not in RECORD_NAMES:
            raise MalformedStatement(f"line {number}", f"record type {code!r} is not a BAI2 record type")
        if code != "88":
            records.append(_Record(number, code, _fields(code, rest)))
            continue
        if not records or records[-1].code in ("49", "98", "99"):
            raise MalformedStatement(f"line {number} (88 continuation)", "continues no record that may go on")
        continued = records[-1]
        if continued.code == "16":
            continued.fields[-1] = f"{continued.fields[-1]} {rest.rstrip('/')}".strip()
        else:
            continued.fields.extend(_fields(continued.code, rest))
        continued.physical += 1
    return records


def _fields(code: str, rest: str) -> list[str]:
    """A record's fields; a transaction's text (its last field) may hold commas and slashes, so the
    caller splits it off, and only its final "/" is dropped."""
    if code == "16":
        return [rest[:-1] if rest.endswith("/") else rest]
    return rest.removesuffix("/").split(",") if rest else []


def _file_header(record: _Record) -> None:
    fields = record.fields + [""] * (8 - len(record.fields))
    if fields[7] and fields[7] != "2":
        raise record.fail(f"version {fields[7]!r}; only BAI version 2 is read")
    _yymmdd(fields[2], record, "file creation date")
    if not fields[4]:
        raise record.fail("the file identification number is missing")


def _group_header(record: _Record) -> None:
    fields = record.fields + [""] * (7 - len(record.fields))
    if fields[2] != GROUP_UPDATE:
        raise record.fail(
            f"group status {fields[2]!r}; only updates (1) are imported, not deletions, corrections or tests"
        )
    _yymmdd(fields[3], record, "as-of date")


def _group_currency(group: _Record) -> str:
    code = group.fields[5] if len(group.fields) > 5 and group.fields[5] else DEFAULT_CURRENCY
    return checked_currency(code, f"{group.where}, currency")


def _as_of(group: _Record) -> date:
    return _yymmdd(group.fields[3], group, "as-of date")


def _yymmdd(text: str, record: _Record, what: str) -> date:
    try:
        return datetime.strptime(text, "%y%m%d").date()
    except ValueError:
        raise record.fail(f"{what} {text!r} is not a date (YYMMDD)") from None


def _cents(text: str, record: _Record, what: str, *, signed: bool = False) -> int | None:
    """An amount in minor units as written: digits only (a sign only for balances); blank is None."""
    if text == "":
        return None
    digits = text[1:] if signed and text[:1] in "+-" else text
    if not digits.isdigit():
        problem = "in minor units without a decimal point" if "." in text or "," in text else "digits only"
        raise record.fail(f"{what} {text!r} must be {problem}")
    return -int(digits) if text.startswith("-") else int(digits)


def _amount(cents: int, currency: str) -> Decimal:
    return Decimal(cents).scaleb(-minor_units(currency))


def _funds(fields: list[str], at: int, record: _Record) -> tuple[int, date | None]:
    """Read the funds type at `at` and what follows it; the index after, and the value date if given."""
    funds_type = fields[at] if at < len(fields) else ""
    at += 1
    if funds_type in ("", "0", "1", "2", "Z"):
        return at, None
    if funds_type == "V":
        value_date = _yymmdd(fields[at] if at < len(fields) else "", record, "value date")
        return at + 2, value_date
    if funds_type == "S":
        for index in range(at, at + 3):
            _cents(fields[index] if index < len(fields) else "", record, "distributed amount")
        return at + 3, None
    if funds_type == "D":
        count = fields[at] if at < len(fields) else ""
        if not count.isdigit():
            raise record.fail(f"number of distributions {count!r} is not a number")
        for index in range(at + 2, at + 1 + 2 * int(count), 2):
            _cents(fields[index] if index < len(fields) else "", record, "distributed amount")
        return at + 1 + 2 * int(count), None
    raise record.fail(f"funds type {funds_type!r} is not one of 0, 1, 2, Z, V, S, D")


def _account(record: _Record, group_currency: str) -> _Account:
    """The account, its currency and summary amounts (type code -> amount and item count, in minor units)."""
    fields = record.fields
    if not fields or not fields[0]:
        raise record.fail("the account number is missing")
    currency = checked_currency(fields[1], f"{record.where}, currency") if len(fields) > 1 and fields[1] else None
    account = _Account(
        record, checked_id(fields[0], record.where), currency or group_currency, {}, physical=record.physical
    )
    at = 2
    while at < len(fields):
        type_code = fields[at]
        if not (len(type_code) == 3 and type_code.isdigit()):
            raise record.fail(f"summary type code {type_code!r} is not three digits")
        amount = _cents(fields[at + 1] if at + 1 < len(fields) else "", record, f"amount of {type_code}", signed=True)
        count = fields[at + 2] if at + 2 < len(fields) else ""
        if count and not count.isdigit():
            raise record.fail(f"item count {count!r} of {type_code} is not a number")
        at, _ = _funds(fields, at + 3, record)
        account.summary[type_code] = (amount, int(count) if count else None)
        account.control_total += amount or 0
    return account


def _transaction(record: _Record, account: _Account, as_of: date) -> ParsedLine:
    """A credit (type codes 100-399) or a debit (400-699) of the account."""
    parts = record.fields[0].split(",")
    type_code = parts[0]
    if not (len(type_code) == 3 and type_code.isdigit()):
        raise record.fail(f"type code {type_code!r} is not three digits")
    if int(type_code) not in CREDIT_TYPES and int(type_code) not in DEBIT_TYPES:
        raise record.fail(f"type code {type_code} is neither a credit (100-399) nor a debit (400-699)")
    cents = _cents(parts[1] if len(parts) > 1 else "", record, "amount")
    if cents is None:
        raise record.fail("the amount is missing")
    at, value_date = _funds(parts, 2, record)
    bank_reference = parts[at] if at < len(parts) else ""
    customer_reference = parts[at + 1] if at + 1 < len(parts) else ""
    text = clean_text(",".join(parts[at + 2 :]))
    account.control_total += cents
    amount = _amount(cents, account.currency)
    return ParsedLine(
        booking_date=as_of,
        value_date=value_date,
        amount=amount if int(type_code) in CREDIT_TYPES else -amount,
        currency=account.currency,
        remittance_information=text,
        structured_reference=rf_reference_in(text),
        end_to_end_id=checked_id(
            customer_reference, f"{record.where}, customer reference", max_length=MAX_REFERENCE_LENGTH
        ),
        bank_reference=checked_id(bank_reference, f"{record.where}, bank reference"),
    )


def _check_trailer(record: _Record, expected: list[tuple[str, int]], physical: int) -> None:
    """A trailer's totals, then its record count (which counts the trailer and every 88 record)."""
    fields = record.fields
    for index, (what, value) in enumerate(expected):
        stated = _cents(fields[index] if index < len(fields) else "", record, what, signed=True)
        if stated != value:
            raise record.fail(f"{what} is {stated}, the records add up to {value}")
    stated = fields[len(expected)] if len(fields) > len(expected) else ""
    if stated != str(physical):
        raise record.fail(f"number of records is {stated or 'missing'}, the file has {physical}")


def _statement(header: _Record, group: _Record, account: _Account) -> ParsedStatement:
    """One account's report as a statement: the as-of day, opening and closing ledger when both are
    given (then they must reconcile), and the summary totals checked against the details."""
    as_of = _as_of(group)
    _check_summary(account)
    opening, _ = account.summary.get(OPENING_LEDGER, (None, None))
    closing, _ = account.summary.get(CLOSING_LEDGER, (None, None))
    balances = None
    if opening is not None and closing is not None:
        balances = _amount(opening, account.currency), _amount(closing, account.currency)
        check_reconciles(balances[0], account.lines, balances[1], account.record.where)
    creation = _yymmdd(header.fields[2], header, "file creation date")
    statement_id = check_statement_id(f"{creation:%y%m%d}-{header.fields[4]}", f"{header.where}, file id")
    bank = group.fields[1] if len(group.fields) > 1 else ""
    return ParsedStatement(
        format="bai2",
        account=AccountReference(bank=bank, number=account.number, written=f"{bank}/{account.number}".strip("/")),
        statement_id=statement_id,
        period_start=as_of,
        period_end=as_of,
        currency=account.currency,
        opening_balance=balances[0] if balances else None,
        closing_balance=balances[1] if balances else None,
        lines=account.lines,
    )


def _check_summary(account: _Account) -> None:
    """Total credits (100) and total debits (400), amount and item count, against the details."""
    for type_code, sign in ((TOTAL_CREDITS, 1), (TOTAL_DEBITS, -1)):
        if type_code not in account.summary:
            continue
        stated, count = account.summary[type_code]
        details = [line.amount * sign for line in account.lines if line.amount * sign > 0]
        total = sum(details, Decimal("0"))
        if stated is not None and _amount(stated, account.currency) != total:
            raise account.record.fail(
                f"summary {type_code} says {_amount(stated, account.currency)}, the details add up to {total}"
            )
        if count is not None and count != len(details):
            raise account.record.fail(f"summary {type_code} counts {count} items, the details are {len(details)}")
