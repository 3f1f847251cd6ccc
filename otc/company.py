"""The company that issues the documents: its profile (one row) and the letterhead every document of
every app prints from it."""

import base64
import mimetypes

from otc.countries import address_lines
from otc.errors import Conflict
from otc.models import CompanyProfile


class CompanyProfileMissing(Conflict):
    code = "company_profile_missing"
    title = "The company profile (name, address, VAT ID, bank details) is not set up."


def company_profile() -> CompanyProfile:
    """Who issues the documents; every document needs it."""
    profile = CompanyProfile.objects.filter(pk=1).first()
    if profile is None:
        raise CompanyProfileMissing("Set up the company profile under Settings → Company first.")
    return profile


def letterhead_if_set_up() -> dict | None:
    """The letterhead for documents that may go out before the company is set up (an order
    confirmation names no seller by law, an invoice must): None until the profile exists."""
    profile = CompanyProfile.objects.filter(pk=1).first()
    return letterhead(profile) if profile is not None else None


def file_data_uri(file) -> str:
    """A stored file (a logo) as a data URI, read through the storage so it works with any backend:
    the PDF renderer fetches nothing."""
    if not file:
        return ""
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    with file.open("rb") as content:
        return f"data:{content_type};base64,{base64.b64encode(content.read()).decode('ascii')}"


def printed_iban(iban: str) -> str:
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def letterhead(profile: CompanyProfile) -> dict:
    """What the documents' base template prints of the company: name, address, logo, tax and bank."""
    return {
        "profile": profile,
        "logo_uri": file_data_uri(profile.logo),
        "address_lines": address_lines(
            {
                "line1": profile.line1,
                "line2": profile.line2,
                "postal_code": profile.postal_code,
                "city": profile.city,
                "country": profile.country,
            },
            profile.legal_name,
        )[1:],
        "iban": printed_iban(profile.iban),
    }
