"""Customers API for partner systems. Each handler parses with an input serializer, calls one service
with the caller as actor, and renders with an output serializer; errors become problem+json."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from customers import selectors, services
from customers.api.filters import ChangeRequestFilter, CustomerFilter
from customers.api.serializers import (
    AddressSerializer,
    AddressWriteSerializer,
    ApprovalSerializer,
    BankAccountSerializer,
    ChangeRequestCreateSerializer,
    ChangeRequestSerializer,
    ContactSerializer,
    ContactWriteSerializer,
    CreditHoldSerializer,
    CustomerCreateSerializer,
    CustomerDetailSerializer,
    CustomerSerializer,
    CustomerWriteSerializer,
    PreferencesSerializer,
    PreferencesWriteSerializer,
    RejectionSerializer,
    TimelineEntrySerializer,
)
from customers.models import Address, ChangeRequest, ChangeRequestKind, Contact, Customer, Preferences
from otc.api.idempotency import idempotent
from otc.api.schema import IDEMPOTENCY_KEY, problems
from otc.api.serializers import parse

CUSTOMER_SCOPES = {"read": "customers:read", "write": "customers:write"}


def customer_or_404(pk) -> Customer:
    return get_object_or_404(selectors.customer_list(), pk=pk)


def customer_detail_or_404(pk) -> Customer:
    try:
        return selectors.customer_detail(pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


class CustomerViewSet(viewsets.GenericViewSet):
    """Customers: list, create, read and change; credit hold; account timeline (the exposure is orders')."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {
        "read": "customers.view_customer",
        "write": "customers.change_customer",
        "create": "customers.add_customer",
    }
    filterset_class = CustomerFilter
    search_fields = ["number", "legal_name", "trading_name", "tax_id"]
    search_spec = selectors.CUSTOMER_SEARCH

    def get_queryset(self) -> QuerySet[Customer]:
        return selectors.customer_list()

    @extend_schema(responses={200: CustomerSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Customers, newest first, one cursor page at a time; filter by field or `search` by number or name."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(
        request=CustomerCreateSerializer,
        responses={201: CustomerDetailSerializer, **problems(401, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "A possible duplicate (same tax ID or near-identical name) is a 409 listing the `duplicates`; "
            "send `confirm_duplicate: true` to create it anyway."
        ),
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Create a customer with its contacts, addresses and preferences (never a credit limit)."""
        data = parse(CustomerCreateSerializer, request)
        customer = services.create_customer(actor=request.user, **data)
        return Response(
            CustomerDetailSerializer(customer_detail_or_404(customer.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={200: CustomerDetailSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """The customer with credit profile, preferences, contacts, addresses and (masked) bank accounts."""
        return Response(CustomerDetailSerializer(customer_detail_or_404(pk)).data)

    @extend_schema(
        request=CustomerWriteSerializer, responses={200: CustomerDetailSerializer, **problems(401, 403, 404, 422)}
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        """Change the given fields only. Status and credit limit are not changed here."""
        customer = customer_or_404(pk)
        services.update_customer(
            customer=customer, actor=request.user, data=parse(CustomerWriteSerializer, request, partial=True)
        )
        return Response(CustomerDetailSerializer(customer_detail_or_404(pk)).data)

    @extend_schema(
        request=CreditHoldSerializer, responses={200: CustomerDetailSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"], url_path="credit-hold")
    def credit_hold(self, request: Request, pk: int) -> Response:
        """Put an active customer on credit hold, with a reason."""
        data = parse(CreditHoldSerializer, request)
        services.place_credit_hold(customer=customer_or_404(pk), actor=request.user, reason=data["reason"])
        return Response(CustomerDetailSerializer(customer_detail_or_404(pk)).data)

    @extend_schema(
        request=CreditHoldSerializer, responses={200: CustomerDetailSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"], url_path="release-credit-hold")
    def release_credit_hold(self, request: Request, pk: int) -> Response:
        """Release a customer's credit hold, saying why (kept in the audit trail)."""
        data = parse(CreditHoldSerializer, request)
        services.release_credit_hold(customer=customer_or_404(pk), actor=request.user, reason=data["reason"])
        return Response(CustomerDetailSerializer(customer_detail_or_404(pk)).data)

    @extend_schema(responses={200: TimelineEntrySerializer(many=True), **problems(401, 403, 404)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: int) -> Response:
        """The customer's audited changes (and those of its contacts, addresses, ...), newest first."""
        events = selectors.customer_timeline(customer=customer_or_404(pk))
        return Response(TimelineEntrySerializer(events, many=True).data)


class CustomerContactsViewSet(viewsets.GenericViewSet):
    """A customer's contacts: list and add."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {"read": "customers.view_contact", "write": "customers.add_contact"}
    queryset = Contact.objects.all()

    @extend_schema(responses={200: ContactSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, customer_pk: int) -> Response:
        customer = customer_or_404(customer_pk)
        page = self.paginate_queryset(self.get_queryset().filter(customer=customer))
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        request=ContactWriteSerializer,
        responses={201: ContactSerializer, **problems(401, 403, 404, 422)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request, customer_pk: int) -> Response:
        customer = customer_or_404(customer_pk)
        contact = services.add_contact(
            customer=customer, actor=request.user, data=parse(ContactWriteSerializer, request)
        )
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactViewSet(viewsets.GenericViewSet):
    """One contact: read, change, remove."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {
        "read": "customers.view_contact",
        "write": "customers.change_contact",
        "destroy": "customers.delete_contact",
    }
    queryset = Contact.objects.select_related("customer")

    @extend_schema(responses={200: ContactSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(ContactSerializer(self.get_object()).data)

    @extend_schema(request=ContactWriteSerializer, responses={200: ContactSerializer, **problems(401, 403, 404, 422)})
    def partial_update(self, request: Request, pk: int) -> Response:
        data = parse(ContactWriteSerializer, request, partial=True)
        contact = services.update_contact(contact=self.get_object(), actor=request.user, data=data)
        return Response(ContactSerializer(contact).data)

    @extend_schema(responses={204: None, **problems(401, 403, 404)})
    def destroy(self, request: Request, pk: int) -> Response:
        services.remove_contact(contact=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerAddressesViewSet(viewsets.GenericViewSet):
    """A customer's billing and shipping addresses: list and add."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {"read": "customers.view_address", "write": "customers.add_address"}
    queryset = Address.objects.all()

    @extend_schema(responses={200: AddressSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, customer_pk: int) -> Response:
        customer = customer_or_404(customer_pk)
        page = self.paginate_queryset(self.get_queryset().filter(customer=customer))
        return self.get_paginated_response(AddressSerializer(page, many=True).data)

    @extend_schema(
        request=AddressWriteSerializer,
        responses={201: AddressSerializer, **problems(401, 403, 404, 422)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request, customer_pk: int) -> Response:
        customer = customer_or_404(customer_pk)
        address = services.add_address(
            customer=customer, actor=request.user, data=parse(AddressWriteSerializer, request)
        )
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressViewSet(viewsets.GenericViewSet):
    """One address: read, change, remove."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {
        "read": "customers.view_address",
        "write": "customers.change_address",
        "destroy": "customers.delete_address",
    }
    queryset = Address.objects.select_related("customer")

    @extend_schema(responses={200: AddressSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(AddressSerializer(self.get_object()).data)

    @extend_schema(request=AddressWriteSerializer, responses={200: AddressSerializer, **problems(401, 403, 404, 422)})
    def partial_update(self, request: Request, pk: int) -> Response:
        data = parse(AddressWriteSerializer, request, partial=True)
        address = services.update_address(address=self.get_object(), actor=request.user, data=data)
        return Response(AddressSerializer(address).data)

    @extend_schema(responses={204: None, **problems(401, 403, 404)})
    def destroy(self, request: Request, pk: int) -> Response:
        services.remove_address(address=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerPreferencesViewSet(viewsets.GenericViewSet):
    """How the customer wants to hear from us and receive invoices."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {"read": "customers.view_preferences", "write": "customers.change_preferences"}
    queryset = Preferences.objects.all()

    @extend_schema(responses={200: PreferencesSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, customer_pk: int) -> Response:
        return Response(PreferencesSerializer(get_object_or_404(self.get_queryset(), customer_id=customer_pk)).data)

    @extend_schema(
        request=PreferencesWriteSerializer, responses={200: PreferencesSerializer, **problems(401, 403, 404, 422)}
    )
    def partial_update(self, request: Request, customer_pk: int) -> Response:
        data = parse(PreferencesWriteSerializer, request, partial=True)
        preferences = services.update_preferences(customer=customer_or_404(customer_pk), actor=request.user, data=data)
        return Response(PreferencesSerializer(preferences).data)


class CustomerBankAccountsViewSet(viewsets.GenericViewSet):
    """A customer's bank accounts, IBAN masked. They are added and deactivated through change requests."""

    scopes = CUSTOMER_SCOPES
    staff_permissions = {"read": "customers.view_bankaccount"}
    queryset = selectors.bank_account_list()

    @extend_schema(responses={200: BankAccountSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, customer_pk: int) -> Response:
        customer = customer_or_404(customer_pk)
        page = self.paginate_queryset(self.get_queryset().filter(customer=customer))
        return self.get_paginated_response(BankAccountSerializer(page, many=True).data)


class ChangeRequestViewSet(viewsets.GenericViewSet):
    """Four eyes on credit limits and bank details: one key or person requests, another approves."""

    scopes = {
        "read": "customers:read",
        "write": "change_requests:write",
        "approve": "change_requests:approve",
        "reject": "change_requests:approve",
    }
    staff_permissions = {
        "read": "customers.view_changerequest",
        "write": "customers.add_changerequest",
        "approve": "customers.approve_changerequest",
        "reject": "customers.approve_changerequest",
    }
    queryset = selectors.change_request_list()
    filterset_class = ChangeRequestFilter

    @extend_schema(responses={200: ChangeRequestSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ChangeRequestSerializer(page, many=True).data)

    @extend_schema(responses={200: ChangeRequestSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        return Response(ChangeRequestSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(
        request=ChangeRequestCreateSerializer,
        responses={201: ChangeRequestSerializer, **problems(401, 403, 422)},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        data = parse(ChangeRequestCreateSerializer, request)
        change_request = _request_change(data, actor=request.user)
        return Response(ChangeRequestSerializer(change_request).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ApprovalSerializer, responses={200: ChangeRequestSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        """Apply the change. The requester cannot approve their own request (403 four_eyes_self_approval)."""
        data = parse(ApprovalSerializer, request)
        change_request = services.approve_change_request(
            change_request=get_object_or_404(self.get_queryset(), pk=pk), actor=request.user, note=data["note"]
        )
        return Response(ChangeRequestSerializer(change_request).data)

    @extend_schema(
        request=RejectionSerializer, responses={200: ChangeRequestSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        data = parse(RejectionSerializer, request)
        change_request = services.reject_change_request(
            change_request=get_object_or_404(self.get_queryset(), pk=pk), actor=request.user, note=data["note"]
        )
        return Response(ChangeRequestSerializer(change_request).data)


def _request_change(data: dict, *, actor) -> ChangeRequest:
    kind, reason = data["kind"], data["reason"]
    if kind == ChangeRequestKind.CREDIT_LIMIT:
        return services.request_credit_limit_change(
            customer=data["customer"],
            actor=actor,
            credit_limit=data["credit_limit"],
            currency=data.get("currency"),
            reason=reason,
        )
    if kind == ChangeRequestKind.BANK_ACCOUNT_ADD:
        return services.request_bank_account(
            customer=data["customer"],
            actor=actor,
            holder_name=data["holder_name"],
            iban=data["iban"],
            bic=data.get("bic", ""),
            reason=reason,
        )
    return services.request_bank_account_deactivation(bank_account=data["bank_account"], actor=actor, reason=reason)
