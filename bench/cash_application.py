"""Cash application: 10,000 bank lines matched against 100,000 open invoices of 5,000 customers by
`payments.cash_application.matching.propose_matches`, each line then decided as
`payments.cash_application.auto_apply.auto_apply` decides it (best proposal at or above the threshold
and 0.1 ahead of the next), against a baseline that matches exact invoice numbers only, in the same run.

Only proposals and decisions are measured: no payment is booked, so the ledger needs no entries
and the invoices are generated in SQL. Every line keeps its ground truth (customer, invoices,
amounts), so a decision is counted right or wrong, and among the lines left to a clerk the bench
counts those whose first proposal is the right one.

The lines carry the noise of real remittances, in these shares (percent):
    structured reference 30, number in free text 20, number read by OCR (O/0, I/1, S/5, B/8, Z/2
    swapped) 5, RF creditor reference 5, number with a typo
    (digits swapped or changed, a digit or dash missing) 12, several invoices at once 10 (a third of
    them with one typo), part payment 5, fee or discount deducted 9, no reference but a known
    IBAN 2, no reference and several invoices from a new account 1, unknown payer 1.
    Payers send from an IBAN on file 92% of the time, else from a new account with their name
    (as registered, in capitals, or cut short by the bank).

    .venv/bin/python bench/cash_application.py [--invoices 100000] [--customers 5000] [--lines 10000]
"""

import argparse
import os
import random
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_URL, Timer, drop_database, setup_django, write_results

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


