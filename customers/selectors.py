"""Read side of customer data: lists that cost a constant number of queries, duplicate search,
the account timeline, and the one helper that scopes portal queries to a customer. (The exposure
against the credit limit is orders', which knows the open orders and reads the ledger.)"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.core import signing
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from customers.models import (
    Address,
    AddressKind,
    BankAccount,
    ChangeRequest,
    ChangeRequestStatus,
    Customer,
    CustomerStatus,
    FacturXProfile,
    InvitationStatus,
    PortalInvitation,
    PortalMembership,
    Preferences,
)
from customers.validators import name_key
from otc.audit import history_of
from otc.document_styles import default_style
from otc.errors import InvalidInput
from otc.exchange_rates import company_currency
from otc.models import DocumentStyle
from otc.search import SearchSpec

# Customers by number (whole or its start), or any part of their names or tax ID (typed without the
# country code, say).
CUSTOMER_SEARCH = SearchSpec(prefix=("number",), contains=("legal_name", "trading_name", "tax_id"))

# A near-identical name: normalized names whose trigram similarity (pg_trgm, 0..1) is at least this
# ("schneider logistik" and "shneider logstik" are 0.76 alike, "schneider bau" 0.43). Candidates
# come from the trigram index on the normalized name.
DUPLICATE_NAME_SIMILARITY = 0.6


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.select_related("sales_rep", "credit")


def customer_detail(*, pk: int) -> Customer:
    return (
        Customer.objects.select_related("sales_rep", "credit", "preferences")
        .prefetch_related("contacts", "addresses", Prefetch("bank_accounts", queryset=bank_account_list()))
        .get(pk=pk)
    )


def bank_account_list() -> QuerySet[BankAccount]:
    """Bank accounts without their encrypted IBAN: lists show the masked form and never decrypt."""
    return BankAccount.objects.defer("iban")


def change_request_list() -> QuerySet[ChangeRequest]:
    """Change requests without the encrypted proposed IBAN (the approving service loads it)."""
    return ChangeRequest.objects.defer("proposed_iban").select_related("customer", "requested_by", "decided_by")


def possible_duplicates(*, legal_name: str, tax_id: str, exclude_pk: int | None = None) -> list[Customer]:
    """Customers with the same tax ID or a near-identical (normalized) name, most alike first: a typo
    anywhere in the name is caught, the same tax ID always is. One query on the trigram index."""
    key = name_key(legal_name)
    match = Q(name_key__trigram_similar=key)
    if tax_id:
        match |= Q(tax_id=tax_id)
    candidates = Customer.objects.filter(match).annotate(similarity=TrigramSimilarity("name_key", key))
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    alike = Q(similarity__gte=DUPLICATE_NAME_SIMILARITY)
    if tax_id:
        alike |= Q(tax_id=tax_id)
    return list(candidates.filter(alike).order_by("-similarity", "pk")[:5])


def customer_timeline(*, customer: Customer, limit: int = 200) -> QuerySet:
    """The account history: audited changes of the customer and of everything that references it."""
    return history_of(customer)[:limit]


def pending_change_requests() -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING).select_related("customer", "requested_by")


def portal_membership(*, user) -> PortalMembership:
    """The signed-in user's membership (customer and roles); 404 for anyone who is not a portal user."""
    membership = PortalMembership.objects.select_related("customer__preferences").filter(user_id=user.pk).first()
    if membership is None or not user.is_active:
        raise Http404("No customer account for this user.")
    return membership


def portal_customer(*, user) -> Customer:
    """The one customer a portal user belongs to; 404 for anyone else."""
    return portal_membership(user=user).customer


INVITATION_SALT = "customers.portal-invitation"


