"""Read side of cash application: which open invoices does a bank line pay?

Evidence for a whole batch of lines is gathered set-based, in a fixed number of queries however many
lines there are: invoice numbers and RF creditor references cited, customers owning the payer's IBAN,
customers whose name the payer's name matches, the open invoices one typo away from the numbers that
need it, then, of each customer a line may pay, only the open invoices its amount could settle: those
whose open amount it pays (within the write-off tolerance) and the oldest few searched for sums. A
customer with hundreds of open invoices costs a few rows, not all of them. Each line's evidence is
weighed into ranked proposals with reasons a clerk can check. Nothing is written here;
`payments.cash_application.booking` books what is applied.

A number typed without prefix or year ("1825", "factuur 015020", "Rg 2024-1825") is read only on a line
that cites no full number, and looked up only among the open invoices of the one customer the payer's
IBAN (or else name) identifies; when it fits none or several of them it counts for nothing.

Scoring (added up, capped at 0.99, conflicts subtract):
    invoice number or RF reference cited exactly 0.60, with a typo or without prefix/year 0.45 (scaled
    by the share of the proposal's invoices cited); payer IBAN on file 0.25; payer name equal 0.15, prefix 0.10;
    amount equal to the open amount 0.30, to the sum of 2-4 open invoices 0.20, short by a fee or
    discount within the write-off tolerance 0.15, a part payment of cited invoices 0.05;
    payer IBAN of another customer -0.30, payer name of another customer -0.10, remittance citing
    another customer's invoice -0.20.

Numbers are dense: a slip of one digit often lands on another real invoice of the same customer.
When a number cited exactly is an open invoice the amount does not pay while an open invoice one
typo away from it is paid by the amount, the two are contested: both are proposed, neither above
0.50, and a clerk decides.
"""

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import combinations, islice, product
from typing import NamedTuple

from django.db import connection

from customers.models import BankAccount
from customers.validators import name_key
from invoicing.models import DocumentKind, Invoice, InvoiceStatus
from otc.crypto import fingerprint
from otc.document_numbers import INVOICE_NUMBER, BareNumber, Citation, bare_numbers, near_digits, number_digits
from otc.document_numbers import citations as cited_numbers
from otc.money import quantize
from payments.money.services import write_off_tolerance

REFERENCE_EXACT = 0.60
REFERENCE_FUZZY = 0.45
IBAN_ON_FILE = 0.25
NAME_EQUAL = 0.15
NAME_PREFIX = 0.10
AMOUNT_EQUAL = 0.30
AMOUNT_SUBSET = 0.20
AMOUNT_NET_OF_FEE = 0.15
AMOUNT_PART = 0.05
IBAN_CONFLICT = -0.30
NAME_CONFLICT = -0.10
REFERENCE_CONFLICT = -0.20
CEILING = 0.99
CONTESTED_CEILING = 0.50

BATCH_SIZE = 2000
PROPOSAL_LIMIT = 5  # proposals shown to a clerk per line
SUBSET_POOL = 20  # oldest open invoices of a customer searched for sums of 2 to 4
NAME_MATCHES_MAX = 5  # a payer name matching more customers than this says nothing
FUZZY_CHOICES_MAX = 3  # near numbers tried per cited number
ZERO = Decimal("0")
# Customers whose name key starts with each payer's key, and those whose key equals each shorter prefix.
# Both are ranges on the varchar_pattern_ops index (~>=~ and ~<~ / ~<=~; '~' sorts after every character
# name_key keeps), so that a prepared statement's generic plan cannot take the trigram index instead, as
# it did for = ANY (68 ms for 150 names instead of under 1) and then for the equality join (a worker's
# long-lived connection: 350 ms for 200 prefixes instead of under 1).
CUSTOMERS_BY_NAME_SQL = """
    SELECT k.key, c.id, c.name_key
      FROM unnest(%s::text[]) AS k(key)
     CROSS JOIN LATERAL (
            SELECT id, name_key FROM customers_customer
             WHERE name_key::text ~>=~ k.key AND name_key::text ~<~ (k.key || '~')
             ORDER BY name_key LIMIT %s) c
    UNION ALL
    SELECT k.key, c.id, c.name_key
      FROM unnest(%s::text[]) AS k(key)
      JOIN customers_customer c ON c.name_key::text ~>=~ k.key AND c.name_key::text ~<=~ k.key
"""


@dataclass(frozen=True)
class BankLine:
    """One credit on a bank statement, as the bank reports it."""

    amount: Decimal
    currency: str
    booking_date: date
    remittance: str
    structured_reference: str
    payer_iban: str
    payer_name: str
    line_id: int | None = None
    payer_iban_fingerprint: str = ""  # as stored beside the encrypted IBAN; worked out from it when empty


