"""How simulated customers pay, and what their banks make of the remittance.

The profiles follow what credit controllers see in a B2B book: most pay around the due date, a
quarter pays weeks late, some pay in instalments, some pay a month's invoices in one transfer, a few
stop paying. The remittance mix follows real statements: the number as printed, the number mangled
(lower case and no separators, a slipped digit, letters read for digits by OCR), the number without
prefix or year, several numbers in one text, and no reference at all.
"""

import random
from dataclasses import dataclass
from enum import StrEnum


class Paying(StrEnum):
    IN_FULL = "in full"
    IN_TWO_PARTS = "in two parts"
    MONTHLY_TOGETHER = "a month's invoices together"
    NEVER = "never"


@dataclass(frozen=True)
class PayerProfile:
    name: str
    weight: int  # share of customers, relative
    days_late: tuple[int, int]  # paid this many days after the due date (negative: early), uniform
    paying: Paying


PROFILES = (
    PayerProfile("punctual", 45, (-6, 2), Paying.IN_FULL),
    PayerProfile("late", 25, (8, 45), Paying.IN_FULL),
    PayerProfile("instalments", 10, (0, 20), Paying.IN_TWO_PARTS),
    PayerProfile("monthly payment run", 15, (0, 10), Paying.MONTHLY_TOGETHER),
    PayerProfile("stops paying", 5, (0, 0), Paying.NEVER),
)

OCR = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B"})


def remittance(numbers: list[str], rng: random.Random) -> str:
    """The text a payer's bank passes on for a transfer paying the invoices `numbers`."""
    if len(numbers) > 1:
        return "Rechnungen " + ", ".join(numbers)
    number = numbers[0]
    prefix, year, sequence = number.split("-")
    kinds = [
        (40, lambda: number),
        (12, lambda: f"Invoice {number} thank you"),
        (8, lambda: number.replace("-", "").lower()),
        (8, lambda: _slipped(number, rng)),
        (6, lambda: f"{prefix}-{year}-{sequence.translate(OCR)}"),
        (8, lambda: f"Rechnung {int(sequence)}"),
        (8, lambda: f"factuur {year}-{sequence}"),
        (10, lambda: ""),
    ]
    return rng.choices([text for _, text in kinds], weights=[weight for weight, _ in kinds])[0]()


def _slipped(number: str, rng: random.Random) -> str:
    """Two adjacent digits of the sequence swapped (where they differ), as a hurried clerk types it."""
    head, sequence = number.rsplit("-", 1)
    swaps = [i for i in range(len(sequence) - 1) if sequence[i] != sequence[i + 1]]
    if not swaps:
        return number
    i = rng.choice(swaps)
    return f"{head}-{sequence[:i]}{sequence[i + 1]}{sequence[i]}{sequence[i + 2 :]}"
