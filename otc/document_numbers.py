"""Document numbers as people type them: "INV-2026-000123", "inv 2026/123", "IVN2026000123", or inside
an ISO 11649 creditor reference. Cash matching reads them from remittance lines and the service desk
from customers' emails; both find the same citations and try the same near numbers when a digit slipped.
Both also read numbers typed without prefix or year ("Rechnung 1825", "factuur 015020", "Rg 2024-1825"),
which say nothing on their own: a caller looks them up only among one customer's own documents.

Numbers have the shape <PREFIX>-<year>-<six-digit sequence>; `digits` is year and sequence as typed.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

SEPARATORS = r"[\s\-_./:#]*"
_NOT_DIGIT = re.compile(r"\D")
_ASCII_NOT_DIGIT = str.maketrans("", "", "".join(chr(code) for code in range(128) if not chr(code).isdigit()))
# RF, check digits and body, with the spaces people and scanners put anywhere in it; OCR'd letters for
# digits in the check digits too (the mod-97 check decides what was meant).
_CREDITOR_REFERENCE = re.compile(r"(?<![A-Z0-9])R\s?F\s*[0-9OISBZ]\s?[0-9OISBZ](?:\s{0,2}[A-Z0-9]){1,21}")
# Letters that OCR or a retyped scan puts for digits, read back within a number only.
_OCR_DIGITS = str.maketrans("OISBZ", "01582")


@dataclass(frozen=True)
class NumberShape:
    """A kind of document number: its prefix and the ways people misspell it."""

    prefix: str
    spellings: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        spelled = "|".join(sorted(self.spellings, key=len, reverse=True))
        return re.compile(rf"(?<![A-Z])(?:{spelled}){SEPARATORS}(20\d\d){SEPARATORS}(\d{{1,8}})(?!\d)")

    @property
    def ocr_pattern(self) -> re.Pattern[str]:
        spelled = "|".join(sorted(self.spellings, key=len, reverse=True))
        return re.compile(
            rf"(?<![A-Z])({spelled})({SEPARATORS})([0-9OISBZ]{{4}})({SEPARATORS})([0-9OISBZ]{{4,8}})(?![0-9A-Z])"
        )

    def number(self, digits: str) -> str:
        """The number for year and sequence digits ("2026000123" -> "INV-2026-000123")."""
        return f"{self.prefix}-{digits[:4]}-{digits[4:]}"


INVOICE_NUMBER = NumberShape("INV", ("INV", "IVN", "NIV", "IN", "NV"))
ORDER_NUMBER = NumberShape("SO", ("SO", "S0", "OS"))


class Citation(NamedTuple):
    """A document number found in a text: `number` when it has the number's shape, `digits` (year and
    sequence as typed) to look for near numbers when it does not or points nowhere."""

    number: str | None
    digits: str
    where: str
    creditor_reference: str


def citations(text: str, where: str, *, shape: NumberShape = INVOICE_NUMBER, min_sequence: int = 4) -> list[Citation]:
    """Document numbers in a text, also inside RF references; valid RF references count as exact.
    Sequences shorter than `min_sequence` digits are not taken for a number."""
    text = text.upper()
    found: list[Citation] = []
    rf_body = re.compile(rf"{shape.prefix}(20\d\d)(\d{{6}}|[1-9]\d{{6,7}})")
    for match in _CREDITOR_REFERENCE.finditer(text):
        compact = re.sub(r"\s", "", match.group())
        starts = _valid_starts(compact) or _valid_starts(_ocr_repaired_reference(compact, shape))
        ours = [(start, body) for start in starts if (body := rf_body.fullmatch(start[4:]))]
        if ours:
            reference, body = ours[0]
            found.append(Citation(shape.number(body[1] + body[2]), body[1] + body[2], where, reference))
        else:
            text += " " + compact[4:]
    for match in shape.pattern.finditer(_ocr_repaired(text, shape)):
        year, sequence = match.groups()
        if len(sequence) < min_sequence:
            continue
        number = shape.number(year + sequence) if is_number_digits(year + sequence) else None
        if not any(c.digits == year + sequence for c in found):
            found.append(Citation(number, year + sequence, where, ""))
    return found


def _valid_starts(compact: str) -> list[str]:
    """Starts of `compact` that are valid creditor references, longest first: text may run on after a
    reference, and one in 97 random starts passes the check, so the caller prefers one of our numbers."""
    return [compact[:end] for end in range(len(compact), 4, -1) if iso11649.is_valid(compact[:end])]


def _ocr_repaired_reference(compact: str, shape: NumberShape) -> str:
    """A creditor reference with letters read back as digits in its check digits and, when its body is
    one of our numbers, in the number's digits ("RF9B INV2O26OOO123")."""
    body = compact[4:]
    if body.startswith(shape.prefix):
        body = shape.prefix + body[len(shape.prefix) :].translate(_OCR_DIGITS)
    return compact[:2] + compact[2:4].translate(_OCR_DIGITS) + body


def _ocr_repaired(text: str, shape: NumberShape) -> str:
    """Numbers with O/0, I/1, S/5, B/8 and Z/2 swapped back; a number holds digits only, so the repair
    is certain, and text that is not a document number stays as it is."""

    def repaired(match: re.Match[str]) -> str:
        prefix, first_separator, year, second_separator, sequence = match.groups()
        year, sequence = year.translate(_OCR_DIGITS), sequence.translate(_OCR_DIGITS)
        if not year.startswith("20"):
            return match.group()
        return f"{prefix}{first_separator}{year}{second_separator}{sequence}"

    return shape.ocr_pattern.sub(repaired, text)


