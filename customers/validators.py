"""Validation of customer data at the boundary: tax IDs per country, IBAN/BIC, countries."""

import json
import re
import unicodedata
from functools import cache
from importlib import resources

import phonenumbers
from django.core.exceptions import ValidationError
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from otc.countries import COUNTRIES

_EU_VAT_PREFIXES = {"GR": "EL"}


def validate_e164(value: str) -> None:
    """A mobile number for SMS in E.164 form (+ country code, digits only) that is a possible number."""
    if not re.fullmatch(r"\+[1-9]\d{6,14}", value or ""):
        raise ValidationError(
            "%(value)s is not in E.164 form: a + and the country code, then digits only (e.g. +4915112345678).",
            code="invalid_e164",
            params={"value": value},
        )
    try:
        number = phonenumbers.parse(value)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(str(error), code="invalid_e164") from error
    if not phonenumbers.is_possible_number(number):
        raise ValidationError("%(value)s is not a possible phone number.", code="invalid_e164", params={"value": value})


def validate_country(value: str) -> None:
    if value not in COUNTRIES:
        raise ValidationError(
            "%(value)s is not a known ISO 3166 country code.", code="invalid_country", params={"value": value}
        )


def normalize_tax_id(tax_id: str, country: str) -> str:
    """Validate a tax ID for its country and return it in compact form (EU VAT IDs with prefix).

    EU countries take a VAT ID; elsewhere the country's own number (python-stdnum's `vat` module).
    """
    tax_id = tax_id.strip()
    if not tax_id:
        return ""
    try:
        if country.lower() in eu_vat.MEMBER_STATES:
            prefix = _EU_VAT_PREFIXES.get(country, country)
            candidate = "".join(ch for ch in tax_id.upper() if ch.isalnum())
            if candidate[:2].isalpha():
                if candidate[:2] != prefix:
                    raise StdnumError(f"the VAT ID is not from {country}")
                candidate = candidate[2:]
            return eu_vat.validate(prefix + candidate)
        module = get_cc_module(country.lower(), "vat") or get_cc_module(country.lower(), "tin")
        if module is None:
            return tax_id.upper().replace(" ", "")
        return module.compact(module.validate(tax_id))
    except StdnumError as error:
        raise ValidationError(
            "%(tax_id)s is not a valid tax ID for %(country)s: %(reason)s.",
            code="invalid_tax_id",
            params={"tax_id": tax_id, "country": country, "reason": _reason(error)},
        ) from error


def normalize_iban(value: str) -> str:
    try:
        return IBAN(value).compact
    except SchwiftyException as error:
        raise ValidationError(
            "%(value)s is not a valid IBAN: %(reason)s.",
            code="invalid_iban",
            params={"value": value, "reason": str(error).rstrip(".")},
        ) from error


def normalize_bic(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return BIC(value).compact
    except SchwiftyException as error:
        raise ValidationError(
            "%(value)s is not a valid BIC: %(reason)s.",
            code="invalid_bic",
            params={"value": value, "reason": str(error).rstrip(".")},
        ) from error


def mask_iban(iban: str) -> str:
    """DE89 •••• •••• •••• 3000: country and check digits plus the last four, as lists show it."""
    return f"{iban[:4]} •••• {iban[-4:]}" if iban else ""


def _reason(error: Exception) -> str:
    text = str(error).rstrip(".")
    return text[:1].lower() + text[1:]


_LEGAL_FORMS = {
    "ab",
    "ag",
    "as",
    "bv",
    "co",
    "company",
    "corp",
    "corporation",
    "gmbh",
    "inc",
    "kg",
    "limited",
    "llc",
    "ltd",
    "nv",
    "oy",
    "plc",
    "sa",
    "sarl",
    "sas",
    "spa",
    "srl",
    "the",
    "ug",
}


# "Mueller" and "Müller" are one name: fold the German umlaut spellings ae/oe/ue to a/o/u.
_UMLAUT_SPELLING = re.compile(r"([aou])e")


@cache
def _latin_look_alikes() -> dict[str, str]:
    """Letters of other scripts that look like a Latin letter or digit (Unicode's confusables, UTS #39):
    Cyrillic 'о' -> 'o', Greek 'Α' -> 'A'. Accented Latin letters are not here; NFKD folds those."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    folds = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii() or _ascii_fold(char):
            continue
        latin = next((glyph["c"] for glyph in glyphs if len(glyph["c"]) == 1 and glyph["c"].isascii()), None)
        if latin is not None and latin.isalnum():
            folds[char] = latin
    return folds


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def fold_look_alikes(name: str) -> str:
    """`name` with homoglyphs of Latin letters replaced by those letters, so 'Nоrdwind' (Cyrillic о)
    reads as 'Nordwind' to the duplicate check instead of losing the letter."""
    folds = _latin_look_alikes()
    return "".join(folds.get(char, char) for char in name)


def name_key(name: str) -> str:
    """Lower case, no accents, punctuation or legal form, look-alike letters of other scripts read as
    Latin: 'Müller GmbH & Co. KG' -> 'muller', 'Nоrdwind' with a Cyrillic 'о' -> 'nordwind'."""
    ascii_name = _ascii_fold(fold_look_alikes(name.replace("ß", "ss"))).lower()
    words = [_UMLAUT_SPELLING.sub(r"\1", word) for word in re.findall(r"[a-z0-9]+", ascii_name)]
    return " ".join(word for word in words if word not in _LEGAL_FORMS) or " ".join(words)