@dataclass(frozen=True)
class Proposal:
    """Apply `amounts` of the line to `invoice_ids` of the customer; `difference` is the line amount
    minus the invoices' open total (negative: paid short; positive: the rest stays as credit)."""

    customer_id: int
    invoice_ids: tuple[int, ...]
    amounts: tuple[Decimal, ...]
    confidence: float
    reasons: tuple[str, ...]
    difference: Decimal
    write_off: bool


class OpenInvoice(NamedTuple):
    id: int
    number: str
    customer_id: int
    currency: str
    open_amount: Decimal
    due_date: date


@dataclass
class Clues:
    citations: list[Citation]
    iban_fingerprint: str
    payer_key: str
    bare: list[BareNumber] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerItems:
    """Of a customer's open invoices in one currency, those the batch's amounts may settle: the oldest
    `SUBSET_POOL` (for the sums of several), and, by open amount, every one a line's amount pays, so that
    they are found by bisection."""

    oldest_first: list[OpenInvoice]
    amounts: list[Decimal]
    by_amount: list[OpenInvoice]

    @classmethod
    def of(cls, oldest_first: list[OpenInvoice], paid: Iterable[OpenInvoice]) -> "CustomerItems":
        unique = {item.id: item for item in [*oldest_first, *paid]}.values()
        by_amount = sorted(unique, key=lambda item: (item.open_amount, item.due_date or date.max, item.id))
        return cls(oldest_first, [item.open_amount for item in by_amount], by_amount)

    def paid_by(self, amount: Decimal, tolerance: Decimal) -> list[OpenInvoice]:
        """The invoices the amount pays in full, or short by at most the tolerance."""
        return self.by_amount[bisect_left(self.amounts, amount) : bisect_right(self.amounts, amount + tolerance)]


@dataclass
class Evidence:
    """What a batch's queries found, shared by all its lines."""

    cited: dict[str, OpenInvoice]
    customers_by_iban: dict[str, set[int]]
    customers_by_name: dict[str, dict[int, bool]]
    in_view: set[int] = field(default_factory=set)  # customers whose open invoices a line may pay
    open_items: dict[int, list[OpenInvoice]] = field(default_factory=dict)  # all, of payers citing bare numbers
    by_number: dict[str, OpenInvoice] = field(default_factory=dict)  # near numbers, of customers in view
    near: dict[str, list[str]] = field(default_factory=dict)
    searched: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # digits: among customers
    near_lookups: int = 0
    pair_sums: dict[tuple[int, str], dict[int, list[tuple[int, int]]]] = field(default_factory=dict)
    items_in_currency: dict[tuple[int, str], CustomerItems] = field(default_factory=dict)

    def near_numbers(self, digits: str) -> list[str]:
        """The numbers one typo away from year and sequence digits, in digit order, worked out once per
        batch: a cited number is read again for its rivals, its near numbers and the batch-wide search."""
        if digits not in self.near:
            self.near[digits] = [INVOICE_NUMBER.number(near) for near in sorted(near_digits(digits))]
        return self.near[digits]

    def near_invoices(self, digits: str, customers: set[int]) -> Iterator[OpenInvoice]:
        """The customers' open invoices numbered one typo away from the digits, in digit order, of those
        in view and searched already."""
        self.near_lookups += 1
        self.searched[digits] |= customers & self.in_view
        near = (self.by_number.get(number) for number in self.near_numbers(digits))
        return (invoice for invoice in near if invoice is not None and invoice.customer_id in customers)

    def customer_items(self, customer: int, currency: str) -> CustomerItems:
        return self.items_in_currency.get((customer, currency), NO_ITEMS)

    def add_items(self, found: dict[tuple[int, str], CustomerItems]) -> None:
        for key, items in found.items():
            known = self.items_in_currency.get(key)
            self.items_in_currency[key] = (
                items if known is None else CustomerItems.of(known.oldest_first, [*known.by_amount, *items.by_amount])
            )


NO_ITEMS = CustomerItems([], [], [])


class Hit(NamedTuple):
    invoice: OpenInvoice
    citation: Citation | BareNumber
    exact: bool
    contested: bool = False  # the cited number and the amount point at different invoices


def propose_matches(lines: list[BankLine], *, limit: int = 3) -> dict[int, list[Proposal]]:
    """Ranked proposals, best first, for each line by its index; an empty list when nothing fits."""
    proposals: dict[int, list[Proposal]] = {}
    for start in range(0, len(lines), BATCH_SIZE):
        batch = lines[start : start + BATCH_SIZE]
        for offset, ranked in enumerate(_propose_batch(batch, limit)):
            proposals[start + offset] = ranked
    return proposals


