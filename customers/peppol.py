"""Peppol participant identifiers: an Electronic Address Scheme (EAS) code and the identifier in it.

A Peppol access point delivers to `scheme:identifier`; a receiver rejects a document whose scheme is
not on the EAS code list (PEPPOL-EN16931-CL008). Where a party's VAT ID is itself a registered
identifier (9930 for German VAT IDs, 0208 for the Belgian enterprise number inside a Belgian VAT ID),
the endpoint can be derived from it.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from stdnum.be import vat as be_vat
from stdnum.exceptions import ValidationError as StdnumError

from otc.eas import EAS_SCHEMES

# The scheme whose identifier is the VAT ID itself, by the VAT ID's two-letter prefix.
VAT_SCHEMES = {
    "AD": "9922",
    "AL": "9923",
    "AT": "9914",
    "BA": "9924",
    "BE": "9925",
    "BG": "9926",
    "CH": "9927",
    "CY": "9928",
    "CZ": "9929",
    "DE": "9930",
    "EE": "9931",
    "EL": "9933",
    "ES": "9920",
    "FI": "0213",
    "FR": "9957",
    "GB": "9932",
    "HR": "9934",
    "HU": "9910",
    "IE": "9935",
    "IT": "0211",
    "LI": "9936",
    "LT": "9937",
    "LU": "9938",
    "LV": "9939",
    "MC": "9940",
    "ME": "9941",
    "MK": "9942",
    "MT": "9943",
    "NL": "9944",
    "PL": "9945",
    "PT": "9946",
    "RO": "9947",
    "RS": "9948",
    "SI": "9949",
    "SK": "9950",
    "SM": "9951",
    "TR": "9952",
    "VA": "9953",
}
BELGIAN_ENTERPRISE_NUMBER = "0208"
GLN = "0088"


@dataclass(frozen=True)
class PeppolEndpoint:
    scheme: str
    identifier: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.identifier}"


def endpoint_from_vat_id(vat_id: str, scheme: str = "") -> PeppolEndpoint | None:
    """The endpoint a VAT ID gives: in `scheme` when named (9930 for a German VAT ID, 0208 for the
    enterprise number in a Belgian one), else in the VAT scheme of its prefix. None when it gives none."""
    prefix = vat_id[:2].upper()
    if scheme == BELGIAN_ENTERPRISE_NUMBER and prefix == "BE":
        return PeppolEndpoint(scheme, vat_id[2:])
    vat_scheme = VAT_SCHEMES.get(prefix)
    if vat_scheme is None or scheme not in ("", vat_scheme):
        return None
    return PeppolEndpoint(vat_scheme, vat_id)


def _gln_is_valid(identifier: str) -> bool:
    digits = [int(digit) for digit in reversed(identifier[:-1])]
    weighted = sum(digit * (3 if position % 2 == 0 else 1) for position, digit in enumerate(digits))
    return (10 - weighted % 10) % 10 == int(identifier[-1])


def _identifier_problem(scheme: str, identifier: str) -> str:
    """What is wrong with the identifier for its scheme, for the schemes whose format the rules check."""
    if scheme == BELGIAN_ENTERPRISE_NUMBER:
        try:
            be_vat.validate(identifier)
        except StdnumError:
            return "is not a Belgian enterprise number (ten digits with a mod-97 check)"
    if scheme == GLN and not (re.fullmatch(r"\d{13}", identifier) and _gln_is_valid(identifier)):
        return "is not a GLN (13 digits with a GS1 check digit)"
    if scheme == "0192" and not re.fullmatch(r"\d{9}", identifier):
        return "is not a Norwegian organisation number (nine digits)"
    if scheme == "0184" and not re.fullmatch(r"DK\d{8}", identifier):
        return "is not a Danish CVR number (DK and eight digits)"
    if scheme in VAT_SCHEMES.values() and not identifier[:2].isalpha():
        return "is not a VAT ID with its country prefix"
    return ""


def normalize_peppol_endpoint(scheme: str, identifier: str, vat_id: str = "") -> tuple[str, str]:
    """(scheme, identifier) checked against the EAS code list; with a scheme and no identifier, the
    identifier is looked up from the VAT ID where the scheme allows. Both empty means no endpoint."""
    scheme, identifier = scheme.strip(), identifier.strip().replace(" ", "")
    if not scheme and not identifier:
        return "", ""
    if scheme not in EAS_SCHEMES:
        raise ValidationError(
            "%(scheme)s is not on the Peppol EAS code list.", code="unknown_eas", params={"scheme": scheme or "''"}
        )
    if not identifier:
        derived = endpoint_from_vat_id(vat_id, scheme) if vat_id else None
        if derived is None:
            raise ValidationError(
                "Give the identifier: scheme %(scheme)s cannot be derived from the VAT ID %(vat_id)s.",
                code="peppol_id_required",
                params={"scheme": scheme, "vat_id": vat_id or "(none)"},
            )
        identifier = derived.identifier
    problem = _identifier_problem(scheme, identifier)
    if problem:
        raise ValidationError(
            "%(identifier)s %(problem)s.",
            code="invalid_peppol_id",
            params={"identifier": identifier, "problem": problem},
        )
    return scheme, identifier
