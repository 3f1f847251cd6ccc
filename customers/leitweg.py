"""The Leitweg-ID: how a German public-sector buyer routes an e-invoice to the office that pays it.

XRechnung carries it as the buyer reference (BT-10, rule BR-DE-15). Its form (KoSIT's "Formatspezifikation
Leitweg-ID"): a coarse address of 2 to 12 digits, an optional fine address of up to 30 letters and digits,
and two check digits, separated by hyphens; the check digits follow ISO/IEC 7064 MOD 97-10 over the
whole ID without hyphens (letters counted A=10 ... Z=35), as in an IBAN.
"""

import re

from django.core.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

LEITWEG_ID = re.compile(r"^(?P<coarse>[0-9]{2,12})(-(?P<fine>[A-Z0-9]{1,30}))?-(?P<check>[0-9]{2})$")


def leitweg_check_digits(coarse: str, fine: str = "") -> str:
    """The two check digits for a coarse and fine address."""
    return mod_97_10.calc_check_digits(f"{coarse}{fine}".upper())


def normalize_leitweg_id(value: str) -> str:
    """The Leitweg-ID in capitals without surrounding space, or a ValidationError saying what is wrong."""
    value = value.strip().upper()
    if not value:
        return ""
    match = LEITWEG_ID.match(value)
    if match is None:
        raise ValidationError(
            f"{value} is not a Leitweg-ID: expected 2-12 digits, optionally a hyphen and up to 30 letters or "
            "digits, then a hyphen and two check digits (e.g. 04011000-1234512345-06).",
            code="leitweg_format",
        )
    expected = leitweg_check_digits(match["coarse"], match["fine"] or "")
    if match["check"] != expected:
        raise ValidationError(
            f"The check digits of the Leitweg-ID {value} are wrong (expected {expected}): a typing error?",
            code="leitweg_check_digits",
        )
    return value
