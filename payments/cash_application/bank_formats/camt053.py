"""ISO 20022 CAMT.053 (bank-to-customer statement), versions .001.02 to .001.08.

A file may hold several statements (one `Stmt` per account and day, as banks export a month or
several accounts at once); each is checked on its own and the file is refused if any is wrong.

The versions differ in a few paths (a party's name moved under `Pty`, `BIC` became `BICFI`, a
transaction got its own `Amt`), so each lookup tries the known spellings. Element paths in errors
start below `Stmt`, e.g. "Ntry[3]/Amt", counting repeated elements from 1, and name the
statement when the file holds more than one ("Stmt[2]/Ntry[3]/Amt").
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

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
)

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
VERSIONS = ("02", "03", "04", "05", "06", "07", "08")
_OPENING_CODES = ("OPBD", "PRCD")
_CLOSING_CODE = "CLBD"
_DATE_WITH_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True)
class _Node:
    """An element and its path for error messages; lookups are namespace-aware."""

    element: etree._Element
    path: str
    namespace: str

    def _xpath(self, path: str) -> str:
        return "/".join(f"c:{step}" for step in path.split("/"))

    def _child_path(self, path: str) -> str:
        return f"{self.path}/{path}" if self.path else path

    def find(self, *paths: str) -> "_Node | None":
        """The first of `paths` present, trying each spelling in turn."""
        for path in paths:
            found = self.element.find(self._xpath(path), {"c": self.namespace})
            if found is not None:
                return _Node(found, self._child_path(path), self.namespace)
        return None

    def get(self, *paths: str) -> "_Node":
        node = self.find(*paths)
        if node is None:
            raise MalformedStatement(self._child_path(paths[0]), "missing")
        return node

    def all(self, path: str) -> Iterator["_Node"]:
        found = self.element.findall(self._xpath(path), {"c": self.namespace})
        for index, element in enumerate(found, start=1):
            yield _Node(element, f"{self._child_path(path)}[{index}]", self.namespace)

    def text(self, *paths: str) -> str:
        node = self.find(*paths)
        return (node.element.text or "").strip() if node is not None else ""

    @property
    def value(self) -> str:
        return (self.element.text or "").strip()


def parse_camt053(content: bytes) -> list[ParsedStatement]:
    """Parse a CAMT.053 file: every statement in it, in file order."""
    root = _document(content)
    namespace = etree.QName(root).namespace or ""
    if not namespace.startswith(NAMESPACE_PREFIX) or namespace.removeprefix(NAMESPACE_PREFIX) not in VERSIONS:
        raise MalformedStatement("Document", f"namespace {namespace!r} is not CAMT.053 .001.02 to .001.08")
    statements = list(_Node(root, "", namespace).get("BkToCstmrStmt").all("Stmt"))
    if not statements:
        raise MalformedStatement("BkToCstmrStmt/Stmt", "missing")
    several = len(statements) > 1
    return [_statement(_Node(stmt.element, stmt.path if several else "", namespace)) for stmt in statements]


def _document(content: bytes) -> etree._Element:
    """The root element. A DTD is refused outright: its entities would either be expanded (reading
    files, fetching URLs, billion laughs) or, left unresolved, silently drop the text they stand for."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise MalformedStatement(f"line {error.lineno}", f"not well-formed XML ({error.msg})") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or _has_entity_reference(root):
        raise MalformedStatement("DOCTYPE", "a DTD or entity reference is not allowed in a bank statement")
    return root


def _has_entity_reference(root: etree._Element) -> bool:
    return any(isinstance(node, etree._Entity) for node in root.iter())


def _statement(stmt: _Node) -> ParsedStatement:
    statement_id = check_statement_id(stmt.get("Id").value, stmt._child_path("Id"))
    account = _account(stmt)
    currency_node = stmt.find("Acct/Ccy")
    opening, opening_date, closing, closing_date, balance_currency = _balances(stmt)
    currency = (
        checked_currency(currency_node.value, currency_node.path) if currency_node is not None else balance_currency
    )
    if balance_currency != currency:
        raise MalformedStatement(
            stmt._child_path("Bal"), f"balances are in {balance_currency}, the account in {currency}"
        )
    lines = [line for entry in stmt.all("Ntry") for line in _entry_lines(entry, currency)]
    check_reconciles(opening, lines, closing, f"{stmt.path} balances".lstrip())
    period_start, period_end = _period(stmt, lines, opening_date, closing_date)
    return ParsedStatement(
        format="camt053",
        account=account,
        statement_id=statement_id,
        period_start=period_start,
        period_end=period_end,
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        lines=lines,
    )


