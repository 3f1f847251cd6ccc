"""Cash application, the whole path a user waits for: a CAMT.053 file of several statements is written
to disk with the noise of real remittances, then imported (`statement_import.import_bank_statement`),
matched and booked (`services.reconcile_statements_in_batches`: the engine's clear winners booked
set-based, a batch per transaction) with its lines marked, at 20 and at 200 open invoices per customer.
The file is reconciled as a worker reconciles it, OTC_RECONCILIATION_WORKERS (4) batches at once, each on
a database connection of its own: the figure is the time the user waits. The SQL runs on one connection.
Like a worker process, the bench freezes what it holds before the blocks start (gc.freeze), so that full
collections do not walk Django, the apps and the bench's own ground truth.

Against hand-written SQL in the same run, interleaved in blocks: for lines of the same mix, and the
same decisions the engine takes (made before its clock starts), it COPYs the statement lines and
inserts the payments, journal entries with their lines and allocations, settles the invoices and
marks the lines, a handful of statements per block. It parses nothing, matches nothing and writes no
events or audit context.

Before each block, off the clock, the tables' statistics are refreshed (ANALYZE), as autovacuum keeps
them on a server: without, both sides ran on plans made for the empty payment tables of the start (the
SQL at about half its speed).

Each line keeps its ground truth (customer, invoices, amounts), so every automatic application is
counted right or wrong from the rows booked. Peak memory is the process's maximum resident set.

The lines carry the noise of real remittances, in these shares (percent):
    structured reference 30, number in free text 20, number read by OCR (O/0, I/1, S/5, B/8, Z/2
    swapped) 5, RF creditor reference 5, number with a typo
    (digits swapped or changed, a digit or dash missing) 12, several invoices at once 10 (a third of
    them with one typo), part payment 5, fee or discount deducted 9, no reference but a known
    IBAN 2, no reference and several invoices from a new account 1, unknown payer 1.
    Payers send from an IBAN on file 92% of the time, else from a new account with their name
    (as registered, in capitals, or cut short by the bank).

The world (customers, issued invoices, their open items and ledger entries) is generated in SQL, one
scratch database per size; each size runs in its own process.

Memory of a large import: a file of `--import-lines` lines (100,000), as one statement and as twenty,
is written first, then imported in a fresh process of its own; the figure is its peak resident set
above what it held before the import (target: under 50 MB).

    .venv/bin/python bench/cash_application.py [--items-per-customer 20 200] [--customers 600]
        [--lines 1000] [--blocks 3] [--statements-per-file 4] [--import-lines 100000]
"""

import argparse
import gc
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    DEFAULT_URL,
    RssHighWater,
    Timer,
    drop_database,
    peak_rss_mb,
    refresh_statistics,
    setup_django,
    write_results,
)

COMPANY_IBAN = "DE89370400440532013000"
TARGETS = {"lines_per_second": 1000, "ratio_to_sql_at_most": 3, "applied_automatically_pct": 90, "wrong": 0}
IMPORT_MEMORY_TARGET_MB = 50

KINDS = {
    "structured reference": 30,
    "number in text": 20,
    "OCR swaps in number": 5,
    "RF creditor reference": 5,
    "typo in number": 12,
    "several invoices": 10,
    "part payment": 5,
    "fee deducted": 9,
    "no reference, known IBAN": 2,
    "no reference, several invoices, new account": 1,
    "unknown payer": 1,
}
KNOWN_IBAN_SHARE = 0.92
FIRST_WORDS = [
    "Nord",
    "Sued",
    "West",
    "Ost",
    "Berg",
    "Tal",
    "Wald",
    "See",
    "Fluss",
    "Stein",
    "Eisen",
    "Gold",
    "Silber",
    "Kupfer",
    "Licht",
    "Stern",
    "Sonne",
]
SECOND_WORDS = [
    "wind",
    "feld",
    "hof",
    "bruck",
    "hausen",
    "stadt",
    "mark",
    "dorf",
    "land",
    "tor",
    "weg",
    "bau",
    "werk",
    "haus",
    "brunn",
    "berg",
]
TRADES = [
    "Handel",
    "Logistik",
    "Maschinenbau",
    "Elektro",
    "Moebel",
    "Textil",
    "Druck",
    "Getraenke",
    "Bau",
    "Medizintechnik",
]
FORMS = ["GmbH", "AG", "KG", "GmbH & Co. KG", "e.K.", "SE"]
TEXTS = ["Rechnung {}", "Invoice {} thank you", "RE {} Kd-Nr 4711", "Zahlung zu {}", "{}", "Ref {} / Auftrag 88"]


@dataclass(frozen=True)
class Truth:
    """What a line really pays: None for a payer who is no customer."""

    customer_id: int | None
    allocations: dict[int, Decimal]


# --- The world, generated ---------------------------------------------------------------------------


