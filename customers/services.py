"""Write side of customer data. Every function is one business action in one transaction, takes the
actor, leaves an audit entry through `acting`, and sends the domain signal the outbox records."""

import re
import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone

from customers.errors import (
    ChangeRequestNotPending,
    CustomerStatusConflict,
    InvitationNotPending,
    PossibleDuplicateCustomer,
    SelfApprovalRefused,
)
from customers.events import (
    BillingDataChanged,
    ChangeRequestDecided,
    ChangeRequestSubmitted,
    CreditHoldPlaced,
    CreditHoldReleased,
    CustomerChanged,
    CustomerCreated,
    CustomerTagged,
    PortalInvitationSent,
)
from customers.leitweg import normalize_leitweg_id
from customers.models import (
    ALL_PORTAL_ROLES,
    CUSTOMER_NUMBER_SEQUENCE,
    TAG_PATTERN,
    Address,
    AddressKind,
    BankAccount,
    ChangeRequest,
    ChangeRequestKind,
    ChangeRequestStatus,
    Contact,
    ContactRole,
    CreditProfile,
    Customer,
    CustomerBehaviour,
    CustomerGroup,
    CustomerStatus,
    CustomerTag,
    InvitationStatus,
    InvoiceDelivery,
    PortalInvitation,
    PortalMembership,
    Preferences,
)
from customers.peppol import normalize_peppol_endpoint
from customers.selectors import INVITATION_SALT, invitation_for_token, possible_duplicates
from customers.validators import mask_iban, name_key, normalize_bic, normalize_iban, normalize_tax_id
from otc.audit import acting
from otc.crypto import fingerprint
from otc.errors import InvalidInput, PermissionDenied, field_checked
from otc.events import publish
from otc.models import DocumentStyle, User
from otc.money import parse_decimal, quantize, validate_currency
from otc.services import model_update, validate_model

CUSTOMER_FIELDS = (
    "group",
    "legal_name",
    "trading_name",
    "country",
    "tax_id",
    "peppol_scheme",
    "peppol_id",
    "leitweg_id",
    "default_currency",
    "language",
    "payment_terms_days",
    "sales_rep",
    "notes",
)
BILLING_FIELDS = {"legal_name", "country", "tax_id"}
CONTACT_FIELDS = ("name", "email", "phone", "mobile", "sms_opt_in", "roles", "is_active")
ADDRESS_FIELDS = ("kind", "is_default", "name", "line1", "line2", "postal_code", "city", "region", "country")
PREFERENCE_FIELDS = (
    "channels",
    "opt_outs",
    "invoice_delivery",
    "po_number_required",
    "portal_mfa_required",
    "invoicing_schedule",
    "document_layout",
    "facturx_profile",
    "document_style",
)
CREDIT_PROFILE_FIELDS = ("risk_class", "review_date")