def creditor_reference(number: str) -> str:
    """The ISO 11649 structured creditor reference of a document: RF, two mod-97 check digits, the
    number's letters and digits ("INV-2026-000123" -> "RF98INV2026000123"). Printed on our invoices and
    carried in their EPC QR code, so a payer's bank hands it back on the statement line."""
    body = re.sub(r"[^0-9A-Za-z]", "", number).upper()[:21]
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def is_valid_creditor_reference(reference: str) -> bool:
    """Whether a reference, spaces and case as typed, is a creditor reference with correct check digits."""
    return iso11649.is_valid(re.sub(r"\s", "", reference).upper())


def printed_creditor_reference(reference: str) -> str:
    """A creditor reference in groups of four, as ISO 11649 asks it to be printed ("RF98 INV2 0260 0012 3")."""
    return iso11649.format(reference)


def number_digits(number: str) -> str:
    """Year and sequence of a number ("INV-2026-000123" -> "2026000123"). Our numbers are ASCII, and
    str.translate strips them in two thirds of the pattern's time (matching reads tens of thousands per
    batch); anything else is left to the pattern."""
    digits = number.translate(_ASCII_NOT_DIGIT)
    return digits if digits.isascii() else _NOT_DIGIT.sub("", digits)


def near_digits(digits: str, *, this_year: int | None = None) -> set[str]:
    """Year and sequence digits one typo away (Damerau-Levenshtein 1) from what was typed that can be
    a number (`is_number_digits`), plus a sequence typed without its leading zeros. A year that can be
    meant (2000 to next year) is kept as typed: "INV-2025-000123" names last year's invoice, not a slip
    for this year's INV-2026-000123. Then only the sequence is varied: a slip in the year that leaves
    the year as typed is one in the sequence too (a third of the work, for the same numbers)."""
    year, sequence = digits[:4], digits[4:]
    this_year = this_year or date.today().year
    if year.isdigit() and 2000 <= int(year) <= this_year + 1:
        near = _one_typo(sequence)
        if len(sequence) < 6:
            near.add(sequence.zfill(6))
        return {year + typed for typed in near if typed != sequence and _is_sequence(typed)}
    near = _one_typo(digits)
    if len(sequence) < 6:
        near.add(year + sequence.zfill(6))
    return {candidate for candidate in near if candidate != digits and is_number_digits(candidate)}


def _one_typo(text: str) -> set[str]:
    """Every text one digit left out, one too many, one changed or two swapped away from `text`."""
    splits = [(text[:i], text[i:]) for i in range(len(text) + 1)]
    near = {left + right[1:] for left, right in splits if right}
    near.update(left + digit + right for left, right in splits for digit in "0123456789")
    near.update(left + digit + right[1:] for left, right in splits if right for digit in "0123456789")
    near.update(left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1)
    return near


def is_number_digits(digits: str) -> bool:
    """Whether year and sequence digits can be one of our numbers: a year of this century and a
    sequence of six digits, or more from the millionth number of a year on (never with a leading zero)."""
    return digits.startswith("20") and _is_sequence(digits[4:])


def _is_sequence(sequence: str) -> bool:
    return len(sequence) == 6 or (6 < len(sequence) <= 8 and sequence[0] != "0")


# Words naming a document before a number typed without prefix or year, in the languages remittance
# and customers' mail arrive in (English, German, Dutch, French, Italian, Scandinavian abbreviations).
INVOICE_WORDS = (
    "invoice",
    "inv",
    "rechnungsnummer",
    "rechnungsnr",
    "rechnung",
    "rechn",
    "rech",
    "rg",
    "re",
    "factuurnummer",
    "factuurnr",
    "factuur",
    "facture",
    "fact",
    "fattura",
    "faktura",
    "fra",
)
ORDER_WORDS = ("order", "bestellung", "auftrag", "commande")
_NUMBER_MARKERS = r"(?:\s*(?:no\.?|nr\.?|number|nummer|n°|#|:))*"


class BareNumber(NamedTuple):
    """A sequence typed without prefix, and perhaps without year: "1825", "Rg 2024-1825". It names no
    document on its own; `fits` says whether a number of the customer's own could be the one meant."""

    year: str
    sequence: int
    typed: str
    where: str

    def fits(self, number: str) -> bool:
        digits = number_digits(number)
        return int(digits[4:] or 0) == self.sequence and (not self.year or digits[:4] == self.year)


def bare_numbers(
    text: str, where: str, *, words: tuple[str, ...] = INVOICE_WORDS, standalone: bool = False
) -> list[BareNumber]:
    """Sequences after a document word ("Rechnung Nr. 15", "factuur 015020"), with or without the year;
    with `standalone`, also digit groups of three to six standing alone ("1825", "2024-1825"). Digits
    inside dates, amounts, IBANs and longer numbers are not taken. Shorter than three digits only after
    a word and a marker ("Nr. 15")."""
    spelled = "|".join(sorted(words, key=len, reverse=True))
    pattern = re.compile(
        rf"(?:(?<![a-z0-9])({spelled})\.?({_NUMBER_MARKERS})\s*|(?<![\w.,/+\-])(?<!\d\s))"
        rf"(?:(20\d\d)\s*[-/.]\s*)?(\d{{1,6}})(?![\w]|[.,/\-]\d|\s\d\d)"
    )
    found: list[BareNumber] = []
    for match in pattern.finditer(text.lower()):
        word, markers, year, sequence = match.groups()
        if word is None and not standalone:
            continue
        if len(sequence) < 3 and not (word and markers.strip()):
            continue
        bare = BareNumber(year or "", int(sequence), match.group().strip(), where)
        if int(sequence) and bare[:2] not in {earlier[:2] for earlier in found}:
            found.append(bare)
    return found