def invitation_for_token(token: str) -> PortalInvitation | None:
    """The pending, unexpired invitation a link's token names; None for a forged, stale (resent),
    spent, revoked or expired link, without saying which."""
    try:
        invitation_id, nonce = signing.loads(token, salt=INVITATION_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return (
        PortalInvitation.objects.select_related("customer")
        .filter(pk=invitation_id, nonce=nonce, status=InvitationStatus.PENDING, expires_at__gt=timezone.now())
        .first()
    )


def scoped_to_portal_user(queryset: QuerySet, *, user, customer_path: str = "customer") -> QuerySet:
    """Every portal query goes through here: rows of the signed-in user's customer only, so another
    customer's object is simply not found (404)."""
    customer = portal_customer(user=user)
    if queryset.model is Customer:
        return queryset.filter(pk=customer.pk)
    return queryset.filter(**{customer_path: customer})


def company_country() -> str:
    """The company's own country (the home country of inventory's tax rules), a new customer's default.
    The company profile printed on documents is invoicing's, above this app; it names the same country."""
    return settings.OTC_COMPANY_COUNTRY


def currency_for_customer(customer_id: object) -> str:
    """The currency a form opened for a customer (its id as a URL gives it) starts with: that customer's
    default currency, else, with no customer or an id that names none, the company currency."""
    given = str(customer_id or "").strip()
    currency = (
        Customer.objects.filter(pk=int(given)).values_list("default_currency", flat=True).first()
        if given.isdigit()
        else None
    )
    return currency or company_currency()


def default_addresses(customer: Customer) -> dict[str, Address]:
    """The customer's default billing and shipping address by kind, in one query."""
    return {address.kind: address for address in customer.addresses.filter(is_default=True)}


@dataclass(frozen=True)
class OrderingTerms:
    """What entering an order needs of the customer: whether every order must carry a PO number, and
    the default billing and shipping address by kind."""

    po_number_required: bool
    addresses: dict[str, Address]


def ordering_terms(customer: Customer) -> OrderingTerms:
    """The customer's ordering terms in one statement (order entry reads them for every order)."""
    fields = [field.attname for field in Address._meta.concrete_fields]
    columns = ", ".join(f"a.{connection.ops.quote_name(Address._meta.get_field(name).column)}" for name in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COALESCE(p.po_number_required, false), {columns}
                  FROM (SELECT %(customer)s::bigint AS id) c
                  LEFT JOIN customers_preferences p ON p.customer_id = c.id
                  LEFT JOIN customers_address a ON a.customer_id = c.id AND a.is_default""",  # noqa: S608 - model columns
            {"customer": customer.pk},
        )
        rows = cursor.fetchall()
    addresses = [Address.from_db(connection.alias, fields, row[1:]) for row in rows if row[1] is not None]
    return OrderingTerms(rows[0][0], {address.kind: address for address in addresses})


def shipping_country(customer: Customer) -> str:
    """Where the customer's goods go unless told otherwise: its default shipping address's country,
    else its own (the country whose tax a quote shows)."""
    country = (
        customer.addresses.filter(kind=AddressKind.SHIPPING, is_default=True).values_list("country", flat=True).first()
    )
    return country or customer.country


def address_snapshot(address: Address | None, customer: Customer) -> dict[str, str]:
    """An address as orders and invoices keep it: a copy, so later edits don't rewrite documents."""
    if address is None:
        return {}
    if address.customer_id != customer.pk:
        raise InvalidInput("The address belongs to another customer.", fields={"address": ["Not this customer's."]})
    return {
        "name": address.name or customer.legal_name,
        "line1": address.line1,
        "line2": address.line2,
        "postal_code": address.postal_code,
        "city": address.city,
        "region": address.region,
        "country": address.country,
    }


# What a customer's or a change request's state allows; the services refuse the rest, the admin
# offers only these.


def facturx_profile(customer_id: int) -> str:
    """The Factur-X profile the customer's PDFs carry (EN 16931 when it has no preferences)."""
    profile = Preferences.objects.filter(customer_id=customer_id).values_list("facturx_profile", flat=True).first()
    return profile or FacturXProfile.EN16931


def may_be_put_on_hold(customer: Customer) -> bool:
    return customer.status == CustomerStatus.ACTIVE


def is_on_credit_hold(customer: Customer) -> bool:
    return customer.status == CustomerStatus.ON_HOLD


def is_blocked(customer: Customer) -> bool:
    return customer.status == CustomerStatus.BLOCKED


def is_pending(change_request: ChangeRequest) -> bool:
    return change_request.status == ChangeRequestStatus.PENDING


def may_be_blocked(customer: Customer) -> bool:
    return customer.status != CustomerStatus.BLOCKED


def document_style_for(customer: Customer) -> DocumentStyle:
    """The look of the documents this customer receives: the customer's own style, else the style of
    the customer's group, else the default."""
    preferences = getattr(customer, "preferences", None)
    if preferences is not None and preferences.document_style_id is not None:
        return preferences.document_style
    if customer.group_id is not None and customer.group.document_style_id is not None:
        return customer.group.document_style
    return default_style()