def _propose_batch(lines: list[BankLine], limit: int) -> list[list[Proposal]]:
    clues = [_clues(line) for line in lines]
    evidence = Evidence(
        cited=_open_invoices_numbered({c.number for clue in clues for c in clue.citations if c.number}),
        customers_by_iban=_customers_by_iban({clue.iban_fingerprint for clue in clues if clue.iban_fingerprint}),
        customers_by_name=_customers_by_name({clue.payer_key for clue in clues if clue.payer_key}),
    )
    settled = [_settled(line, clue, evidence) for line, clue in zip(lines, clues, strict=True)]
    for clue, done in zip(clues, settled, strict=True):
        if not done:
            evidence.in_view |= _payers_and_cited(clue, evidence)
    evidence.open_items = _open_invoices_of(
        {payer for clue in clues if clue.bare and (payer := _sole_payer(*_payers(clue, evidence))) is not None}
    )
    # What each line's amount settles of its payers' and cited customers' open invoices (a cited number's
    # rivals are among them), then of the customers only a number one typo away from a citation names.
    wanted = {
        (customer, line.currency, line.amount)
        for line, clue in zip(lines, clues, strict=True)
        for customer in _payers_and_cited(clue, evidence) & evidence.in_view
    }
    evidence.add_items(_open_invoices_paid_by(wanted))
    found = _hits_with_near_numbers(lines, clues, evidence)
    unresolved = {citation.digits for _, citations in found for citation in citations}
    far = _open_invoices_numbered({near for digits in unresolved for near in evidence.near_numbers(digits)})
    for line, (hits, citations) in zip(lines, found, strict=True):
        for citation in citations:
            near = (far.get(number) for number in evidence.near_numbers(citation.digits))
            hits.extend(Hit(invoice, citation, exact=False) for invoice in near if _payable(invoice, line))
    candidates = {
        (customer, line.currency, line.amount)
        for line, clue, done, (hits, _) in zip(lines, clues, settled, found, strict=True)
        if not done
        for customer in _candidate_customers(*_payers(clue, evidence), hits) & evidence.in_view
    }
    evidence.add_items(_open_invoices_paid_by(candidates - wanted))
    return [
        _ranked(line, clue, hits, evidence, limit, settled=done)
        for line, clue, done, (hits, _) in zip(lines, clues, settled, found, strict=True)
    ]


def _hits_with_near_numbers(
    lines: list[BankLine], clues: list[Clues], evidence: Evidence
) -> list[tuple[list[Hit], list[Citation]]]:
    """Each line's hits and the citations left for the batch-wide search.

    Only some citations are searched by their near numbers (one missing, or pointing at a customer
    nothing else on the line supports), and which are is known only by reading the line: a first
    reading, with no near invoice known, asks for them among the customers the line names; they are
    read in one query, and the lines that asked are read again with them.
    """
    first, asked = [], []
    for line, clue in zip(lines, clues, strict=True):
        before = evidence.near_lookups
        first.append(_hits(line, clue, evidence))
        asked.append(evidence.near_lookups > before)
    evidence.by_number = _open_invoices_numbered_of(
        {
            (number, customer)
            for digits, customers in evidence.searched.items()
            for number in evidence.near_numbers(digits)
            for customer in customers
        }
    )
    found = [
        _hits(line, clue, evidence) if again else hits
        for line, clue, again, hits in zip(lines, clues, asked, first, strict=True)
    ]
    return found


# --- Clues on a line --------------------------------------------------------------------------------


def _clues(line: BankLine) -> Clues:
    citations = cited_numbers(line.structured_reference, "structured reference")
    citations += cited_numbers(line.remittance, "remittance text")
    bare = [] if citations else _bare_numbers(line)
    iban = re.sub(r"\s", "", line.payer_iban).upper()
    iban_fingerprint = line.payer_iban_fingerprint or (fingerprint(iban) if iban else "")
    return Clues(citations, iban_fingerprint, name_key(line.payer_name) if line.payer_name else "", bare)


def _bare_numbers(line: BankLine) -> list[BareNumber]:
    found = bare_numbers(line.structured_reference, "structured reference", standalone=True)
    known = {(bare.year, bare.sequence) for bare in found}
    return found + [
        bare
        for bare in bare_numbers(line.remittance, "remittance text", standalone=True)
        if (bare.year, bare.sequence) not in known
    ]


# --- Queries, one each per batch ---------------------------------------------------------------------