def customer_names(count: int) -> list[str]:
    names = []
    for index in range(count):
        first = FIRST_WORDS[index % len(FIRST_WORDS)] + SECOND_WORDS[(index // len(FIRST_WORDS)) % len(SECOND_WORDS)]
        trade = TRADES[(index // (len(FIRST_WORDS) * len(SECOND_WORDS))) % len(TRADES)]
        names.append(f"{first} {trade} {index // 2720 + 1} {FORMS[index % len(FORMS)]}")
    return names


def iban(index: int) -> str:
    from schwifty import IBAN

    return IBAN.generate("DE", bank_code="37040044", account_code=f"{index:010d}").compact


def build_world(customers: int, per_customer: int):
    """Customers with one bank account each and `per_customer` issued invoices each (numbers spread over
    the customers at random, as issued over time, not in turns: in turns a typo in a number lands on
    another invoice of the same customer far more often than in life), with their open items and ledger
    entries, in SQL; and the company's bank account the statements are for."""
    from django.db import connection

    from customers.models import BankAccount
    from customers.validators import mask_iban, name_key
    from ledger.services import account_ids
    from otc.crypto import fingerprint
    from otc.models import User
    from payments.models import CompanyBankAccount

    clerk = User.objects.create_user("bench-clerk@otc.test", "x", is_staff=True, is_superuser=True)
    CompanyBankAccount.objects.create(name="Bench EUR", iban=COMPANY_IBAN, currency="EUR")
    names = customer_names(customers)
    accounts = account_ids()
    with connection.cursor() as cursor:
        # Setting up data, not measuring: no audit or constraint triggers while generating it.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            """
            INSERT INTO customers_customer (number, legal_name, trading_name, country, tax_id, name_key,
                                            default_currency, language, payment_terms_days, status, notes,
                                            peppol_scheme, peppol_id, leitweg_id, created_at, updated_at)
            SELECT 'C-' || lpad(n::text, 6, '0'), legal_name, '', 'DE', '', key, 'EUR', 'de', 30, 'active', '',
                   '', '', '', now(), now()
              FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(legal_name, key, n)
            """,
            [names, [name_key(name) for name in names]],
        )
        cursor.execute("SELECT id, legal_name FROM customers_customer ORDER BY id")
        rows = cursor.fetchall()
        ids = [customer_id for customer_id, _ in rows]
        cursor.execute(
            """
            INSERT INTO invoicing_invoice (kind, number, status, currency, company_currency, exchange_rate,
                   issue_date, due_date, payment_terms_days, customer_snapshot, billing_address, shipping_address,
                   po_number, reason, net_total, tax_total, gross_total, open_amount, credited_amount,
                   language, layout, notes, created_at, issued_at, updated_at, created_by_id,
                   customer_id, issued_by_id)
            SELECT 'invoice', 'INV-2026-' || lpad(g::text, greatest(length(g::text), 6), '0'), 'issued',
                   'EUR', 'EUR', 1,
                   date '2026-01-01' + g %% 90, date '2026-01-31' + g %% 90, 30, '{}', '{}', '{}', '', '',
                   net, round(net * 0.19, 2), net + round(net * 0.19, 2), net + round(net * 0.19, 2), 0,
                   'de', 'standard', '', now(), now(), now(), %s, (%s::bigint[])[1 + (r - 1) %% %s], %s
              FROM (SELECT g, row_number() OVER (ORDER BY hashtext('p' || g)) AS r FROM generate_series(1, %s) g) g
             CROSS JOIN LATERAL (SELECT round(20 + (hashtext('n' || g)::bigint & 2147483647) %% 800000 / 100.0, 2)
                                   AS net) amounts
            """,
            [clerk.pk, ids, len(ids), clerk.pk, customers * per_customer],
        )
        cursor.execute(
            """
            INSERT INTO ledger_openitem (customer_id, kind, document_id, reference, currency, issued_on, due_on)
            SELECT customer_id, 'invoice', id, number, currency, issue_date, due_date FROM invoicing_invoice
            """
        )
        cursor.execute(
            """
            INSERT INTO ledger_journalentry (id, posted_on, kind, memo, item_id, source, created_by_id, created_at)
            SELECT i.id, i.issued_on, 'invoice', i.reference, i.id, '', %s, now() FROM ledger_openitem i
            """,
            [clerk.pk],
        )
        cursor.execute(
            """
            INSERT INTO ledger_journalline (entry_id, posted_on, entry_kind, account_id, customer_id, item_id,
                                            currency, amount, amount_company)
            SELECT i.id, i.issued_on, 'invoice', %s, i.customer_id, i.id, 'EUR', v.gross_total, v.gross_total
              FROM ledger_openitem i JOIN invoicing_invoice v ON v.id = i.document_id
            UNION ALL
            SELECT i.id, i.issued_on, 'invoice', %s, NULL, NULL, 'EUR', -v.net_total, -v.net_total
              FROM ledger_openitem i JOIN invoicing_invoice v ON v.id = i.document_id
            UNION ALL
            SELECT i.id, i.issued_on, 'invoice', %s, NULL, NULL, 'EUR', -v.tax_total, -v.tax_total
              FROM ledger_openitem i JOIN invoicing_invoice v ON v.id = i.document_id
            """,
            [accounts["receivable"], accounts["revenue"], accounts["tax_payable"]],
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('ledger_journalentry', 'id'),"
            " (SELECT max(id) FROM ledger_journalentry))"
        )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
    BankAccount.objects.bulk_create(
        BankAccount(
            customer_id=customer_id,
            holder_name=name,
            iban=iban(index),
            iban_fingerprint=fingerprint(iban(index)),
            iban_masked=mask_iban(iban(index)),
        )
        for index, (customer_id, name) in enumerate(rows)
    )
    return clerk, rows


def open_items():
    from invoicing.models import Invoice

    items: dict[int, list[tuple]] = {}
    for row in Invoice.objects.order_by("due_date", "id").values_list("id", "number", "customer_id", "open_amount"):
        items.setdefault(row[2], []).append(row)
    return items


# --- Bank lines with noise and their ground truth ----------------------------------------------------


class LineMaker:
    def __init__(self, customers: list[tuple[int, str]], items: dict[int, list[tuple]], seed: int):
        self.rng = random.Random(seed)
        self.customers = customers
        self.index = {customer_id: index for index, (customer_id, _) in enumerate(customers)}
        self.unpaid = {customer_id: list(rows) for customer_id, rows in items.items()}
        self.strangers = 0

    def make(self, count: int):
        from payments.cash_application.matching import BankLine

        kinds = self.rng.choices(list(KINDS), weights=list(KINDS.values()), k=count)
        made = []
        for number, kind in enumerate(kinds):
            amount, remittance, reference, payer_iban, payer_name, truth = self.line(kind)
            made.append(
                (
                    kind,
                    BankLine(
                        amount=amount,
                        currency="EUR",
                        booking_date=date(2026, 4, 1) + timedelta(days=number % 20),
                        remittance=remittance,
                        structured_reference=reference,
                        payer_iban=payer_iban,
                        payer_name=payer_name,
                        line_id=number,
                    ),
                    truth,
                )
            )
        return made

    def take(self, count: int) -> tuple[int, list[tuple]]:
        """A customer and `count` of its invoices not paid by an earlier line, oldest first."""
        while True:
            customer_id, _ = self.rng.choice(self.customers)
            unpaid = self.unpaid.get(customer_id, [])
            if len(unpaid) >= count:
                chosen = sorted(self.rng.sample(range(len(unpaid)), count))
                taken = [unpaid[i] for i in chosen]
                self.unpaid[customer_id] = [row for i, row in enumerate(unpaid) if i not in chosen]
                return customer_id, taken

    def payer(self, customer_id: int, *, known: bool | None = None) -> tuple[str, str]:
        name = self.customers[self.index[customer_id]][1]
        if known if known is not None else self.rng.random() < KNOWN_IBAN_SHARE:
            return iban(self.index[customer_id]), name if self.rng.random() < 0.5 else ""
        style = self.rng.random()
        shown = name if style < 0.6 else name.upper() if style < 0.85 else name[:18]
        return iban(900000 + self.index[customer_id]), shown

    def typo(self, number: str) -> str:
        digits = list(number[9:])
        style = self.rng.randrange(4)
        if style == 0:
            positions = [i for i in range(5) if digits[i] != digits[i + 1]]
            i = self.rng.choice(positions)
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        elif style == 1:
            i = self.rng.randrange(6)
            digits[i] = self.rng.choice([d for d in "0123456789" if d != digits[i]])
        elif style == 2:
            del digits[self.rng.choice([i for i in range(6) if digits[i] != "0"] or [5])]
        else:
            return number[:8] + number[9:] if self.rng.random() < 0.5 else number.replace("-", "")
        return number[:9] + "".join(digits)

    def scanned(self, number: str) -> str:
        """The number as OCR reads it off a scan: each digit that looks like a letter may become one."""
        looks_like = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z"}
        while True:
            read = "".join(
                looks_like[char] if char in looks_like and self.rng.random() < 0.5 else char for char in number
            )
            if read != number or not any(char in looks_like for char in number):
                return read

    def line(self, kind: str):
        """Amount, remittance, structured reference, payer IBAN and name, and the truth of one line."""
        from otc.document_numbers import creditor_reference

        rng = self.rng
        if kind == "unknown payer":
            self.strangers += 1
            amount = Decimal(rng.randint(1000, 900000)) / 100
            return (
                amount,
                "Zahlung",
                "",
                iban(800000 + self.strangers),
                f"Fremdfirma {self.strangers} AG",
                Truth(None, {}),
            )
        count = rng.randint(2, 4) if kind.startswith(("several", "no reference, several")) else 1
        customer_id, rows = self.take(count)
        numbers = [row[1] for row in rows]
        opens = [row[3] for row in rows]
        allocations = {row[0]: row[3] for row in rows}
        amount = sum(opens)
        if kind == "part payment":
            amount = (opens[0] * Decimal(rng.randint(30, 90)) / 100).quantize(Decimal("0.01"))
            allocations = {rows[0][0]: amount}
        elif kind == "fee deducted":
            amount = opens[0] - Decimal(rng.randint(50, 499)) / 100
            allocations = {rows[0][0]: amount}
        if kind == "typo in number":
            numbers = [self.typo(numbers[0])]
        elif kind == "OCR swaps in number":
            numbers = [self.scanned(numbers[0])]
        elif kind == "several invoices" and rng.random() < 1 / 3:
            wrong = rng.randrange(count)
            numbers[wrong] = self.typo(numbers[wrong])
        reference, remittance = "", ""
        if kind == "structured reference":
            reference = numbers[0]
        elif kind == "RF creditor reference":
            reference = re.sub(r"(.{4})", r"\1 ", creditor_reference(numbers[0])).strip()
        elif not kind.startswith("no reference"):
            remittance = rng.choice(TEXTS).format(", ".join(numbers))
        else:
            remittance = rng.choice(["Zahlung", "Sammelzahlung Maerz", "Danke", ""])
        known = False if kind == "no reference, several invoices, new account" else None
        known = True if kind == "no reference, known IBAN" else known
        payer_iban, payer_name = self.payer(customer_id, known=known)
        return amount, remittance, reference, payer_iban, payer_name, Truth(customer_id, allocations)


# --- The file, the whole path, and the hand-written SQL ----------------------------------------------


def camt_file(made, *, block: int, statements: int) -> bytes:
    """A CAMT.053 file of `statements` statements of the company's account, the lines split among them."""
    chunks = [made[k::statements] for k in range(statements)]
    parts = []
    for k, chunk in enumerate(chunks):
        entries = "".join(_entry(line, f"B{block}S{k}L{n}") for n, (_, line, _) in enumerate(chunk, start=1))
        closing = sum((line.amount for _, line, _ in chunk), Decimal("0"))
        day = max(line.booking_date for _, line, _ in chunk)
        parts.append(
            f"<Stmt><Id>B{block}-S{k}</Id><CreDtTm>{day}T22:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{COMPANY_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            f"{_balance('OPBD', Decimal('0.00'), day)}{_balance('CLBD', closing, day)}{entries}</Stmt>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>BENCH-{block}</MsgId><CreDtTm>2026-04-30T22:00:00</CreDtTm></GrpHdr>"
        f"{''.join(parts)}</BkToCstmrStmt></Document>\n"
    ).encode()


def _balance(code: str, amount: Decimal, day: date) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy='EUR'>{amount:.2f}</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
    )


def _entry(line, reference: str) -> str:
    remittance = f"<Ustrd>{escape(line.remittance)}</Ustrd>" if line.remittance else ""
    if line.structured_reference:
        remittance += f"<Strd><CdtrRefInf><Ref>{escape(line.structured_reference)}</Ref></CdtrRefInf></Strd>"
    return (
        f"<Ntry><NtryRef>{reference}</NtryRef><Amt Ccy='EUR'>{line.amount:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
        f"<Sts>BOOK</Sts><BookgDt><Dt>{line.booking_date}</Dt></BookgDt><ValDt><Dt>{line.booking_date}</Dt></ValDt>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs>"
        f"<RltdPties><Dbtr><Nm>{escape(line.payer_name or 'Unknown')}</Nm></Dbtr>"
        f"<DbtrAcct><Id><IBAN>{line.payer_iban}</IBAN></Id></DbtrAcct></RltdPties>"
        f"<RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def run_whole_path(made, *, clerk, folder: Path, block: int, statements: int):
    """Write the file, then on the clock: read it, import it, reconcile its statements as a worker does
    (OTC_RECONCILIATION_WORKERS at once, OTC_STATEMENT_UPLOAD_BATCH_LINES per batch)."""
    from django.conf import settings

    from payments.cash_application.services import reconcile_statements_in_batches
    from payments.cash_application.statement_import import import_bank_statement

    path = folder / f"block-{block}.xml"
    path.write_bytes(camt_file(made, block=block, statements=statements))
    with Timer() as timer, path.open("rb") as source:
        imported = import_bank_statement(content=source, filename=path.name, format="camt053", actor=clerk)
        for _ in reconcile_statements_in_batches(
            statements=imported,
            actor=clerk,
            batch_size=settings.OTC_STATEMENT_UPLOAD_BATCH_LINES,
            workers=settings.OTC_RECONCILIATION_WORKERS,
        ):
            pass
    return timer.seconds, booked(imported, made, statements)


def booked(imported, made, statements: int) -> list:
    """Per line of `made`: (customer, {invoice: amount}) of the payment applied automatically, or None."""
    from payments.models import Allocation, BankStatementLine

    allocations: dict[int, dict[int, Decimal]] = {}
    for payment_id, invoice_id, amount in Allocation.objects.filter(
        payment__statement_lines__statement__in=imported
    ).values_list("payment_id", "invoice_id", "amount"):
        allocations.setdefault(payment_id, {})[invoice_id] = amount
    decisions = [None] * len(made)
    for statement_id, line_no, automatically, payment_id, customer_id in BankStatementLine.objects.filter(
        statement__in=imported
    ).values_list("statement__statement_id", "line_no", "applied_automatically", "payment_id", "payment__customer_id"):
        if automatically:
            k = int(statement_id.rsplit("S", 1)[1])
            decisions[k + (line_no - 1) * statements] = (customer_id, allocations.get(payment_id, {}))
    return decisions


def engine_decisions(made):
    """What the engine decides for the lines (its clear winners), for the SQL to book, off the clock."""
    from payments.cash_application.auto_apply import auto_apply_threshold, clear_winner
    from payments.cash_application.matching import propose_matches

    proposals = propose_matches([line for _, line, _ in made])
    return [clear_winner(proposals[i], auto_apply_threshold()) for i in range(len(made))]


def run_sql(made, winners, *, clerk, block: int, statements: int) -> float:
    """The same rows booked by hand-written SQL: statements and lines, payments, journal entries and
    lines, allocations, invoices settled, lines marked; one transaction."""
    from django.db import connection, transaction

    from ledger.services import account_ids
    from payments.models import BankStatementLine

    encrypt = BankStatementLine._meta.get_field("counterparty_iban")
    accounts = account_ids()
    with Timer() as timer, transaction.atomic(), connection.cursor() as cursor:
        chunks = [list(range(k, len(made), statements)) for k in range(statements)]
        cursor.execute(
            """
            INSERT INTO payments_bankstatement (account_iban, statement_id, period_start, period_end, currency,
                   opening_balance, closing_balance, format, file_sha256, filename, line_count, imported_at,
                   imported_by_id)
            SELECT %s, s.id, '2026-04-01', '2026-04-30', 'EUR', 0, s.closing, 'camt053', %s, 'sql.xml', s.n, now(), %s
              FROM unnest(%s::varchar[], %s::numeric[], %s::int[]) AS s (id, closing, n)
            RETURNING id
            """,
            [
                COMPANY_IBAN,
                f"{block:064d}",
                clerk.pk,
                [f"SQL{block}-S{k}" for k in range(statements)],
                [sum(made[i][1].amount for i in chunk) for chunk in chunks],
                [len(chunk) for chunk in chunks],
            ],
        )
        statement_ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(
            "COPY payments_bankstatementline (statement_id, line_no, booking_date, amount, currency,"
            " counterparty_name, counterparty_iban, counterparty_iban_fingerprint, counterparty_bic,"
            " remittance_information, structured_reference, end_to_end_id, bank_reference, status,"
            " applied_automatically, match_reasons) FROM STDIN"
        ) as copy:
            for statement_id, chunk in zip(statement_ids, chunks, strict=True):
                for n, i in enumerate(chunk, start=1):
                    line = made[i][1]
                    copy.write_row(
                        (
                            statement_id,
                            n,
                            line.booking_date,
                            line.amount,
                            "EUR",
                            line.payer_name,
                            encrypt.get_db_prep_value(line.payer_iban, connection),
                            "",
                            "",
                            line.remittance,
                            line.structured_reference,
                            f"SQL{block}L{i}",
                            f"SQL{block}L{i}",
                            "unmatched",
                            False,
                            "[]",
                        )
                    )
        cursor.execute(
            "SELECT id FROM payments_bankstatementline WHERE statement_id = ANY(%s) ORDER BY statement_id, line_no",
            [statement_ids],
        )
        line_of = dict(zip([i for chunk in chunks for i in chunk], [row[0] for row in cursor.fetchall()], strict=True))
        applied = [i for i, winner in enumerate(winners) if winner is not None]
        invoice_ids = sorted({pk for i in applied for pk in winners[i].invoice_ids})
        cursor.execute(
            "SELECT id, open_amount FROM invoicing_invoice WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [invoice_ids]
        )
        cursor.execute(
            "SELECT document_id, id FROM ledger_openitem WHERE kind = 'invoice' AND document_id = ANY(%s)",
            [invoice_ids],
        )
        items = dict(cursor.fetchall())
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('payments_payment', 'id')), nextval('payments_payment_number_seq')"
            " FROM generate_series(1, %s)",
            [len(applied)],
        )
        payment_of = dict(zip(applied, cursor.fetchall(), strict=True))
        cursor.execute(
            """
            INSERT INTO payments_payment (id, number, customer_id, currency, amount, bank_fee, allocated_amount,
                   refunded_amount, received_on, method, source, external_id, reference, payer_name,
                   created_by_id, created_at)
            SELECT p.id, 'PAY-2026-' || lpad(p.n::text, 6, '0'), p.customer_id, 'EUR', p.amount, 0, p.allocated, 0,
                   p.received_on, 'bank_transfer', 'bank_statement', 'bank-line:' || p.line_id, p.reference,
                   p.payer_name, %s, now()
              FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::numeric[], %s::numeric[], %s::date[],
                          %s::bigint[], %s::varchar[], %s::varchar[])
                   AS p (id, n, customer_id, amount, allocated, received_on, line_id, reference, payer_name)
            """,
            [
                clerk.pk,
                [payment_of[i][0] for i in applied],
                [payment_of[i][1] for i in applied],
                [winners[i].customer_id for i in applied],
                [made[i][1].amount for i in applied],
                [sum(winners[i].amounts, Decimal(0)) for i in applied],
                [made[i][1].booking_date for i in applied],
                [line_of[i] for i in applied],
                [(made[i][1].remittance or made[i][1].structured_reference)[:300] for i in applied],
                [made[i][1].payer_name[:200] for i in applied],
            ],
        )
        allocations = [
            (i, pk, amount)
            for i in applied
            for pk, amount in zip(winners[i].invoice_ids, winners[i].amounts, strict=True)
        ]
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('ledger_journalentry', 'id')) FROM generate_series(1, %s)",
            [len(applied) + len(allocations)],
        )
        entry_ids = [row[0] for row in cursor.fetchall()]
        received_ids, allocation_ids = entry_ids[: len(applied)], entry_ids[len(applied) :]
        cursor.execute(
            """
            INSERT INTO ledger_journalentry (id, posted_on, kind, memo, item_id, source, created_by_id, created_at)
            SELECT e.id, e.posted_on, e.kind, e.memo, e.item_id, e.source, %s, now()
              FROM unnest(%s::bigint[], %s::date[], %s::varchar[], %s::varchar[], %s::bigint[], %s::varchar[])
                   AS e (id, posted_on, kind, memo, item_id, source)
            """,
            [
                clerk.pk,
                received_ids + allocation_ids,
                [made[i][1].booking_date for i in applied] + [date.today()] * len(allocations),
                ["payment"] * len(applied) + ["allocation"] * len(allocations),
                [f"PAY {payment_of[i][1]}" for i in applied]
                + [f"PAY {payment_of[i][1]} → {pk}" for i, pk, _ in allocations],
                [None] * len(applied) + [items[pk] for _, pk, _ in allocations],
                [f"payment:{payment_of[i][0]}" for i in applied]
                + [f"payment:{payment_of[i][0]}" for i, _, _ in allocations],
            ],
        )
        rows = []  # entry, posted_on, kind, account, customer, item, amount
        for entry_id, i in zip(received_ids, applied, strict=True):
            amount, customer = made[i][1].amount, winners[i].customer_id
            rows.append((entry_id, made[i][1].booking_date, "payment", accounts["cash"], None, None, amount))
            rows.append(
                (entry_id, made[i][1].booking_date, "payment", accounts["customer_credit"], customer, None, -amount)
            )
        for entry_id, (i, pk, amount) in zip(allocation_ids, allocations, strict=True):
            customer = winners[i].customer_id
            rows.append((entry_id, date.today(), "allocation", accounts["customer_credit"], customer, None, amount))
            rows.append((entry_id, date.today(), "allocation", accounts["receivable"], customer, items[pk], -amount))
        columns = list(zip(*rows, strict=True))
        cursor.execute(
            """
            INSERT INTO ledger_journalline (entry_id, posted_on, entry_kind, account_id, customer_id, item_id,
                                            currency, amount, amount_company)
            SELECT l.entry_id, l.posted_on, l.kind, l.account_id, l.customer_id, l.item_id, 'EUR', l.amount, l.amount
              FROM unnest(%s::bigint[], %s::date[], %s::varchar[], %s::bigint[], %s::bigint[], %s::bigint[],
                          %s::numeric[]) AS l (entry_id, posted_on, kind, account_id, customer_id, item_id, amount)
            """,
            [list(column) for column in columns],
        )
        cursor.execute(
            """
            INSERT INTO payments_allocation (payment_id, invoice_id, amount, write_off_amount, journal_entry_id,
                                             created_by_id, created_at, reversal_reason)
            SELECT a.payment_id, a.invoice_id, a.amount, 0, a.entry_id, %s, now(), ''
              FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::bigint[])
                   AS a (payment_id, invoice_id, amount, entry_id)
            """,
            [
                clerk.pk,
                [payment_of[i][0] for i, _, _ in allocations],
                [pk for _, pk, _ in allocations],
                [amount for _, _, amount in allocations],
                allocation_ids,
            ],
        )
        cursor.execute(
            """
            UPDATE invoicing_invoice AS v
               SET open_amount = v.open_amount - s.amount,
                   status = CASE WHEN v.open_amount = s.amount THEN 'paid' ELSE 'partially_paid' END, updated_at = now()
              FROM unnest(%s::bigint[], %s::numeric[]) AS s (id, amount)
             WHERE v.id = s.id
            """,
            [[pk for _, pk, _ in allocations], [amount for _, _, amount in allocations]],
        )
        cursor.execute(
            """
            UPDATE payments_bankstatementline AS l
               SET status = 'applied', applied_automatically = true, payment_id = b.payment_id,
                   match_confidence = b.confidence, match_reasons = b.reasons::jsonb
              FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::text[])
                   AS b (id, payment_id, confidence, reasons)
             WHERE l.id = b.id
            """,
            [
                [line_of[i] for i in applied],
                [payment_of[i][0] for i in applied],
                [winners[i].confidence for i in applied],
                [json.dumps(list(winners[i].reasons)) for i in applied],
            ],
        )
    return timer.seconds