def _account(stmt: _Node) -> AccountReference:
    """`Acct/Id/IBAN`, or `Acct/Id/Othr/Id` (a domestic account number) with the servicer's BIC."""
    iban = stmt.find("Acct/Id/IBAN")
    if iban is not None:
        return AccountReference(iban=checked_iban(iban.value, iban.path), written=iban.value)
    other = stmt.get("Acct/Id/IBAN", "Acct/Id/Othr/Id")
    number = checked_id(other.value, other.path)
    if not number:
        raise MalformedStatement(other.path, "the account number is missing")
    bank = stmt.text("Acct/Svcr/FinInstnId/BICFI", "Acct/Svcr/FinInstnId/BIC")
    return AccountReference(bank=bank.upper(), number=number, written=number)


def _balances(stmt: _Node) -> tuple[Decimal, date, Decimal, date, str]:
    """Opening (OPBD, or PRCD: the previous closing) and closing (CLBD) balance with their dates."""
    by_code: dict[str, _Node] = {}
    for balance in stmt.all("Bal"):
        by_code.setdefault(balance.get("Tp/CdOrPrtry/Cd").value, balance)
    opening = next((by_code[code] for code in _OPENING_CODES if code in by_code), None)
    closing = by_code.get(_CLOSING_CODE)
    if opening is None or closing is None:
        raise MalformedStatement(
            stmt._child_path("Bal"), "an opening (OPBD or PRCD) and a closing (CLBD) balance are required"
        )
    currency = checked_currency(opening.get("Amt").element.get("Ccy", ""), f"{opening.path}/Amt/@Ccy")
    return (
        _signed_amount(opening, currency),
        _date(opening.get("Dt")),
        _signed_amount(closing, currency),
        _date(closing.get("Dt")),
        currency,
    )


def _signed_amount(node: _Node, currency: str, *, indicator: str = "") -> Decimal:
    """`Amt` with its `Ccy`, negative when the node's (or the given) indicator is DBIT."""
    amount = node.get("Amt")
    amount_currency = checked_currency(amount.element.get("Ccy", ""), f"{amount.path}/@Ccy")
    if amount_currency != currency:
        raise MalformedStatement(amount.path, f"in {amount_currency}, the statement is in {currency}")
    value = checked_amount(amount.value, currency, amount.path)
    if value < 0:
        raise MalformedStatement(amount.path, "negative; the direction belongs in CdtDbtInd")
    return -value if _is_debit(node, indicator) else value


def _is_debit(node: _Node, indicator: str) -> bool:
    found = node.find("CdtDbtInd")
    if found is None and not indicator:
        raise MalformedStatement(f"{node.path}/CdtDbtInd", "missing")
    code = found.value if found is not None else indicator
    if code not in ("CRDT", "DBIT"):
        raise MalformedStatement(found.path if found is not None else node.path, f"{code!r} is not CRDT or DBIT")
    return code == "DBIT"


def _date(node: _Node) -> date:
    """`Dt` or `DtTm` below the node; a date-time counts on the date written in it."""
    found = node.get("Dt", "DtTm")
    return _parse_date(found.value, found.path)


def _parse_date(text: str, where: str) -> date:
    """ISODate or ISODateTime, each with or without a time-zone offset; the date is the one written."""
    try:
        if "T" in text:
            return datetime.fromisoformat(text).date()
        match = _DATE_WITH_OFFSET.match(text)
        if match is None:
            raise ValueError(text)
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise MalformedStatement(where, f"{text!r} is not a date") from None