OPEN_INVOICE_COLUMNS = "id, number, customer_id, currency, open_amount, due_date"
OPEN_INVOICE = "kind = %s AND status = ANY(%s) AND open_amount > 0"
OPEN_INVOICES_PAID_BY_SQL = f"""
    WITH wanted AS (
        SELECT * FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::numeric[])
                   AS w(customer_id, currency, low, high)
    )
    SELECT true, i.*
      FROM (SELECT DISTINCT customer_id, currency FROM wanted) AS c
     CROSS JOIN LATERAL (
            SELECT {OPEN_INVOICE_COLUMNS} FROM {Invoice._meta.db_table}
             WHERE customer_id = c.customer_id AND currency = c.currency AND {OPEN_INVOICE}
             ORDER BY due_date, id LIMIT %s) AS i
    UNION ALL
    SELECT false, i.*
      FROM wanted AS w
     CROSS JOIN LATERAL (
            SELECT {OPEN_INVOICE_COLUMNS} FROM {Invoice._meta.db_table}
             WHERE customer_id = w.customer_id AND currency = w.currency
               AND open_amount BETWEEN w.low AND w.high AND {OPEN_INVOICE}) AS i
"""  # noqa: S608 - table name and constant fragments


def _open_invoice_parameters() -> list:
    return [DocumentKind.INVOICE, [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]]


def _open_invoices(condition: str, *values: list, order: str = "") -> Iterator[OpenInvoice]:
    """Open invoices matching `condition` on array parameters: arrays keep a batch's thousands of
    numbers or customers one parameter each, where IN lists cost more to send than to run."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {OPEN_INVOICE_COLUMNS}
              FROM {Invoice._meta.db_table}
             WHERE {OPEN_INVOICE} AND {condition} {order}
            """,  # noqa: S608 - only the callers' constant fragments are interpolated
            [*_open_invoice_parameters(), *values],
        )
        yield from map(OpenInvoice._make, cursor.fetchall())


def _open_invoices_numbered(numbers: set[str]) -> dict[str, OpenInvoice]:
    if not numbers:
        return {}
    return {invoice.number: invoice for invoice in _open_invoices("number = ANY(%s::text[])", sorted(numbers))}


def _open_invoices_numbered_of(wanted: set[tuple[str, int]]) -> dict[str, OpenInvoice]:
    """The open invoices with these numbers, where they are of the customer asked with the number."""
    if not wanted:
        return {}
    numbers, customers = zip(*sorted(wanted), strict=True)
    return {
        invoice.number: invoice
        for invoice in _open_invoices(
            "(number, customer_id) IN (SELECT * FROM unnest(%s::text[], %s::bigint[]))",
            list(numbers),
            list(customers),
        )
    }


def _open_invoices_of(customer_ids: set[int]) -> dict[int, list[OpenInvoice]]:
    """Open invoices per customer, oldest due first: the order payments settle them in."""
    items: dict[int, list[OpenInvoice]] = defaultdict(list)
    if customer_ids:
        for invoice in _open_invoices(
            "customer_id = ANY(%s::bigint[])", sorted(customer_ids), order="ORDER BY due_date, id"
        ):
            items[invoice.customer_id].append(invoice)
    return items


def _open_invoices_paid_by(wanted: set[tuple[int, str, Decimal]]) -> dict[tuple[int, str], CustomerItems]:
    """For each customer, currency and amount wanted, the customer's open invoices in the currency that
    the amount pays in full or short within the write-off tolerance, and the oldest `SUBSET_POOL`."""
    if not wanted:
        return {}
    customers, currencies, amounts = zip(*sorted(wanted), strict=True)
    highs = [amount + write_off_tolerance(currency) for currency, amount in zip(currencies, amounts, strict=True)]
    oldest: dict[tuple[int, str], list[OpenInvoice]] = defaultdict(list)
    paid: dict[tuple[int, str], list[OpenInvoice]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            OPEN_INVOICES_PAID_BY_SQL,
            [
                list(customers),
                list(currencies),
                list(amounts),
                highs,
                *_open_invoice_parameters(),
                SUBSET_POOL,
                *_open_invoice_parameters(),
            ],
        )
        for is_oldest, *row in cursor.fetchall():
            item = OpenInvoice._make(row)
            (oldest if is_oldest else paid)[item.customer_id, item.currency].append(item)
    return {
        (customer, currency): CustomerItems.of(
            sorted(oldest[customer, currency], key=lambda item: (item.due_date or date.max, item.id)),
            paid[customer, currency],
        )
        for customer, currency, _ in wanted
    }