def right(decision, truth: Truth) -> bool:
    customer_id, allocations = decision
    return customer_id == truth.customer_id and allocations == truth.allocations


def one_size(args) -> dict:
    """The whole path and the SQL at one number of open invoices per customer, interleaved in blocks."""
    os.environ["BENCH_DATABASE_URL"] = (
        os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL.rsplit("/", 1)[0] + "/otc_bench_cash") + f"_{args.one}"
    )
    url = setup_django()
    from django.conf import settings

    from otc.celery import app, freeze_startup_objects

    # The outbox rows are part of the booking transaction; the task that dispatches them goes to an
    # in-memory broker instead of running the event handlers inline, as a worker would run them later.
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://localhost/"
    with Timer() as build_time:
        clerk, customers = build_world(args.customers, args.one)
    print(f"world: {args.customers} customers x {args.one} open invoices in {build_time.seconds:.1f} s", flush=True)
    maker = LineMaker(customers, open_items(), seed=11)
    # A worker process freezes what it holds once started; the bench's own ground truth (every open
    # invoice of the world, which no worker holds) is frozen with it.
    freeze_startup_objects()
    warm = maker.make(200)
    with tempfile.TemporaryDirectory() as folder:
        run_whole_path(warm, clerk=clerk, folder=Path(folder), block=0, statements=args.statements_per_file)
        warm_sql = maker.make(200)
        run_sql(warm_sql, engine_decisions(warm_sql), clerk=clerk, block=0, statements=args.statements_per_file)
        rss_before = peak_rss_mb()
        engine_seconds = sql_seconds = 0.0
        made_all, decisions_all = [], []
        for block in range(1, args.blocks + 1):
            refresh_statistics()  # off the clock, as autovacuum keeps them on a server
            made = maker.make(args.lines)
            seconds, decisions = run_whole_path(
                made, clerk=clerk, folder=Path(folder), block=block, statements=args.statements_per_file
            )
            engine_seconds += seconds
            made_all += made
            decisions_all += decisions
            for_sql = maker.make(args.lines)
            sql_seconds += run_sql(
                for_sql, engine_decisions(for_sql), clerk=clerk, block=block, statements=args.statements_per_file
            )
    lines = len(made_all)
    applied = [(decision, truth) for decision, (_, _, truth) in zip(decisions_all, made_all, strict=True) if decision]
    wrong_kinds = [
        kind
        for decision, (kind, _, truth) in zip(decisions_all, made_all, strict=True)
        if decision and not right(decision, truth)
    ]
    wrong = len(wrong_kinds)
    per_kind: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    for decision, (kind, _, _) in zip(decisions_all, made_all, strict=True):
        per_kind[kind][0] += decision is not None
        per_kind[kind][1] += 1
    figures = {
        "items_per_customer": args.one,
        "customers": args.customers,
        "open_invoices": args.customers * args.one,
        "lines": lines,
        "blocks": args.blocks,
        "statements_per_file": args.statements_per_file,
        "reconciliation_workers": settings.OTC_RECONCILIATION_WORKERS,
        "whole_path_lines_per_second": round(lines / engine_seconds),
        "sql_lines_per_second": round(lines / sql_seconds),
        "ratio_to_sql": round(engine_seconds / sql_seconds, 2),
        "applied_automatically_pct": round(100 * len(applied) / lines, 2),
        "applied_wrongly_lines": wrong,
        "applied_wrongly_by_kind": {kind: wrong_kinds.count(kind) for kind in sorted(set(wrong_kinds))},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_during_blocks_mb": round(peak_rss_mb() - rss_before, 1),
        "applied_automatically_pct_by_kind": {
            kind: round(100 * done / count, 1) if count else None for kind, (done, count) in per_kind.items()
        },
    }
    print(
        f"{args.one} per customer: whole path {figures['whole_path_lines_per_second']:,} lines/s, SQL "
        f"{figures['sql_lines_per_second']:,} lines/s, ratio {figures['ratio_to_sql']}x; applied automatically "
        f"{figures['applied_automatically_pct']}%, wrong {wrong}; peak RSS {figures['peak_rss_mb']} MB "
        f"(+{figures['rss_growth_during_blocks_mb']} MB during the blocks)",
        flush=True,
    )
    if not args.keep:
        drop_database(url)
    return figures


