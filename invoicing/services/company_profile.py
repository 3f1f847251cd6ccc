"""Who issues the documents: the company profile every invoice prints."""

from django.db import transaction

from customers.peppol import normalize_peppol_endpoint
from customers.validators import normalize_bic, normalize_iban, normalize_tax_id, validate_country
from otc.audit import acting
from otc.errors import InvalidInput, field_checked
from otc.models import CompanyProfile, User
from otc.services import validate_model

COMPANY_PROFILE_FIELDS = (
    "legal_name",
    "line1",
    "line2",
    "postal_code",
    "city",
    "country",
    "tax_id",
    "peppol_scheme",
    "peppol_id",
    "registration",
    "contact_name",
    "email",
    "phone",
    "website",
    "bank_name",
    "iban",
    "bic",
    "legal_text",
    "payment_instructions",
)


@transaction.atomic
def save_company_profile(*, actor: User, data: dict) -> CompanyProfile:
    """Who issues the documents. VAT ID, IBAN and BIC are checked, because every invoice prints them."""
    unknown = set(data) - set(COMPANY_PROFILE_FIELDS) - {"logo"}
    if unknown:
        raise InvalidInput(
            f"Unknown fields: {', '.join(sorted(unknown))}.", fields={name: ["Unknown."] for name in unknown}
        )
    profile = CompanyProfile.objects.select_for_update().filter(pk=1).first() or CompanyProfile(pk=1)
    for name, value in data.items():
        setattr(profile, name, value)
    field_checked("country", validate_country, profile.country)
    profile.tax_id = field_checked("tax_id", normalize_tax_id, profile.tax_id, profile.country)
    profile.peppol_scheme, profile.peppol_id = field_checked(
        "peppol_id", normalize_peppol_endpoint, profile.peppol_scheme, profile.peppol_id, profile.tax_id
    )
    profile.iban = field_checked("iban", normalize_iban, profile.iban)
    profile.bic = field_checked("bic", normalize_bic, profile.bic)
    validate_model(profile)
    with acting(actor, "company profile"):
        profile.save()
    return profile