def _customers_by_iban(fingerprints: set[str]) -> dict[str, set[int]]:
    owners: dict[str, set[int]] = defaultdict(set)
    if fingerprints:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT iban_fingerprint, customer_id FROM {BankAccount._meta.db_table}
                     WHERE iban_fingerprint = ANY(%s::text[]) AND is_active""",  # noqa: S608 - table name
                [sorted(fingerprints)],
            )
            for iban_fingerprint, customer_id in cursor.fetchall():
                owners[iban_fingerprint].add(customer_id)
    return owners


def _customers_by_name(payer_keys: set[str]) -> dict[str, dict[int, bool]]:
    """Customers per payer name key: True when the names are equal, False when one is a prefix of
    the other (a bank truncating the name, or a branch naming itself). Keys matching too many
    customers are dropped: they identify no one."""
    if not payer_keys:
        return {}
    shorter = {prefix for key in payer_keys for prefix in _word_prefixes(key)}
    with connection.cursor() as cursor:
        cursor.execute(CUSTOMERS_BY_NAME_SQL, [sorted(payer_keys), NAME_MATCHES_MAX + 1, sorted(shorter)])
        rows = cursor.fetchall()
    starting: dict[str, dict[int, bool]] = defaultdict(dict)
    for key, customer_id, customer_key in rows:
        starting[key][customer_id] = customer_key == key
    matches: dict[str, dict[int, bool]] = {}
    for key in payer_keys:
        found = dict(starting.get(key, {}))
        for prefix in _word_prefixes(key):
            found.update({customer: False for customer, equal in starting.get(prefix, {}).items() if equal})
        if len(found) <= NAME_MATCHES_MAX:
            matches[key] = found
        elif any(found.values()):
            matches[key] = {customer: True for customer, equal in found.items() if equal}
    return matches


def _word_prefixes(key: str) -> list[str]:
    """'nordwind handel hamburg' -> ['nordwind handel', 'nordwind']; single short words say too little."""
    words = key.split()
    return [prefix for n in range(len(words) - 1, 0, -1) if len(prefix := " ".join(words[:n])) >= 5]


# --- Weighing one line -------------------------------------------------------------------------------


def _payers(clue: Clues, evidence: Evidence) -> tuple[set[int], dict[int, bool]]:
    by_iban = evidence.customers_by_iban.get(clue.iban_fingerprint, set())
    by_name = evidence.customers_by_name.get(clue.payer_key, {})
    return by_iban, by_name


def _settled(line: BankLine, clue: Clues, evidence: Evidence) -> bool:
    """A line citing only open invoices of one customer that no payer evidence contradicts, paying
    them in full or short within the write-off tolerance, needs no search beyond what it cites."""
    invoices = {evidence.cited.get(citation.number) for citation in clue.citations}
    if not invoices or None in invoices or any(invoice.currency != line.currency for invoice in invoices):
        return False
    customers = {invoice.customer_id for invoice in invoices}
    by_iban, by_name = _payers(clue, evidence)
    if len(customers) > 1 or (by_iban and not customers <= by_iban):
        return False
    if any(by_name.values()) and not customers <= set(by_name) | by_iban:
        return False
    short = sum((invoice.open_amount for invoice in invoices), ZERO) - line.amount
    return ZERO <= short <= write_off_tolerance(line.currency)


def _hits(line: BankLine, clue: Clues, evidence: Evidence) -> tuple[list[Hit], list[Citation]]:
    """Invoices the line cites, and the citations left to search among all open invoices.

    An exact number counts; when it is missing, not open, or points at a customer nothing else on
    the line supports (a typo can hit another existing number), near numbers of the customers in
    view are tried; citations still without a trusted invoice are left for the batch-wide search.
    """
    by_iban, by_name = _payers(clue, evidence)
    exact = [
        Hit(evidence.cited[c.number], c, exact=True)
        for c in clue.citations
        if c.number in evidence.cited and _payable(evidence.cited[c.number], line)
    ]
    exact_customers = [hit.invoice.customer_id for hit in exact]
    payers = by_iban | set(by_name)
    in_view = payers | set(exact_customers)
    hits, unresolved = list(exact), []
    for citation in clue.citations:
        hit = next((hit for hit in exact if hit.citation is citation), None)
        if hit and (rivals := _rivals(hit, line, evidence)):
            hits[hits.index(hit)] = hit._replace(contested=True)
            hits.extend(rivals)
            continue
        if hit and _supported(hit, line, payers, exact_customers):
            continue
        near = [invoice for invoice in evidence.near_invoices(citation.digits, in_view) if _payable(invoice, line)]
        hits.extend(Hit(invoice, citation, exact=False) for invoice in near[:FUZZY_CHOICES_MAX])
        if not near:
            unresolved.append(citation)
    payer = _sole_payer(by_iban, by_name)
    for bare in clue.bare if payer is not None else ():
        fitting = [
            item for item in evidence.open_items.get(payer, ()) if _payable(item, line) and bare.fits(item.number)
        ]
        if len(fitting) == 1:
            hit = Hit(fitting[0], bare, exact=False)
            rivals = _rivals(hit, line, evidence)
            hits.extend([hit._replace(contested=True), *rivals] if rivals else [hit])
    return hits, unresolved


def _rivals(hit: Hit, line: BankLine, evidence: Evidence) -> list[Hit]:
    """Open invoices of the cited invoice's customer, one typo away from the number cited, that the
    amount pays when it does not pay the cited one."""
    tolerance = write_off_tolerance(line.currency)
    if _paid_by(hit.invoice, line, tolerance):
        return []
    items = evidence.customer_items(hit.invoice.customer_id, line.currency)
    paid = {invoice.number: invoice for invoice in items.paid_by(line.amount, tolerance)}
    near = (paid.get(number) for number in evidence.near_numbers(_cited_digits(hit)))
    return [Hit(invoice, hit.citation, exact=False, contested=True) for invoice in near if invoice is not None][
        :FUZZY_CHOICES_MAX
    ]


def _cited_digits(hit: Hit) -> str:
    """Year and sequence as cited; for a number typed without prefix or year, those of the invoice it was read as."""
    return hit.citation.digits if isinstance(hit.citation, Citation) else number_digits(hit.invoice.number)


def _paid_by(invoice: OpenInvoice, line: BankLine, tolerance: Decimal) -> bool:
    """The line pays the invoice in full, or short within the write-off tolerance."""
    return ZERO <= invoice.open_amount - line.amount <= tolerance


def _sole_payer(by_iban: set[int], by_name: dict[int, bool]) -> int | None:
    """The one customer the payer is: the owner of the IBAN, else the one customer of that name (else
    the one whose name it starts). None when the line names no one or several."""
    equal = {customer for customer, is_equal in by_name.items() if is_equal}
    for candidates in (by_iban, equal, set(by_name)):
        if candidates:
            return next(iter(candidates)) if len(candidates) == 1 else None
    return None


def _payable(invoice: OpenInvoice | None, line: BankLine) -> bool:
    return invoice is not None and invoice.currency == line.currency


def _supported(hit: Hit, line: BankLine, payers: set[int], exact_customers: list[int]) -> bool:
    """An exact number is trusted when the payer, another cited invoice or the amount agrees with it."""
    customer = hit.invoice.customer_id
    return (
        customer in payers
        or exact_customers.count(customer) > 1
        or _paid_by(hit.invoice, line, write_off_tolerance(line.currency))
    )


def _ranked(
    line: BankLine, clue: Clues, hits: list[Hit], evidence: Evidence, limit: int, *, settled: bool
) -> list[Proposal]:
    by_iban, by_name = _payers(clue, evidence)
    cited = {hit.invoice.id: hit for hit in sorted(hits, key=lambda hit: hit.exact)}  # exact wins
    candidates = {
        tuple(invoice.id for invoice in chosen): chosen
        for chosen in _candidate_sets(line, hits, by_iban, by_name, evidence, settled=settled)
    }
    exactly_cited = frozenset(hit.invoice.customer_id for hit in cited.values() if hit.exact)
    context = _LineContext(line, cited, by_iban, by_name, write_off_tolerance(line.currency), exactly_cited)
    proposals = [_proposal(context, chosen) for chosen in candidates.values()]
    proposals.sort(key=lambda p: (-p.confidence, len(p.invoice_ids), p.invoice_ids))
    return proposals[:limit]


@dataclass
class _LineContext:
    line: BankLine
    cited: dict[int, Hit]
    by_iban: set[int]
    by_name: dict[int, bool]
    tolerance: Decimal
    exactly_cited_customers: frozenset[int]


def _candidate_sets(
    line: BankLine, hits: list[Hit], by_iban: set[int], by_name: dict[int, bool], evidence: Evidence, *, settled: bool
) -> Iterator[tuple[OpenInvoice, ...]]:
    """Invoice sets worth weighing: each customer's cited invoices together, then, unless the line is
    settled by what it cites, single invoices and sums of 2 to 4 invoices of every customer in view
    that the amount fits."""
    exact_amount = False
    for customer_hits in _by_customer(hits).values():
        for chosen in _cited_sets(customer_hits):
            exact_amount |= sum(invoice.open_amount for invoice in chosen) == line.amount
            yield _oldest_first(chosen)
    if settled:
        return
    tolerance = write_off_tolerance(line.currency)
    for customer in sorted(_candidate_customers(by_iban, by_name, hits)):
        items = evidence.customer_items(customer, line.currency)
        for item in items.paid_by(line.amount, tolerance):
            exact_amount |= item.open_amount == line.amount
            yield (item,)
        if not exact_amount and (
            subset := _subset_summing_to(items.oldest_first, line.amount, evidence.pair_sums, customer)
        ):
            yield subset


def _payers_and_cited(clue: Clues, evidence: Evidence) -> set[int]:
    by_iban, by_name = _payers(clue, evidence)
    cited = {evidence.cited[c.number].customer_id for c in clue.citations if c.number in evidence.cited}
    return by_iban | set(by_name) | cited


def _candidate_customers(by_iban: set[int], by_name: dict[int, bool], hits: list[Hit]) -> set[int]:
    return by_iban | set(by_name) | {hit.invoice.customer_id for hit in hits}


def _by_customer(hits: list[Hit]) -> dict[int, list[Hit]]:
    grouped: dict[int, list[Hit]] = defaultdict(list)
    for hit in hits:
        grouped[hit.invoice.customer_id].append(hit)
    return grouped


def _cited_sets(hits: list[Hit]) -> Iterator[tuple[OpenInvoice, ...]]:
    """One invoice per citation: the exact one, or each of the near ones in turn (a few at most)."""
    choices: dict[int, list[OpenInvoice]] = defaultdict(list)
    for hit in hits:
        options = choices[id(hit.citation)]
        if hit.exact and not hit.contested:
            options[:] = [hit.invoice]
        elif not any(other.exact and not other.contested and other.citation is hit.citation for other in hits):
            options.append(hit.invoice)
    for chosen in islice(product(*choices.values()), 8):
        yield tuple({invoice.id: invoice for invoice in chosen}.values())


def _oldest_first(invoices: Iterable[OpenInvoice]) -> tuple[OpenInvoice, ...]:
    return tuple(sorted(invoices, key=lambda invoice: (invoice.due_date or date.max, invoice.id)))


def _subset_summing_to(
    items: list[OpenInvoice], target: Decimal, cache: dict, customer: int
) -> tuple[OpenInvoice, ...] | None:
    """The oldest 2 to 4 of a customer's open invoices whose open amounts add up to the amount exactly.

    Sums of pairs are built once per customer and batch (in minor units, as integers) and combined,
    so the search stays quadratic in the bounded pool.
    """
    pool = items[:SUBSET_POOL]
    if not pool:
        return None
    key = (customer, pool[0].currency)
    if key not in cache:
        cache[key] = _pair_sums(pool)
    pairs, goal = cache[key], _minor(target)
    found = list(pairs.get(goal, ()))
    if not found:
        found = [
            tuple(sorted((*pair, k)))
            for k, item in enumerate(pool)
            for pair in pairs.get(goal - _minor(item.open_amount), ())
            if k not in pair
        ]
    if not found:
        found = [
            tuple(sorted((*first, *second)))
            for total, firsts in pairs.items()
            if total < goal
            for second in pairs.get(goal - total, ())
            for first in firsts
            if not set(first) & set(second)
        ]
    return tuple(pool[index] for index in min(found)) if found else None


def _pair_sums(pool: list[OpenInvoice]) -> dict[int, list[tuple[int, int]]]:
    amounts = [_minor(item.open_amount) for item in pool]
    pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, j in combinations(range(len(pool)), 2):
        pairs[amounts[i] + amounts[j]].append((i, j))
    return pairs


def _minor(amount: Decimal) -> int:
    return int(amount.scaleb(4))


def _proposal(context: _LineContext, invoices: tuple[OpenInvoice, ...]) -> Proposal:
    line = context.line
    customer = invoices[0].customer_id
    cited = [context.cited[invoice.id] for invoice in invoices if invoice.id in context.cited]
    score, reasons = _reference_score(cited, invoices)
    amounts, difference, write_off, amount_score, amount_reasons = _settlement(context, invoices)
    payer_score, payer_reasons = _payer_score(context, customer, invoices)
    contested = [_contested_reason(hit) for hit in cited if hit.contested][:1]
    ceiling = CONTESTED_CEILING if contested else CEILING
    return Proposal(
        customer_id=customer,
        invoice_ids=tuple(invoice.id for invoice, amount in zip(invoices, amounts, strict=True) if amount > ZERO),
        amounts=tuple(quantize(amount, line.currency) for amount in amounts if amount > ZERO),
        confidence=round(max(0.0, min(ceiling, score + amount_score + payer_score)), 2),
        reasons=tuple(reasons + amount_reasons + payer_reasons + contested),
        difference=quantize(difference, line.currency),
        write_off=write_off,
    )


def _bare(citation: BareNumber) -> str:
    return f"{citation.year}-{citation.sequence}" if citation.year else str(citation.sequence)


def _contested_reason(hit: Hit) -> str:
    citation = hit.citation
    typed = f"number {_bare(citation)}" if isinstance(citation, BareNumber) else INVOICE_NUMBER.number(citation.digits)
    return f"{typed} cited and the amount point at different open invoices of the customer: a clerk decides"


def _reference_score(hits: list[Hit], invoices: tuple[OpenInvoice, ...]) -> tuple[float, list[str]]:
    """What the invoices of a proposal that the line cites (`hits`) add, and why."""
    if not hits:
        return 0.0, []
    weight = REFERENCE_EXACT if all(hit.exact for hit in hits) else REFERENCE_FUZZY
    return weight * len(hits) / len(invoices), [_cited_reason(hit) for hit in hits]


def _cited_reason(hit: Hit) -> str:
    number, citation = hit.invoice.number, hit.citation
    if isinstance(citation, BareNumber):
        typed = _bare(citation)
        without = "prefix" if citation.year else "prefix and year"
        return f"number {typed} in {citation.where}, without {without}, is the payer's open invoice {number}"
    if citation.creditor_reference:
        return f"creditor reference {citation.creditor_reference} of invoice {number} in {citation.where}"
    if hit.exact:
        return f"invoice number {number} in {citation.where}"
    typed = INVOICE_NUMBER.number(citation.digits)
    return f"{typed} in {citation.where} is one typo away from invoice number {number}"


def _settlement(
    context: _LineContext, invoices: tuple[OpenInvoice, ...]
) -> tuple[list[Decimal], Decimal, bool, float, list[str]]:
    """Amounts per invoice (oldest settled first), the difference, whether to write off the short
    rest, and what the amount says about the match."""
    line, currency = context.line, context.line.currency
    total = sum((invoice.open_amount for invoice in invoices), ZERO)
    difference = line.amount - total
    amounts, left = [], line.amount
    for invoice in invoices:
        amounts.append(min(invoice.open_amount, left))
        left -= amounts[-1]
    all_cited = all(invoice.id in context.cited for invoice in invoices)
    count = len(invoices)
    if difference == ZERO:
        if count == 1:
            return amounts, difference, False, AMOUNT_EQUAL, ["amount equal to open amount"]
        if all_cited:
            return amounts, difference, False, AMOUNT_EQUAL, [f"amount equal to the open total of {count} invoices"]
        return amounts, difference, False, AMOUNT_SUBSET, [f"amount equal to the sum of {count} open invoices"]
    shown = f"{quantize(abs(difference), currency)} {currency}"
    if difference < ZERO and -difference <= context.tolerance and amounts[-1] > ZERO:
        reason = f"amount {shown} below open amount, within the write-off tolerance (fee or discount)"
        return amounts, difference, True, AMOUNT_NET_OF_FEE, [reason]
    if difference < ZERO:
        reason = f"part payment: {quantize(line.amount, currency)} of {quantize(total, currency)} {currency} open"
        return amounts, difference, False, AMOUNT_PART if all_cited else 0.0, [reason]
    return amounts, difference, False, 0.0, [f"amount exceeds open amount by {shown}; the rest stays as credit"]


def _payer_score(context: _LineContext, customer: int, invoices: tuple[OpenInvoice, ...]) -> tuple[float, list[str]]:
    score, reasons = 0.0, []
    if customer in context.by_iban:
        score, reasons = score + IBAN_ON_FILE, [*reasons, "payer IBAN belongs to customer"]
    elif context.by_iban:
        score, reasons = score + IBAN_CONFLICT, [*reasons, "payer IBAN belongs to another customer"]
    if customer in context.by_name:
        equal = context.by_name[customer]
        score += NAME_EQUAL if equal else NAME_PREFIX
        reasons.append("payer name matches customer" if equal else "payer name resembles customer name")
    elif any(context.by_name.values()) and customer not in context.by_iban:
        score, reasons = score + NAME_CONFLICT, [*reasons, "payer name is another customer's"]
    others_cited = context.exactly_cited_customers - {customer}
    if others_cited and not any(invoice.id in context.cited for invoice in invoices):
        score, reasons = score + REFERENCE_CONFLICT, [*reasons, "remittance cites another customer's invoice"]
    return score, reasons