def build_world(customers: int, invoices: int):
    """Customers with one bank account each, and open invoices spread over them, in SQL."""
    from django.db import connection

    from customers.models import BankAccount
    from customers.validators import mask_iban, name_key
    from otc.crypto import fingerprint
    from otc.models import User

    clerk = User.objects.create_user("bench-clerk@otc.test", "x", is_staff=True, is_superuser=True)
    names = customer_names(customers)
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
            SELECT 'invoice', 'INV-2026-' || lpad(g::text, 6, '0'), 'issued', 'EUR', 'EUR', 1,
                   date '2026-01-01' + g %% 90, date '2026-01-31' + g %% 90, 30, '{}', '{}', '{}', '', '',
                   net, round(net * 0.19, 2), net + round(net * 0.19, 2), net + round(net * 0.19, 2), 0,
                   'de', 'standard', '', now(), now(), now(), %s,
                   (%s::bigint[])[1 + (hashtext('c' || g)::bigint & 2147483647) %% %s], %s
              FROM generate_series(1, %s) g
             CROSS JOIN LATERAL (SELECT round(20 + (hashtext('n' || g)::bigint & 2147483647) %% 800000 / 100.0, 2)
                                   AS net) amounts
            """,
            [clerk.pk, ids, len(ids), clerk.pk, invoices],
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


# --- Deciding and scoring ----------------------------------------------------------------------------


def right(proposal, truth: Truth) -> bool:
    """The right customer, invoices and amounts; whether a short rest is written off is not judged."""
    return (
        proposal.customer_id == truth.customer_id
        and dict(zip(proposal.invoice_ids, proposal.amounts, strict=True)) == truth.allocations
    )


def run_engine(lines):
    from payments.cash_application.auto_apply import auto_apply_threshold, clear_winner
    from payments.cash_application.matching import propose_matches

    threshold = auto_apply_threshold()
    proposals = propose_matches(lines)
    return [(clear_winner(proposals[i], threshold), proposals[i]) for i in range(len(lines))]


_STRICT_NUMBER = re.compile(r"INV-\d{4}-\d{6}")


def run_baseline(lines):
    """Exact invoice numbers only: every line citing open invoices of one customer is applied to them,
    oldest first, one query per batch."""
    from invoicing.models import Invoice
    from payments.cash_application.matching import Proposal

    cited = [_STRICT_NUMBER.findall(f"{line.structured_reference} {line.remittance}") for line in lines]
    found = {
        row[1]: row
        for row in Invoice.objects.filter(
            number__in={number for numbers in cited for number in numbers}, open_amount__gt=0
        ).values_list("id", "number", "customer_id", "open_amount")
    }
    decisions = []
    for line, numbers in zip(lines, cited, strict=True):
        rows = sorted({found[number] for number in numbers if number in found})
        if not rows or len({row[2] for row in rows}) > 1:
            decisions.append((None, []))
            continue
        left, amounts = line.amount, []
        for row in rows:
            amounts.append(min(row[3], left))
            left -= amounts[-1]
        kept = [(row[0], amount) for row, amount in zip(rows, amounts, strict=True) if amount > 0]
        proposal = Proposal(
            customer_id=rows[0][2],
            invoice_ids=tuple(invoice_id for invoice_id, _ in kept),
            amounts=tuple(amount for _, amount in kept),
            confidence=1.0,
            reasons=("invoice number cited",),
            difference=line.amount - sum(row[3] for row in rows),
            write_off=False,
        )
        decisions.append((proposal, [proposal]))
    return decisions


def score(made, decisions) -> dict:
    applied = wrong = queued = first_right = 0
    per_kind: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    for (kind, _, truth), (winner, proposals) in zip(made, decisions, strict=True):
        per_kind[kind][1] += 1
        if winner is not None:
            applied += 1
            per_kind[kind][0] += 1
            wrong += not right(winner, truth)
        elif truth.customer_id is not None:
            queued += 1
            first_right += bool(proposals) and right(proposals[0], truth)
    total = len(made)
    return {
        "applied_automatically_pct": round(100 * applied / total, 2),
        "applied_wrongly_pct": round(100 * wrong / total, 2),
        "applied_wrongly_lines": wrong,
        "queued_with_a_known_payer": queued,
        "first_place_right_among_queued_pct": round(100 * first_right / queued, 2) if queued else None,
        "applied_automatically_pct_by_kind": {
            kind: round(100 * done / count, 1) if count else None for kind, (done, count) in per_kind.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_URL.rsplit("/", 1)[0] + "/otc_bench_cash")
    url = setup_django()
    with Timer() as build_time:
        _, customers = build_world(args.customers, args.invoices)
    items = open_items()
    print(f"world: {args.customers} customers, {args.invoices} open invoices in {build_time.seconds:.1f} s")
    made = LineMaker(customers, items, seed=11).make(args.lines + 200)
    warm, made = made[:200], made[200:]
    lines = [line for _, line, _ in made]
    run_engine([line for _, line, _ in warm])
    run_baseline([line for _, line, _ in warm])

    with Timer() as baseline_time:
        baseline = run_baseline(lines)
    with Timer() as engine_time:
        engine = run_engine(lines)
    figures = {"engine": score(made, engine), "baseline_exact_references": score(made, baseline)}
    figures["engine"]["lines_per_second"] = round(len(lines) / engine_time.seconds)
    figures["baseline_exact_references"]["lines_per_second"] = round(len(lines) / baseline_time.seconds)
    for name, result in figures.items():
        print(
            f"{name:26}: applied automatically {result['applied_automatically_pct']:5.1f}%, "
            f"wrongly {result['applied_wrongly_pct']:4.2f}% ({result['applied_wrongly_lines']} lines), "
            f"first place right among the rest {result['first_place_right_among_queued_pct']}%, "
            f"{result['lines_per_second']:,} lines/s"
        )
    print("engine by kind (% applied automatically):")
    for kind, share in figures["engine"]["applied_automatically_pct_by_kind"].items():
        print(f"  {kind:45} {share}")
    path = write_results(
        "cash_application",
        {
            "invoices": args.invoices,
            "customers": args.customers,
            "lines": len(lines),
            "noise_shares_pct": KINDS,
            "known_iban_share": KNOWN_IBAN_SHARE,
            "measured": "proposals and auto-apply decisions; no payments booked",
            "targets": {"applied_automatically_pct": 95, "applied_wrongly_pct": 0, "lines_per_second": 2000},
            **figures,
        },
    )
    print(f"results written to {path}")
    if not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
