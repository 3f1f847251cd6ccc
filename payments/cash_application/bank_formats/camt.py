"""ISO 20022 bank-to-customer cash management: CAMT.053 (statement), CAMT.052 (intraday account report)
and CAMT.054 (debit/credit notification), versions .001.02 to .001.08. The three share the entry
(`Ntry`) structure and differ in the root element, the report element (`Stmt`, `Rpt`, `Ntfctn`) and
whether balances are required (a statement's are; a report's are taken when it has both, and a
notification has none).

A file may hold several reports (one per account and day, as banks export a month or several
accounts at once); each is checked on its own and the file is refused if any is wrong. Booked
entries become lines; pending and information-only ones (an intraday report's) do not. The control
totals of `TxsSummry`, when the bank sends them, must agree with the entries.

The file is read with `iterparse`: each entry is read into lines as its end tag arrives and its
elements dropped, and each report's remaining tree once the report is read; the lines wait in a
spool (bank_formats.spool) that keeps all but the last batch on disk. A file given as a stream is read
as it is parsed, so a large file costs neither its XML tree, nor its bytes, nor its lines.

The versions differ in a few paths (a party's name moved under `Pty`, `BIC` became `BICFI`, a
transaction got its own `Amt`), so each lookup tries the known spellings. Element paths in errors
start below `Stmt`, e.g. "Ntry[3]/Amt", counting repeated elements from 1, and name the
statement when the file holds more than one ("Stmt[2]/Ntry[3]/Amt").
"""

import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import BinaryIO, NamedTuple

from lxml import etree