def import_file(lines: int, statements: int, path: Path) -> None:
    """A CAMT.053 file of `lines` payments of 5,000 payers with their invoice numbers, for the memory
    figure (the lines need no world: only the import is measured)."""
    rng = random.Random(lines + statements)
    made = [
        (
            "number in text",
            SimpleNamespace(
                amount=Decimal(rng.randint(1000, 500000)) / 100,
                booking_date=date(2026, 4, 1) + timedelta(days=n % 20),
                remittance=f"Rechnung INV-2026-{rng.randint(1, 999999):06d} Kunde {n % 5000}",
                structured_reference="",
                payer_iban=iban(n % 5000),
                payer_name=f"Kunde {n % 5000} GmbH",
            ),
            None,
        )
        for n in range(lines)
    ]
    path.write_bytes(camt_file(made, block=statements, statements=statements))


def import_memory(path: Path) -> dict:
    """Import the file as a worker imports a long upload (its stored parts read as a stream), in this
    fresh process; the most memory it holds meanwhile above what it held before."""
    os.environ["BENCH_DATABASE_URL"] = DEFAULT_URL.rsplit("/", 1)[0] + "/otc_bench_cash_import"
    url = setup_django()
    from django.utils import timezone

    from otc.models import User
    from payments.cash_application.statement_import import file_fingerprint, import_bank_statement
    from payments.cash_application.upload_files import open_upload_file, store_upload_file
    from payments.models import BankStatementUpload, CompanyBankAccount

    clerk = User.objects.create_user("bench-import@otc.test", "x", is_staff=True, is_superuser=True)
    CompanyBankAccount.objects.create(name="Bench EUR", iban=COMPANY_IBAN, currency="EUR")
    content = path.read_bytes()
    upload = BankStatementUpload.objects.create(
        filename=path.name,
        format="camt053",
        file_sha256=file_fingerprint(content),
        uploaded_by=clerk,
        progressed_at=timezone.now(),
    )
    store_upload_file(upload, content)
    del content
    gc.collect()
    with Timer() as timer, RssHighWater() as memory:
        imported = import_bank_statement(
            content=open_upload_file(upload), filename=path.name, format="camt053", actor=clerk
        )
    figures = {
        "statements": len(imported),
        "lines": sum(statement.line_count for statement in imported),
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "seconds": round(timer.seconds, 1),
        "peak_above_process_mb": round(memory.above_start_mb, 1),
    }
    drop_database(url)
    return figures