def _period(stmt: _Node, lines: list[ParsedLine], opening_date: date, closing_date: date) -> tuple[date, date]:
    """FrToDt when the bank sends it, else the booking dates, else the balance dates."""
    span = stmt.find("FrToDt")
    if span is not None:
        start = span.get("FrDtTm")
        end = span.get("ToDtTm")
        period = _parse_date(start.value, start.path), _parse_date(end.value, end.path)
    elif lines:
        period = min(line.booking_date for line in lines), max(line.booking_date for line in lines)
    else:
        period = opening_date, closing_date
    check_period(*period, span.path if span is not None else "Ntry/BookgDt")
    return period


def _entry_lines(entry: _Node, currency: str) -> list[ParsedLine]:
    """One line per transaction: a batch entry with several TxDtls becomes several lines."""
    amount = _signed_amount(entry, currency)
    booking_date = _date(entry.get("BookgDt"))
    value_date = _date(entry.get("ValDt")) if entry.find("ValDt") is not None else None
    details = list(entry.all("NtryDtls/TxDtls"))
    amounts = _transaction_amounts(entry, details, amount, currency)
    entry_reference = checked_id(entry.text("AcctSvcrRef"), f"{entry.path}/AcctSvcrRef")
    if not details:
        information = clean_text(entry.text("AddtlNtryInf"))
        return [
            ParsedLine(
                booking_date,
                value_date,
                amount,
                currency,
                remittance_information=information,
                bank_reference=entry_reference,
            )
        ]
    return [
        _transaction_line(tx, tx_amount, booking_date, value_date, currency, entry_reference)
        for tx, tx_amount in zip(details, amounts, strict=True)
    ]


def _transaction_amounts(entry: _Node, details: list[_Node], amount: Decimal, currency: str) -> list[Decimal]:
    """Each transaction's signed amount; in a batch they must add up to the entry's amount."""
    if len(details) <= 1:
        return [amount] * len(details)
    indicator = "DBIT" if amount < 0 else "CRDT"
    amounts = []
    for tx in details:
        holder = tx.find("AmtDtls/TxAmt") or (tx if tx.find("Amt") is not None else None)
        if holder is None:
            raise MalformedStatement(f"{tx.path}/AmtDtls/TxAmt/Amt", "missing in a batch entry")
        amounts.append(_signed_amount(holder, currency, indicator=tx.text("CdtDbtInd") or indicator))
    if sum(amounts) != amount:
        raise MalformedStatement(entry.path, f"the transactions add up to {sum(amounts)}, the entry to {amount}")
    return amounts


def _transaction_line(
    tx: _Node, amount: Decimal, booking_date: date, value_date: date | None, currency: str, entry_reference: str
) -> ParsedLine:
    """The counterparty is the debtor of a credit and the creditor of a debit."""
    party, agent = ("Dbtr", "DbtrAgt") if amount > 0 else ("Cdtr", "CdtrAgt")
    iban = tx.find(f"RltdPties/{party}Acct/Id/IBAN")
    bic = tx.find(f"RltdAgts/{agent}/FinInstnId/BICFI", f"RltdAgts/{agent}/FinInstnId/BIC")
    reference = tx.find("RmtInf/Strd/CdtrRefInf/Ref")
    end_to_end_id = checked_id(
        tx.text("Refs/EndToEndId"), f"{tx.path}/Refs/EndToEndId", max_length=MAX_REFERENCE_LENGTH
    )
    return ParsedLine(
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        currency=currency,
        counterparty_name=clean_name(tx.text(f"RltdPties/{party}/Pty/Nm", f"RltdPties/{party}/Nm")),
        counterparty_iban=checked_iban(iban.value, iban.path) if iban is not None else "",
        counterparty_bic=checked_bic(bic.value, bic.path) if bic is not None else "",
        remittance_information=clean_text(" ".join(node.value for node in tx.all("RmtInf/Ustrd"))),
        structured_reference=checked_id(reference.value, reference.path) if reference is not None else "",
        end_to_end_id=end_to_end_id,
        bank_reference=checked_id(tx.text("Refs/AcctSvcrRef"), f"{tx.path}/Refs/AcctSvcrRef") or entry_reference,
    )