def _next_customer_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [CUSTOMER_NUMBER_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"C{value:06d}"


def _billing_roles_touched(*role_lists: list[str]) -> bool:
    return any(ContactRole.BILLING in roles for roles in role_lists)


@transaction.atomic
def create_customer(
    *,
    actor: User,
    legal_name: str,
    country: str,
    tax_id: str = "",
    peppol_scheme: str = "",
    peppol_id: str = "",
    leitweg_id: str = "",
    trading_name: str = "",
    default_currency: str = "EUR",
    language: str = "en",
    payment_terms_days: int = 30,
    sales_rep: User | None = None,
    group: CustomerGroup | None = None,
    notes: str = "",
    contacts: list[dict[str, Any]] = (),
    addresses: list[dict[str, Any]] = (),
    preferences: dict[str, Any] | None = None,
    confirm_duplicate: bool = False,
) -> Customer:
    """Create a customer with its credit profile and preferences.

    Refuses a possible duplicate (same tax ID or near-identical name) unless `confirm_duplicate`.
    A credit limit is never set here: it goes through a change request like every later change.
    """
    customer = Customer(
        legal_name=legal_name.strip(),
        trading_name=trading_name.strip(),
        country=country,
        tax_id="",
        default_currency=default_currency,
        language=language,
        payment_terms_days=payment_terms_days,
        sales_rep=sales_rep,
        group=group,
        notes=notes,
    )
    validate_model(customer, exclude=["number", "name_key"])
    customer.tax_id = field_checked("tax_id", normalize_tax_id, tax_id, country)
    customer.peppol_scheme, customer.peppol_id = field_checked(
        "peppol_id", normalize_peppol_endpoint, peppol_scheme, peppol_id, customer.tax_id
    )
    customer.leitweg_id = field_checked("leitweg_id", normalize_leitweg_id, leitweg_id)
    preferences = _normalized_preferences(preferences or {})
    _require_leitweg_id_for_xrechnung(preferences.get("invoice_delivery", ""), customer.leitweg_id)
    customer.name_key = name_key(customer.legal_name)
    if not confirm_duplicate:
        duplicates = list(possible_duplicates(legal_name=customer.legal_name, tax_id=customer.tax_id))
        if duplicates:
            raise PossibleDuplicateCustomer(duplicates)
    with acting(actor, "create customer"):
        customer.number = _next_customer_number()
        customer.save()
        CreditProfile.objects.create(customer=customer, credit_currency=customer.default_currency)
        prefs = Preferences(customer=customer, **preferences)
        validate_model(prefs, exclude=["customer"])
        prefs.save()
        for contact in contacts:
            _create_contact(customer=customer, data=contact)
        for address in addresses:
            _create_address(customer=customer, data=address)
    publish(CustomerCreated(customer_id=customer.pk, customer_number=customer.number, actor_id=actor.pk))
    return customer


@transaction.atomic
def update_customer(*, customer: Customer, actor: User, data: dict[str, Any]) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    data = dict(data)
    unknown = sorted(set(data) - set(CUSTOMER_FIELDS))
    if unknown:
        raise InvalidInput(
            f"These fields cannot be changed here: {', '.join(unknown)}",
            fields={name: ["Not changeable here."] for name in unknown},
        )
    if "tax_id" in data or "country" in data:
        data["tax_id"] = field_checked(
            "tax_id", normalize_tax_id, data.get("tax_id", customer.tax_id), data.get("country", customer.country)
        )
    if {"peppol_scheme", "peppol_id"} & set(data):
        data["peppol_scheme"], data["peppol_id"] = field_checked(
            "peppol_id",
            normalize_peppol_endpoint,
            data.get("peppol_scheme", customer.peppol_scheme),
            data.get("peppol_id", customer.peppol_id),
            data.get("tax_id", customer.tax_id),
        )
    if "leitweg_id" in data:
        data["leitweg_id"] = field_checked("leitweg_id", normalize_leitweg_id, data["leitweg_id"])
        _require_leitweg_id_for_xrechnung(customer.preferences.invoice_delivery, data["leitweg_id"])
    if "legal_name" in data:
        data["legal_name"] = data["legal_name"].strip()
        data["name_key"] = name_key(data["legal_name"])
    if "default_currency" in data:
        field_checked("default_currency", validate_currency, data["default_currency"])
    with acting(actor, "update customer"):
        changed = model_update(instance=customer, fields=(*CUSTOMER_FIELDS, "name_key"), data=data)
    _announce_change(customer=customer, actor=actor, changed=[name for name in changed if name != "name_key"])
    return customer


def _announce_change(*, customer: Customer, actor: User, changed: list[str]) -> None:
    if not changed:
        return
    publish(
        CustomerChanged(
            customer_id=customer.pk, customer_number=customer.number, actor_id=actor.pk, changed_fields=changed
        )
    )
    billing = sorted(BILLING_FIELDS.intersection(changed))
    if billing:
        _announce_billing_change(customer=customer, actor=actor, changed=billing)


def _announce_billing_change(*, customer: Customer, actor: User, changed: list[str]) -> None:
    publish(
        BillingDataChanged(customer_id=customer.pk, customer_number=customer.number, actor_id=actor.pk, changed=changed)
    )


def _locked_customer(customer: Customer) -> Customer:
    """Lock the customer row: status changes and change requests serialize on it."""
    return Customer.objects.select_for_update().get(pk=customer.pk)


@transaction.atomic
def place_credit_hold(*, customer: Customer, actor: User, reason: str) -> Customer:
    if not reason.strip():
        raise InvalidInput("A credit hold needs a reason.", fields={"reason": ["This field is required."]})
    customer = _locked_customer(customer)
    if customer.status != CustomerStatus.ACTIVE:
        raise CustomerStatusConflict(
            f"Only an active customer can be put on hold; this one is {customer.get_status_display().lower()}."
        )
    with acting(actor, f"credit hold: {reason}"):
        customer.status = CustomerStatus.ON_HOLD
        customer.save(update_fields=["status", "updated_at"])
        CreditProfile.objects.filter(customer=customer).update(
            hold_reason=reason.strip(), hold_set_by=actor, hold_set_at=timezone.now()
        )
    publish(
        CreditHoldPlaced(
            customer_id=customer.pk, customer_number=customer.number, actor_id=actor.pk, reason=reason.strip()
        )
    )
    return customer


@transaction.atomic
def release_credit_hold(*, customer: Customer, actor: User, reason: str) -> Customer:
    """Orders go ahead again; why is kept in the audit trail."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why the credit hold is released.", fields={"reason": ["This field is required."]})
    customer = _locked_customer(customer)
    if customer.status != CustomerStatus.ON_HOLD:
        raise CustomerStatusConflict("This customer is not on credit hold.")
    with acting(actor, f"credit hold released: {reason}"):
        customer.status = CustomerStatus.ACTIVE
        customer.save(update_fields=["status", "updated_at"])
        CreditProfile.objects.filter(customer=customer).update(hold_reason="", hold_set_by=None, hold_set_at=None)
    publish(CreditHoldReleased(customer_id=customer.pk, customer_number=customer.number, actor_id=actor.pk))
    return customer


@transaction.atomic
def block_customer(*, customer: Customer, actor: User, reason: str) -> Customer:
    if not reason.strip():
        raise InvalidInput("Blocking a customer needs a reason.", fields={"reason": ["This field is required."]})
    customer = _locked_customer(customer)
    if customer.status == CustomerStatus.BLOCKED:
        raise CustomerStatusConflict("This customer is already blocked.")
    with acting(actor, f"blocked: {reason}"):
        customer.status = CustomerStatus.BLOCKED
        customer.save(update_fields=["status", "updated_at"])
    _announce_change(customer=customer, actor=actor, changed=["status"])
    return customer


@transaction.atomic
def unblock_customer(*, customer: Customer, actor: User) -> Customer:
    customer = _locked_customer(customer)
    if customer.status != CustomerStatus.BLOCKED:
        raise CustomerStatusConflict("This customer is not blocked.")
    with acting(actor, "unblocked"):
        customer.status = CustomerStatus.ACTIVE
        customer.save(update_fields=["status", "updated_at"])
    _announce_change(customer=customer, actor=actor, changed=["status"])
    return customer


@transaction.atomic
def update_credit_profile(
    *, customer: Customer, actor: User, risk_class: str | None = None, review_date: date | None = None
) -> CreditProfile:
    """Risk class and review date; the limit itself only changes through a change request."""
    profile = CreditProfile.objects.select_for_update().get(customer=customer)
    data = {
        key: value for key, value in {"risk_class": risk_class, "review_date": review_date}.items() if value is not None
    }
    with acting(actor, "update credit profile"):
        changed = model_update(instance=profile, fields=CREDIT_PROFILE_FIELDS, data=data)
    _announce_change(customer=customer, actor=actor, changed=[f"credit.{name}" for name in changed])
    return profile


def _create_contact(*, customer: Customer, data: dict[str, Any]) -> Contact:
    contact = Contact(customer=customer, **data)
    contact.roles = sorted(set(contact.roles))
    validate_model(contact, exclude=["customer"])
    contact.save()
    return contact


def _create_address(*, customer: Customer, data: dict[str, Any]) -> Address:
    address = Address(customer=customer, **data)
    validate_model(address, exclude=["customer"])
    if address.is_default:
        Address.objects.filter(customer=customer, kind=address.kind, is_default=True).update(is_default=False)
    address.save()
    return address


@transaction.atomic
def add_contact(*, customer: Customer, actor: User, data: dict[str, Any]) -> Contact:
    with acting(actor, "add contact"):
        contact = _create_contact(customer=customer, data=data)
    _announce_change(customer=customer, actor=actor, changed=["contacts"])
    if _billing_roles_touched(contact.roles):
        _announce_billing_change(customer=customer, actor=actor, changed=["billing_contact"])
    return contact


@transaction.atomic
def update_contact(*, contact: Contact, actor: User, data: dict[str, Any]) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    roles_before = list(contact.roles)
    if "roles" in data:
        data = {**data, "roles": sorted(set(data["roles"]))}
    with acting(actor, "update contact"):
        changed = model_update(instance=contact, fields=CONTACT_FIELDS, data=data)
    if changed:
        _announce_change(customer=contact.customer, actor=actor, changed=["contacts"])
        if _billing_roles_touched(roles_before, contact.roles):
            _announce_billing_change(customer=contact.customer, actor=actor, changed=["billing_contact"])
    return contact


@transaction.atomic
def remove_contact(*, contact: Contact, actor: User) -> None:
    customer, roles = contact.customer, list(contact.roles)
    with acting(actor, "remove contact"):
        contact.delete()
    _announce_change(customer=customer, actor=actor, changed=["contacts"])
    if _billing_roles_touched(roles):
        _announce_billing_change(customer=customer, actor=actor, changed=["billing_contact"])


@transaction.atomic
def add_address(*, customer: Customer, actor: User, data: dict[str, Any]) -> Address:
    _locked_customer(customer)
    with acting(actor, "add address"):
        address = _create_address(customer=customer, data=data)
    _announce_address_change(customer=customer, actor=actor, kinds=[address.kind])
    return address


@transaction.atomic
def update_address(*, address: Address, actor: User, data: dict[str, Any]) -> Address:
    _locked_customer(address.customer)
    address = Address.objects.get(pk=address.pk)
    kind_before = address.kind
    with acting(actor, "update address"):
        if data.get("is_default") and not address.is_default:
            Address.objects.filter(
                customer_id=address.customer_id, kind=data.get("kind", address.kind), is_default=True
            ).update(is_default=False)
        changed = model_update(instance=address, fields=ADDRESS_FIELDS, data=data)
    if changed:
        _announce_address_change(customer=address.customer, actor=actor, kinds=[kind_before, address.kind])
    return address


@transaction.atomic
def remove_address(*, address: Address, actor: User) -> None:
    customer, kind = address.customer, address.kind
    with acting(actor, "remove address"):
        address.delete()
    _announce_address_change(customer=customer, actor=actor, kinds=[kind])


def _announce_address_change(*, customer: Customer, actor: User, kinds: list[str]) -> None:
    _announce_change(customer=customer, actor=actor, changed=["addresses"])
    if AddressKind.BILLING in kinds:
        _announce_billing_change(customer=customer, actor=actor, changed=["billing_address"])


@transaction.atomic
def update_preferences(*, customer: Customer, actor: User, data: dict[str, Any]) -> Preferences:
    preferences = Preferences.objects.select_for_update().get(customer=customer)
    data = _normalized_preferences(data)
    if "invoice_delivery" in data:
        _require_leitweg_id_for_xrechnung(data["invoice_delivery"], Customer.objects.get(pk=customer.pk).leitweg_id)
    with acting(actor, "update preferences"):
        changed = model_update(instance=preferences, fields=PREFERENCE_FIELDS, data=data)
    _announce_change(customer=customer, actor=actor, changed=[f"preferences.{name}" for name in changed])
    return preferences


def _require_leitweg_id_for_xrechnung(invoice_delivery: str, leitweg_id: str) -> None:
    """XRechnung without a Leitweg-ID would be refused by every public-sector receiver (BR-DE-15)."""
    if invoice_delivery == InvoiceDelivery.XRECHNUNG and not leitweg_id:
        message = "XRechnung delivery needs the customer's Leitweg-ID (buyer reference, BT-10)."
        raise InvalidInput(message, fields={"leitweg_id": [message]})


def _normalized_preferences(data: dict[str, Any]) -> dict[str, Any]:
    return {key: sorted(set(value)) if key in {"channels", "opt_outs"} else value for key, value in data.items()}


def _pending_request(*, customer: Customer, actor: User, kind: str, reason: str, **fields) -> ChangeRequest:
    if not reason.strip():
        raise InvalidInput("A change request needs a reason.", fields={"reason": ["This field is required."]})
    with acting(actor, f"request {kind}"):
        request = ChangeRequest.objects.create(
            customer=customer, kind=kind, reason=reason.strip(), requested_by=actor, **fields
        )
    publish(
        ChangeRequestSubmitted(
            change_request_id=request.pk,
            customer_id=customer.pk,
            customer_number=customer.number,
            actor_id=actor.pk,
            kind=kind,
        )
    )
    return request


@transaction.atomic
def request_credit_limit_change(
    *, customer: Customer, actor: User, credit_limit: Decimal | str, currency: str | None = None, reason: str
) -> ChangeRequest:
    customer = _locked_customer(customer)
    currency = currency or customer.credit.credit_currency
    field_checked("currency", validate_currency, currency)
    amount = quantize(parse_decimal(credit_limit, field="credit_limit", low=Decimal(0)), currency)
    return _pending_request(
        customer=customer,
        actor=actor,
        kind=ChangeRequestKind.CREDIT_LIMIT,
        reason=reason,
        proposed={"credit_limit": str(amount), "currency": currency},
    )


@transaction.atomic
def request_bank_account(
    *, customer: Customer, actor: User, holder_name: str, iban: str, bic: str = "", reason: str
) -> ChangeRequest:
    iban = field_checked("iban", normalize_iban, iban)
    bic = field_checked("bic", normalize_bic, bic)
    if not holder_name.strip():
        raise InvalidInput("The account holder is required.", fields={"holder_name": ["This field is required."]})
    customer = _locked_customer(customer)
    if customer.bank_accounts.filter(iban_fingerprint=fingerprint(iban)).exists():
        raise InvalidInput("This customer already has this IBAN.", fields={"iban": ["Already on file."]})
    return _pending_request(
        customer=customer,
        actor=actor,
        kind=ChangeRequestKind.BANK_ACCOUNT_ADD,
        reason=reason,
        proposed={"holder_name": holder_name.strip(), "bic": bic, "iban_masked": mask_iban(iban)},
        proposed_iban=iban,
    )


@transaction.atomic
def request_bank_account_deactivation(*, bank_account: BankAccount, actor: User, reason: str) -> ChangeRequest:
    customer = _locked_customer(bank_account.customer)
    if not bank_account.is_active:
        raise InvalidInput("This bank account is already inactive.", fields={"bank_account": ["Already inactive."]})
    return _pending_request(
        customer=customer,
        actor=actor,
        kind=ChangeRequestKind.BANK_ACCOUNT_DEACTIVATE,
        reason=reason,
        bank_account=bank_account,
        proposed={"iban_masked": bank_account.iban_masked},
    )


def _decidable(change_request: ChangeRequest, actor: User) -> ChangeRequest:
    """Lock and check a pending request; call inside a transaction."""
    change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if change_request.status != ChangeRequestStatus.PENDING:
        raise ChangeRequestNotPending(f"This change request is already {change_request.get_status_display().lower()}.")
    if change_request.requested_by_id == actor.pk:
        raise SelfApprovalRefused("You requested this change; another staff member must decide it.")
    return change_request


@transaction.atomic
def approve_change_request(*, change_request: ChangeRequest, actor: User, note: str = "") -> ChangeRequest:
    """Apply the proposed change; the approver must not be the requester (also a DB constraint)."""
    change_request = _decidable(change_request, actor)
    customer = _locked_customer(change_request.customer)
    with acting(actor, f"approve change request {change_request.pk}"):
        billing_change = _apply(change_request)
        change_request.status = ChangeRequestStatus.APPROVED
        change_request.decided_by, change_request.decided_at = actor, timezone.now()
        change_request.decision_note = note.strip()
        change_request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _announce_decision(change_request, actor)
    if billing_change:
        _announce_billing_change(customer=customer, actor=actor, changed=[billing_change])
    return change_request


def _apply(change_request: ChangeRequest) -> str:
    """Carry out an approved request; returns the billing item it changed, if any."""
    proposed = change_request.proposed
    if change_request.kind == ChangeRequestKind.CREDIT_LIMIT:
        CreditProfile.objects.filter(customer_id=change_request.customer_id).update(
            credit_limit=Decimal(proposed["credit_limit"]), credit_currency=proposed["currency"]
        )
        return ""
    if change_request.kind == ChangeRequestKind.BANK_ACCOUNT_ADD:
        iban = change_request.proposed_iban
        if BankAccount.objects.filter(
            customer_id=change_request.customer_id, iban_fingerprint=fingerprint(iban)
        ).exists():
            raise InvalidInput("This customer already has this IBAN.", fields={"iban": ["Already on file."]})
        BankAccount.objects.create(
            customer_id=change_request.customer_id,
            holder_name=proposed["holder_name"],
            iban=iban,
            iban_fingerprint=fingerprint(iban),
            iban_masked=mask_iban(iban),
            bic=proposed.get("bic", ""),
        )
        return "bank_account"
    BankAccount.objects.filter(pk=change_request.bank_account_id).update(is_active=False)
    return "bank_account"


@transaction.atomic
def reject_change_request(*, change_request: ChangeRequest, actor: User, note: str) -> ChangeRequest:
    if not note.strip():
        raise InvalidInput("Say why the change is rejected.", fields={"note": ["This field is required."]})
    change_request = _decidable(change_request, actor)
    with acting(actor, f"reject change request {change_request.pk}"):
        change_request.status = ChangeRequestStatus.REJECTED
        change_request.decided_by, change_request.decided_at = actor, timezone.now()
        change_request.decision_note = note.strip()
        change_request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _announce_decision(change_request, actor)
    return change_request


def _announce_decision(change_request: ChangeRequest, actor: User) -> None:
    publish(
        ChangeRequestDecided(
            change_request_id=change_request.pk,
            customer_id=change_request.customer_id,
            customer_number=change_request.customer.number,
            actor_id=actor.pk,
            kind=change_request.kind,
            status=change_request.status,
        )
    )


@transaction.atomic
def withdraw_change_request(*, change_request: ChangeRequest, actor: User) -> ChangeRequest:
    change_request = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
    if change_request.status != ChangeRequestStatus.PENDING:
        raise ChangeRequestNotPending()
    if change_request.requested_by_id != actor.pk:
        raise PermissionDenied("Only the requester can withdraw a change request.")
    with acting(actor, f"withdraw change request {change_request.pk}"):
        change_request.status = ChangeRequestStatus.WITHDRAWN
        change_request.save(update_fields=["status"])
    return change_request


def _portal_roles(roles) -> list[str]:
    """The roles as stored: known ones only, at least one, in the canonical order."""
    chosen = set(roles or ())
    if not chosen or not chosen <= set(ALL_PORTAL_ROLES):
        raise InvalidInput("Choose at least one portal role.", fields={"roles": ["Choose at least one portal role."]})
    return [role for role in ALL_PORTAL_ROLES if role in chosen]


def _portal_candidate(*, customer: Customer, email: str) -> User | None:
    """The existing user behind `email`, refused when they cannot become this customer's portal user."""
    user = User.objects.filter(email=email).first()
    if user is None:
        return None
    if user.is_staff or user.is_service_account:
        raise InvalidInput("Staff and service accounts cannot be portal users.", fields={"email": ["Staff account."]})
    if PortalMembership.objects.filter(user=user).exclude(customer=customer).exists():
        raise InvalidInput(
            "This user already belongs to another customer.", fields={"email": ["Belongs to another customer."]}
        )
    return user


def _attach_portal_user(*, customer: Customer, email: str, full_name: str, roles: list[str]) -> User:
    user = _portal_candidate(customer=customer, email=email)
    if user is None:
        user = User(email=email, full_name=full_name.strip())
        validate_model(user, exclude=["password"])
        user.set_unusable_password()
        user.save()
    PortalMembership.objects.get_or_create(user=user, defaults={"customer": customer, "roles": roles})
    return user


@transaction.atomic
def grant_portal_access(
    *, customer: Customer, actor: User, email: str, full_name: str = "", roles: list[str] = ALL_PORTAL_ROLES
) -> User:
    """Create (or attach) a portal user for the customer; the user sets a password via reset email.
    Staff normally invite instead (`invite_portal_user`), which lets the person choose the password."""
    with acting(actor, "grant portal access"):
        return _attach_portal_user(
            customer=customer, email=email.strip().lower(), full_name=full_name, roles=_portal_roles(roles)
        )


def _send_invitation(invitation: PortalInvitation, actor: User) -> None:
    publish(
        PortalInvitationSent(
            invitation_id=invitation.pk,
            customer_id=invitation.customer_id,
            customer_number=invitation.customer.number,
            actor_id=actor.pk,
            sent_count=invitation.sent_count,
        )
    )


def _fresh_link_fields() -> dict[str, Any]:
    now = timezone.now()
    return {
        "nonce": secrets.token_urlsafe(24),
        "last_sent_at": now,
        "expires_at": now + timedelta(days=settings.OTC_PORTAL_INVITATION_DAYS),
    }


@transaction.atomic
def invite_portal_user(
    *, customer: Customer, actor: User, email: str, roles: list[str], full_name: str = ""
) -> PortalInvitation:
    """Email someone a one-time link to the customer's portal, with the roles they will hold."""
    email = email.strip().lower()
    invitation = PortalInvitation(
        customer=customer,
        email=email,
        full_name=full_name.strip(),
        roles=_portal_roles(roles),
        invited_by=actor,
        **_fresh_link_fields(),
    )
    validate_model(invitation, exclude=["customer", "invited_by"])
    user = _portal_candidate(customer=customer, email=email)
    if user is not None and PortalMembership.objects.filter(user=user, customer=customer).exists():
        raise InvalidInput("This person already has portal access.", fields={"email": ["Already a portal user."]})
    if PortalInvitation.objects.filter(customer=customer, email=email, status=InvitationStatus.PENDING).exists():
        raise InvalidInput(
            "This person has a pending invitation; resend it instead.", fields={"email": ["Already invited."]}
        )
    with acting(actor, f"invite {email} to the portal"):
        invitation.save()
    _send_invitation(invitation, actor)
    return invitation


def _pending_invitation(invitation: PortalInvitation) -> PortalInvitation:
    invitation = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationNotPending()
    return invitation


@transaction.atomic
def resend_portal_invitation(*, invitation: PortalInvitation, actor: User) -> PortalInvitation:
    """A new link with a new expiry; the link sent before stops working."""
    invitation = _pending_invitation(invitation)
    with acting(actor, f"resend portal invitation {invitation.pk}"):
        for name, value in _fresh_link_fields().items():
            setattr(invitation, name, value)
        invitation.sent_count += 1
        invitation.save(update_fields=["nonce", "last_sent_at", "expires_at", "sent_count"])
    _send_invitation(invitation, actor)
    return invitation


@transaction.atomic
def revoke_portal_invitation(*, invitation: PortalInvitation, actor: User) -> PortalInvitation:
    invitation = _pending_invitation(invitation)
    with acting(actor, f"revoke portal invitation {invitation.pk}"):
        invitation.status, invitation.revoked_at, invitation.revoked_by = (
            InvitationStatus.REVOKED,
            timezone.now(),
            actor,
        )
        invitation.save(update_fields=["status", "revoked_at", "revoked_by"])
    return invitation


def invitation_token(invitation: PortalInvitation) -> str:
    """The secret part of the emailed link: signed with SECRET_KEY over the id and the current nonce."""
    return signing.dumps([invitation.pk, invitation.nonce], salt=INVITATION_SALT, compress=True)


@transaction.atomic
def accept_portal_invitation(*, token: str, password: str) -> User:
    """The invited person chooses a password and becomes a portal user; the link is spent."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise InvitationNotPending()
    invitation = _pending_invitation(invitation)
    user = User.objects.filter(email=invitation.email).first() or User(
        email=invitation.email, full_name=invitation.full_name
    )
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as error:
        raise InvalidInput(" ".join(error.messages), fields={"password": list(error.messages)}) from error
    with acting(user if user.pk else invitation.invited_by, f"accept portal invitation {invitation.pk}"):
        user = _attach_portal_user(
            customer=invitation.customer, email=invitation.email, full_name=invitation.full_name, roles=invitation.roles
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        invitation.status, invitation.accepted_at, invitation.accepted_user = (
            InvitationStatus.ACCEPTED,
            timezone.now(),
            user,
        )
        invitation.save(update_fields=["status", "accepted_at", "accepted_user"])
    return user


@transaction.atomic
def change_portal_roles(*, membership: PortalMembership, actor: User, roles: list[str]) -> PortalMembership:
    with acting(actor, f"change portal roles of {membership.user_id}"):
        membership.roles = _portal_roles(roles)
        membership.save(update_fields=["roles"])
    return membership


@transaction.atomic
def remove_portal_access(*, membership: PortalMembership, actor: User) -> None:
    """The user can no longer sign in to this customer's portal; their past actions stay attributed."""
    with acting(actor, f"remove portal access of {membership.user_id}"):
        membership.delete()


# --- Tags and behaviour scores --------------------------------------------------------------------------


def _tag_name(name: str) -> str:
    tag = name.strip().lower()
    if not re.fullmatch(TAG_PATTERN, tag):
        raise InvalidInput(
            f"{name!r} is not a valid tag.",
            fields={"name": ["Up to 40 lower case letters, digits, - and _, starting with a letter or digit."]},
        )
    return tag


@transaction.atomic
def add_customer_tag(*, customer: Customer, name: str, actor: User) -> CustomerTag:
    """Tag the customer (audited, announced as customer.tagged); a tag it has already is left as it is,
    and nothing is announced."""
    tag = _tag_name(name)
    customer = _locked_customer(customer)
    existing = CustomerTag.objects.filter(customer=customer, name=tag).first()
    if existing is not None:
        return existing
    with acting(actor, f"tag added: {tag}"):
        created = CustomerTag.objects.create(customer=customer, name=tag, added_by=actor)
    publish(CustomerTagged(customer_id=customer.pk, customer_number=customer.number, actor_id=actor.pk, tag=tag))
    return created


@transaction.atomic
def remove_customer_tag(*, customer: Customer, name: str, actor: User) -> bool:
    """Take a tag off (audited); returns whether the customer had it."""
    tag = _tag_name(name)
    with acting(actor, f"tag removed: {tag}"):
        deleted, _ = CustomerTag.objects.filter(customer=customer, name=tag).delete()
    return bool(deleted)


@transaction.atomic
def record_behaviour(*, scores: Iterable[tuple[int, str, Decimal | None]], scored_at: datetime) -> int:
    """Store analytics' latest view of how customers pay, `(customer_id, segment, predicted_days_late)`
    each, in one statement; customers it did not score keep their last record. Returns the rows written."""
    rows = [
        CustomerBehaviour(customer_id=customer_id, segment=segment, predicted_days_late=days, scored_at=scored_at)
        for customer_id, segment, days in scores
    ]
    CustomerBehaviour.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["segment", "predicted_days_late", "scored_at"],
    )
    return len(rows)


@transaction.atomic
def set_group_document_style(*, actor: User, group: CustomerGroup, style: DocumentStyle | None) -> CustomerGroup:
    """The look of the documents the group's customers receive, unless a customer has its own style;
    None: the default style."""
    group = CustomerGroup.objects.select_for_update().get(pk=group.pk)
    group.document_style = style
    with acting(actor, "customer group document style"):
        group.save(update_fields=["document_style"])
    return group