def import_memory_sizes(lines: int) -> list[dict]:
    sizes = []
    with tempfile.TemporaryDirectory() as folder:
        for statements in (1, 20):
            path = Path(folder) / f"import-{statements}.xml"
            import_file(lines, statements, path)
            sizes.append(json.loads(_own_process("--import-file", str(path)).split("FIGURES ", 1)[1]))
            print(
                f"import of {lines:,} lines in {statements} statement(s): {sizes[-1]['seconds']} s, "
                f"peak +{sizes[-1]['peak_above_process_mb']} MB above the process",
                flush=True,
            )
    return sizes


def _own_process(*options: str) -> str:
    run = subprocess.run(  # noqa: S603 -- this script, with its own options
        [sys.executable, __file__, *options], capture_output=True, text=True, check=False
    )
    if run.returncode:
        sys.exit(run.stderr[-3000:])
    return run.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items-per-customer", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--customers", type=int, default=600)
    parser.add_argument("--lines", type=int, default=1000, help="lines per block (per file)")
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--statements-per-file", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--import-lines", type=int, default=100_000, help="lines of the memory figure's file")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # one size, in a process of its own
    parser.add_argument("--import-file", type=Path, help=argparse.SUPPRESS)  # the memory figure's import
    args = parser.parse_args()
    if args.one:
        print("FIGURES " + json.dumps(one_size(args)))
        return
    if args.import_file:
        print("FIGURES " + json.dumps(import_memory(args.import_file)))
        return
    sizes = []
    for size in args.items_per_customer:
        options = ["--customers", str(args.customers), "--lines", str(args.lines), "--blocks", str(args.blocks)]
        options += ["--statements-per-file", str(args.statements_per_file), "--one", str(size)]
        options += ["--keep"] if args.keep else []
        for line in _own_process(*options).splitlines():
            if line.startswith("FIGURES "):
                sizes.append(json.loads(line.removeprefix("FIGURES ")))
            else:
                print(line)
    met = all(
        size["whole_path_lines_per_second"] >= TARGETS["lines_per_second"]
        and size["ratio_to_sql"] <= TARGETS["ratio_to_sql_at_most"]
        and size["applied_automatically_pct"] >= TARGETS["applied_automatically_pct"]
        and size["applied_wrongly_lines"] == TARGETS["wrong"]
        for size in sizes
    )
    imports = import_memory_sizes(args.import_lines)
    memory_met = all(size["peak_above_process_mb"] < IMPORT_MEMORY_TARGET_MB for size in imports)
    met = met and memory_met
    print(f"targets {TARGETS}: {'met' if met else 'NOT met'} at every size")
    print(f"import memory under {IMPORT_MEMORY_TARGET_MB} MB: {'met' if memory_met else 'NOT met'}")
    path = write_results(
        "cash_application",
        {
            "measured": "write a CAMT.053 file, then on the clock: import it, match, book, mark the lines",
            "baseline": "hand-written SQL inserting the same rows for the engine's decisions "
            "(no parsing, matching or events)",
            "noise_shares_pct": KINDS,
            "known_iban_share": KNOWN_IBAN_SHARE,
            "targets": TARGETS,
            "targets_met": met,
            "sizes": sizes,
            "import_memory_target_mb": IMPORT_MEMORY_TARGET_MB,
            "import_memory": imports,
        },
    )
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
