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

# The Peppol EAS code list (Electronic Address Scheme, CEF/OpenPeppol), the codes a receiver accepts.
EAS_SCHEMES = {
    "0002": "System Information et Repertoire des Entreprise et des Etablissements (SIRENE)",
    "0007": "Organisationsnummer (Swedish legal entities)",
    "0009": "SIRET-CODE",
    "0037": "LY-tunnus (Finnish business ID)",
    "0060": "Data Universal Numbering System (D-U-N-S Number)",
    "0088": "Global Location Number (GLN)",
    "0096": "DANISH CHAMBER OF COMMERCE Scheme (EDIRA compliant)",
    "0097": "FTI - Ediforum Italia (EDIRA compliant)",
    "0106": "Vereniging van Kamers van Koophandel en Fabrieken in Nederland",
    "0130": "Directorates of the European Commission",
    "0135": "SIA Object Identifiers",
    "0142": "SECETI Object Identifiers",
    "0147": "Standard Company Code",
    "0151": "Australian Business Number (ABN) Scheme",
    "0154": "Identification number of economic subjects (ICO)",
    "0158": "Identification number of economic subject (ICO) Act on State Statistics",
    "0170": "Teikoku Company Code",
    "0177": "Odette International Limited",
    "0183": "Numéro d'identification suisse des enterprises (IDE)",
    "0184": "DIGSTORG (Danish CVR number)",
    "0188": "Corporate Number of The Social Security and Tax Number System",
    "0190": "Dutch Originator's Identification Number",
    "0191": "Centre of Registers and Information Systems of the Ministry of Justice (Estonia)",
    "0192": "Enhetsregisteret ved Bronnoysundregisterne (Norway)",
    "0193": "UBL.BE party identifier",
    "0194": "KOIOS Open Technical Dictionary",
    "0195": "Singapore UEN identifier",
    "0196": "Kennitala - Iceland legal id for individuals and legal entities",
    "0198": "ERSTORG",
    "0199": "Legal Entity Identifier (LEI)",
    "0200": "Legal entity code (Lithuania)",
    "0201": "Codice Univoco Unità Organizzativa iPA",
    "0202": "Indirizzo di Posta Elettronica Certificata",
    "0203": "eDelivery Network Participant identifier",
    "0204": "Leitweg-ID",
    "0205": "CODDEST",
    "0208": "Numero d'entreprise / ondernemingsnummer / Unternehmensnummer (Belgium)",
    "0209": "GS1 identification keys",
    "0210": "Codice fiscale",
    "0211": "Partita IVA",
    "0212": "Finnish Organization Identifier",
    "0213": "Finnish Organization Value Add Tax Identifier",
    "0215": "Net service ID",
    "0216": "OVTcode",
    "0217": "The Netherlands Chamber of Commerce and Industry establishment number",
    "0218": "Unified registration number (Latvia)",
    "0221": "The registered number of the qualified invoice issuer (Japan)",
    "0230": "National e-Invoicing Framework (Malaysia)",
    "9901": "Danish Ministry of the Interior and Health",
    "9910": "Hungary VAT number",
    "9913": "Business Registers Network",
    "9914": "Österreichische Umsatzsteuer-Identifikationsnummer",
    "9915": "Österreichisches Verwaltungs bzw. Organisationskennzeichen",
    "9918": "SOCIETY FOR WORLDWIDE INTERBANK FINANCIAL, TELECOMMUNICATION S.W.I.F.T",
    "9919": "Kennziffer des Unternehmensregisters",
    "9920": "Agencia Española de Administración Tributaria",
    "9922": "Andorra VAT number",
    "9923": "Albania VAT number",
    "9924": "Bosnia and Herzegovina VAT number",
    "9925": "Belgium VAT number",
    "9926": "Bulgaria VAT number",
    "9927": "Switzerland VAT number",
    "9928": "Cyprus VAT number",
    "9929": "Czech Republic VAT number",
    "9930": "Germany VAT number",
    "9931": "Estonia VAT number",
    "9932": "United Kingdom VAT number",
    "9933": "Greece VAT number",
    "9934": "Croatia VAT number",
    "9935": "Ireland VAT number",
    "9936": "Liechtenstein VAT number",
    "9937": "Lithuania VAT number",
    "9938": "Luxemburg VAT number",
    "9939": "Latvia VAT number",
    "9940": "Monaco VAT number",
    "9941": "Montenegro VAT number",
    "9942": "Macedonia, the former Yugoslav Republic of VAT number",
    "9943": "Malta VAT number",
    "9944": "Netherlands VAT number",
    "9945": "Poland VAT number",
    "9946": "Portugal VAT number",
    "9947": "Romania VAT number",
    "9948": "Serbia VAT number",
    "9949": "Slovenia VAT number",
    "9950": "Slovakia VAT number",
    "9951": "San Marino VAT number",
    "9952": "Türkiye VAT number",
    "9953": "Holy See (Vatican City State) VAT number",
    "9957": "French VAT number",
    "9959": "Employer Identification Number (EIN, USA)",
}
EAS_CHOICES = [(code, f"{code} {name}") for code, name in EAS_SCHEMES.items()]

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