from payments.cash_application.bank_formats import (
    MAX_REFERENCE_LENGTH,
    AccountReference,
    Lines,
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
from payments.cash_application.bank_formats.spool import LineSpool

VERSIONS = ("02", "03", "04", "05", "06", "07", "08")
_OPENING_CODES = ("OPBD", "PRCD")
_CLOSING_CODES = ("CLBD", "ITBD")  # closing booked, or interim booked at the end of an intraday report
_BOOKED = "BOOK"


@dataclass(frozen=True)
class CamtMessage:
    """What tells the three messages apart."""

    format: str
    name: str
    root: str
    report: str
    balances_required: bool

    @property
    def namespace_prefix(self) -> str:
        return f"urn:iso:std:iso:20022:tech:xsd:{self.name.lower()}.001."


CAMT053 = CamtMessage("camt053", "CAMT.053", "BkToCstmrStmt", "Stmt", balances_required=True)
CAMT052 = CamtMessage("camt052", "CAMT.052", "BkToCstmrAcctRpt", "Rpt", balances_required=False)
CAMT054 = CamtMessage("camt054", "CAMT.054", "BkToCstmrDbtCdtNtfctn", "Ntfctn", balances_required=False)
_DATE_WITH_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?$")


class _Node(NamedTuple):
    """An element and its path for error messages; lookups are namespace-aware. A tuple: an entry makes
    some twenty, and a frozen dataclass costs three times as much to make."""

    element: etree._Element
    path: str
    namespace: str

    def _child_path(self, path: str) -> str:
        return f"{self.path}/{path}" if self.path else path

    def find(self, *paths: str) -> "_Node | None":
        """The first of `paths` present, trying each spelling in turn."""
        for path in paths:
            found = _first(self.element, _tags(self.namespace, path))
            if found is not None:
                return _Node(found, self._child_path(path), self.namespace)
        return None

    def get(self, *paths: str) -> "_Node":
        node = self.find(*paths)
        if node is None:
            raise MalformedStatement(self._child_path(paths[0]), "missing")
        return node

    def all(self, path: str) -> Iterator["_Node"]:
        found = _descendants(self.element, _tags(self.namespace, path))
        for index, element in enumerate(found, start=1):
            yield _Node(element, f"{self._child_path(path)}[{index}]", self.namespace)

    def text(self, *paths: str) -> str:
        node = self.find(*paths)
        return (node.element.text or "").strip() if node is not None else ""

    @property
    def value(self) -> str:
        return (self.element.text or "").strip()


@functools.cache
def _tags(namespace: str, path: str) -> tuple[str, ...]:
    return tuple(f"{{{namespace}}}{step}" for step in path.split("/"))


def _descendants(element: etree._Element, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """The elements at the end of the path of `tags` below `element`, in document order: what `findall`
    yields, without lxml's path machinery on each of the twenty lookups per entry."""
    for child in element.iterchildren(tags[0]):
        if len(tags) == 1:
            yield child
        else:
            yield from _descendants(child, tags[1:])


def _first(element: etree._Element, tags: tuple[str, ...]) -> etree._Element | None:
    """The first of `_descendants`, without a generator."""
    for child in element.iterchildren(tags[0]):
        if len(tags) == 1:
            return child
        found = _first(child, tags[1:])
        if found is not None:
            return found
    return None


def parse_camt053(content: bytes | BinaryIO) -> list[ParsedStatement]:
    """Parse a CAMT.053 file: every statement in it, in file order."""
    return parse_camt(content, CAMT053)


def parse_camt052(content: bytes | BinaryIO) -> list[ParsedStatement]:
    """Parse a CAMT.052 file: every account report in it, with its booked entries."""
    return parse_camt(content, CAMT052)


def parse_camt054(content: bytes | BinaryIO) -> list[ParsedStatement]:
    """Parse a CAMT.054 file: every debit/credit notification in it."""
    return parse_camt(content, CAMT054)


def parse_camt(content: bytes | BinaryIO, message: CamtMessage) -> list[ParsedStatement]:
    """Every report of `message` in the file, in file order; paths in errors name the report when the
    file holds more than one ("Stmt[2]/Ntry[3]/Amt")."""
    reports = list(_reports(content, message))
    if not reports:
        raise MalformedStatement(f"{message.root}/{message.report}", "missing")
    return reports


def _reports(content: bytes | BinaryIO, message: CamtMessage) -> Iterator[ParsedStatement]:
    """Each report parsed as its end tag is read, its elements then dropped. A DTD is refused outright:
    its entities would either be expanded (reading files, fetching URLs, billion laughs) or, left
    unresolved, silently drop the text they stand for."""
    events = etree.iterparse(
        io.BytesIO(content) if isinstance(content, bytes) else content,
        events=("start", "end"),
        tag=("{*}Document", f"{{*}}{message.root}", f"{{*}}{message.report}", "{*}Ntry"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    namespace, count, first_error = "", 0, None
    report, read = None, _Entries()
    try:
        for event, element in events:
            if not namespace:
                namespace = _checked_root(element.getroottree().getroot(), message)
            if event == "end" and report is not None and element.getparent() is report.element:
                if element.tag == f"{{{namespace}}}Ntry" and first_error is None:
                    entry = _Node(element, f"{report.path}/Ntry[{len(read.amounts) + 1}]", namespace)
                    try:
                        _read_entry(entry, report, read)
                    except MalformedStatement as error:
                        if count > 1:
                            raise
                        first_error = error  # its path names the report only if a second one follows
                    report.element.remove(element)
                continue
            if not _is_report(element, namespace, message):
                continue
            if event == "start":
                count += 1
                if first_error is not None:
                    raise first_error
                report, read = _Node(element, f"{message.report}[{count}]", namespace), _Entries()
                continue
            if _has_entity_reference(element):
                raise MalformedStatement("DOCTYPE", "a DTD or entity reference is not allowed in a bank statement")
            if first_error is None:
                try:
                    yield _statement(report, message, read)
                except MalformedStatement as error:
                    if count > 1:
                        raise
                    first_error = error
            report = None
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
    except etree.XMLSyntaxError as error:
        raise MalformedStatement(f"line {error.lineno}", f"not well-formed XML ({error.msg})") from None
    if not namespace and events.root is not None:
        _checked_root(events.root, message)
    if first_error is not None:
        where = re.sub(rf"^{message.report}\[1\][/ ]?", "", first_error.where)
        raise MalformedStatement(where, first_error.problem)


def _is_report(element: etree._Element, namespace: str, message: CamtMessage) -> bool:
    parent = element.getparent()
    return (
        element.tag == f"{{{namespace}}}{message.report}"
        and parent is not None
        and parent.tag == f"{{{namespace}}}{message.root}"
    )


def _checked_root(root: etree._Element, message: CamtMessage) -> str:
    """The namespace of a root of `message` in a version we read; a DTD before it is refused."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise MalformedStatement("DOCTYPE", "a DTD or entity reference is not allowed in a bank statement")
    namespace = etree.QName(root).namespace or ""
    prefix = message.namespace_prefix
    if not namespace.startswith(prefix) or namespace.removeprefix(prefix) not in VERSIONS:
        raise MalformedStatement("Document", f"namespace {namespace!r} is not {message.name} .001.02 to .001.08")
    return namespace


def _has_entity_reference(root: etree._Element) -> bool:
    return any(isinstance(node, etree._Entity) for node in root.iter())


@dataclass
class _Entries:
    """A report's entries as they were read (their elements are gone by the report's end)."""

    currency: str = ""  # the report's, found when its first entry is read
    amounts: list[Decimal] = field(default_factory=list)  # every entry's signed amount, for the control totals
    lines: LineSpool = field(default_factory=LineSpool)  # the booked entries' lines


def _read_entry(entry: _Node, stmt: _Node, read: _Entries) -> None:
    """An entry, as its end tag is read: the report's header (account, balances) is before it."""
    if _has_entity_reference(entry.element):
        raise MalformedStatement("DOCTYPE", "a DTD or entity reference is not allowed in a bank statement")
    read.currency = read.currency or _currency(stmt)
    read.amounts.append(_signed_amount(entry, read.currency))
    if _is_booked(entry):
        read.lines.extend(_entry_lines(entry, read.currency))


def _statement(stmt: _Node, message: CamtMessage, read: _Entries) -> ParsedStatement:
    statement_id = check_statement_id(stmt.get("Id").value, stmt._child_path("Id"))
    account = _account(stmt)
    currency = read.currency or _currency(stmt)
    balances = _balances(stmt, currency, required=message.balances_required)
    _check_control_totals(stmt, read.amounts, currency)
    lines = read.lines
    opening, opening_date, closing, closing_date = balances or (None, None, None, None)
    if balances is not None:
        check_reconciles(opening, lines, closing, f"{stmt.path} balances".lstrip())
    period_start, period_end = _period(stmt, lines, opening_date, closing_date)
    return ParsedStatement(
        format=message.format,
        account=account,
        statement_id=statement_id,
        period_start=period_start,
        period_end=period_end,
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        lines=lines,
    )


def _currency(stmt: _Node) -> str:
    """The account's currency, else that of the first balance, else of the first entry."""
    for path in ("Acct/Ccy", "Bal/Amt", "Ntry/Amt"):
        node = stmt.find(path)
        if node is not None:
            code = node.value if path == "Acct/Ccy" else node.element.get("Ccy", "")
            return checked_currency(code, node.path if path == "Acct/Ccy" else f"{node.path}/@Ccy")
    raise MalformedStatement(stmt._child_path("Acct/Ccy"), "missing, and no balance or entry names a currency")


def _is_booked(entry: _Node) -> bool:
    """`Sts` (to .07) or `Sts/Cd` (.08): BOOK; an entry without a status counts as booked."""
    status = entry.text("Sts/Cd") or entry.text("Sts")
    return not status or status == _BOOKED


def _check_control_totals(stmt: _Node, amounts: list[Decimal], currency: str) -> None:
    """`TxsSummry`: the number and sum of all entries (their signed `amounts`), the net, and the credit
    and debit subtotals."""
    summary = stmt.find("TxsSummry")
    if summary is None:
        return
    groups = {
        "TtlNtries": amounts,
        "TtlCdtNtries": [amount for amount in amounts if amount > 0],
        "TtlDbtNtries": [amount for amount in amounts if amount < 0],
    }
    for group, members in groups.items():
        count = summary.find(f"{group}/NbOfNtries")
        if count is not None and count.value != str(len(members)):
            raise MalformedStatement(count.path, f"says {count.value} entries, the report has {len(members)}")
        total = summary.find(f"{group}/Sum")
        if total is not None:
            expected = sum((abs(amount) for amount in members), Decimal("0"))
            if checked_amount(total.value, currency, total.path) != expected:
                raise MalformedStatement(total.path, f"says {total.value}, the entries add up to {expected}")
    net = summary.find("TtlNtries/TtlNetNtry")  # .04 on: Amt and CdtDbtInd below; .02/.03: TtlNetNtryAmt beside it
    net_amount = net.get("Amt") if net is not None else summary.find("TtlNtries/TtlNetNtryAmt")
    if net_amount is not None:
        expected = sum(amounts, Decimal("0"))
        stated = checked_amount(net_amount.value, currency, net_amount.path)
        indicator = net.text("CdtDbtInd") if net is not None else summary.text("TtlNtries/CdtDbtInd")
        stated = -stated if indicator == "DBIT" else stated
        if stated != expected:
            where = net.path if net is not None else net_amount.path
            raise MalformedStatement(where, f"says a net {stated}, the entries net {expected}")


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


def _balances(stmt: _Node, currency: str, *, required: bool) -> tuple[Decimal, date, Decimal, date] | None:
    """Opening (OPBD, or PRCD: the previous closing) and closing (CLBD, or ITBD at the end of an intraday
    report) balance with their dates; None for a report or notification that does not carry both.
    A PRCD is dated the day the previous statement closed, so this one opens the day after."""
    by_code: dict[str, _Node] = {}
    for balance in stmt.all("Bal"):
        by_code.setdefault(balance.get("Tp/CdOrPrtry/Cd").value, balance)
    opening = next((by_code[code] for code in _OPENING_CODES if code in by_code), None)
    closing = next((by_code[code] for code in _CLOSING_CODES if code in by_code), None)
    if opening is None or closing is None:
        if not required:
            return None
        raise MalformedStatement(
            stmt._child_path("Bal"), "an opening (OPBD or PRCD) and a closing (CLBD) balance are required"
        )
    for balance in (opening, closing):
        amount = balance.get("Amt")
        balance_currency = checked_currency(amount.element.get("Ccy", ""), f"{amount.path}/@Ccy")
        if balance_currency != currency:
            raise MalformedStatement(
                stmt._child_path("Bal"), f"balances are in {balance_currency}, the account in {currency}"
            )
    opening_date, closing_date = _date(opening.get("Dt")), _date(closing.get("Dt"))
    if opening.text("Tp/CdOrPrtry/Cd") == "PRCD":
        opening_date = min(opening_date + timedelta(days=1), closing_date)
    return _signed_amount(opening, currency), opening_date, _signed_amount(closing, currency), closing_date


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


def _period(stmt: _Node, lines: Lines, opening_date: date | None, closing_date: date | None) -> tuple[date, date]:
    """FrToDt when the bank sends it, else the booking dates, else the balance dates, else the day the
    report was created."""
    span = stmt.find("FrToDt")
    if span is not None:
        start = span.get("FrDtTm")
        end = span.get("ToDtTm")
        period = _parse_date(start.value, start.path), _parse_date(end.value, end.path)
    elif lines:
        period = min(line.booking_date for line in lines), max(line.booking_date for line in lines)
    elif opening_date is not None:
        period = opening_date, closing_date
    else:
        created = stmt.get("CreDtTm")
        period = (_parse_date(created.value, created.path),) * 2
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
    reversal = entry.text("RvslInd").lower() in ("true", "1")
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
        _transaction_line(tx, tx_amount, booking_date, value_date, currency, entry_reference, reversal=reversal)
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
    tx: _Node,
    amount: Decimal,
    booking_date: date,
    value_date: date | None,
    currency: str,
    entry_reference: str,
    *,
    reversal: bool,
) -> ParsedLine:
    """The counterparty is the debtor of a credit and the creditor of a debit; a reversal (`RvslInd`)
    keeps the parties of the payment it reverses, so a returned credit names its debtor."""
    party, agent = ("Dbtr", "DbtrAgt") if (amount > 0) != reversal else ("Cdtr", "CdtrAgt")
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
