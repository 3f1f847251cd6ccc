"""Bank statements as CSV exports, read through a named layout (which column holds what, and how
dates and amounts are written).

A CSV export carries neither the account, the statement id, nor balances: the clerk gives the
account and optionally the id and period at upload, and the statement is stored without balances.
Amounts are signed (credit positive). Errors name the file line, the header being line 1.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from customers.validators import normalize_iban
from otc.errors import field_checked
from payments.cash_application.bank_formats import (
    AccountReference,
    MalformedStatement,
    ParsedLine,
    ParsedStatement,
    check_period,
    check_statement_id,
    checked_amount,
    checked_currency,
    checked_iban,
    checked_id,
    clean_name,
    clean_text,
    rf_reference_in,
)


@dataclass(frozen=True)
class CsvLayout:
    """How one bank's CSV export is written. Column names are header texts; "" means not present."""

    delimiter: str = ","
    encoding: str = "utf-8-sig"
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""
    date: str = "Date"
    amount: str = "Amount"
    currency: str = "Currency"
    counterparty_name: str = "Counterparty"
    counterparty_iban: str = "Counterparty IBAN"
    remittance: str = "Remittance"
    reference: str = "Reference"

    @property
    def columns(self) -> dict[str, str]:
        """Field -> header text of every column this layout reads."""
        names = ("date", "amount", "currency", "counterparty_name", "counterparty_iban", "remittance", "reference")
        return {name: getattr(self, name) for name in names if getattr(self, name)}


CSV_LAYOUTS: dict[str, CsvLayout] = {"generic": CsvLayout()}


def parse_csv(
    content: bytes,
    *,
    layout: CsvLayout,
    account_iban: str,
    statement_id: str = "",
    period: tuple[date, date] | None = None,
) -> ParsedStatement:
    """Parse a CSV export; without a period, it spans the booking dates and names the statement id."""
    account_iban = field_checked("account_iban", normalize_iban, account_iban)
    rows = _rows(_decode(content, layout), layout)
    lines = [_line(row, layout, number) for number, row in rows]
    if not lines:
        raise MalformedStatement("line 2", "the file holds no movements")
    currency = lines[0].currency
    for (number, _), line in zip(rows, lines, strict=True):
        if line.currency != currency:
            raise MalformedStatement(f"line {number}", f"in {line.currency}, the statement is in {currency}")
    period_start, period_end = period or (
        min(line.booking_date for line in lines),
        max(line.booking_date for line in lines),
    )
    check_period(period_start, period_end, "period")
    for (number, _), line in zip(rows, lines, strict=True):
        if not period_start <= line.booking_date <= period_end:
            raise MalformedStatement(
                f"line {number}", f"booked {line.booking_date}, outside the period {period_start}–{period_end}"
            )
    return ParsedStatement(
        format="csv",
        account=AccountReference(iban=account_iban),
        statement_id=check_statement_id(statement_id or f"{period_start:%Y%m%d}-{period_end:%Y%m%d}", "statement id"),
        period_start=period_start,
        period_end=period_end,
        currency=currency,
        opening_balance=None,
        closing_balance=None,
        lines=lines,
    )


def _decode(content: bytes, layout: CsvLayout) -> str:
    try:
        return content.decode(layout.encoding)
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise MalformedStatement(f"line {line}", f"not {layout.encoding} text") from None


def _rows(text: str, layout: CsvLayout) -> list[tuple[int, dict[str, str]]]:
    """(file line number, row by header) for each non-empty row; the layout's columns must all be there."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=layout.delimiter, strict=True)
    try:
        header = reader.fieldnames or []
        missing = [name for name in layout.columns.values() if name not in header]
        if missing:
            raise MalformedStatement("line 1", f"no column {', '.join(map(repr, missing))} in the header {header}")
        rows = []
        for row in reader:
            if None in row:
                raise MalformedStatement(f"line {reader.line_num}", f"more cells than the {len(header)} in the header")
            if any((value or "").strip() for value in row.values()):
                rows.append((reader.line_num, row))
    except csv.Error as error:
        raise MalformedStatement(f"line {reader.line_num}", f"not valid CSV ({error})") from None
    return rows


def _line(row: dict[str, str], layout: CsvLayout, number: int) -> ParsedLine:
    where = f"line {number}"
    columns = layout.columns

    def cell(name: str) -> str:
        return (row.get(columns[name]) or "").strip() if name in columns else ""

    currency = checked_currency(cell("currency"), f"{where}, {layout.currency}")
    remittance = clean_text(cell("remittance"))
    return ParsedLine(
        booking_date=_date(cell("date"), layout, f"{where}, {layout.date}"),
        value_date=None,
        amount=checked_amount(_plain_number(cell("amount"), layout), currency, f"{where}, {layout.amount}"),
        currency=currency,
        counterparty_name=clean_name(cell("counterparty_name")),
        counterparty_iban=checked_iban(cell("counterparty_iban"), f"{where}, {layout.counterparty_iban}"),
        remittance_information=remittance,
        structured_reference=rf_reference_in(remittance),
        bank_reference=checked_id(cell("reference"), f"{where}, {layout.reference}"),
    )


def _plain_number(text: str, layout: CsvLayout) -> str:
    if layout.thousands_separator:
        text = text.replace(layout.thousands_separator, "")
    return text.replace(layout.decimal_separator, ".") if layout.decimal_separator != "." else text


def _date(text: str, layout: CsvLayout, where: str) -> date:
    try:
        return datetime.strptime(text, layout.date_format).date()
    except ValueError:
        raise MalformedStatement(where, f"{text!r} is not a date in the form {layout.date_format}") from None
