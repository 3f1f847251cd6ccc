"""Domain events of customer data, published inside the changing transaction (see `otc.events`)."""

from dataclasses import dataclass
from typing import Literal

from otc.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CustomerEvent(DomainEvent):
    """Something happened to a customer."""

    customer_id: int
    customer_number: str
    actor_id: int


@dataclass(frozen=True, kw_only=True)
class CustomerCreated(CustomerEvent):
    """A customer was created."""

    type = "customer.created"


@dataclass(frozen=True, kw_only=True)
class CustomerChanged(CustomerEvent):
    """A customer's master data changed (fields, status, contacts or addresses)."""

    type = "customer.changed"
    changed_fields: list[str]


@dataclass(frozen=True, kw_only=True)
class BillingDataChanged(CustomerEvent):
    """Data an invoice or a payment depends on changed: legal name, billing address or contact, bank account."""

    type = "customer.billing_data_changed"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class CreditHoldPlaced(CustomerEvent):
    """A customer was put on credit hold: new orders wait for release."""

    type = "customer.credit_hold_placed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class CreditHoldReleased(CustomerEvent):
    """A customer's credit hold was released."""

    type = "customer.credit_hold_released"


@dataclass(frozen=True, kw_only=True)
class ChangeRequestSubmitted(CustomerEvent):
    """A four-eyes change request (credit limit, bank details) awaits a second person's decision."""

    type = "customer.change_request_submitted"
    change_request_id: int
    kind: str


@dataclass(frozen=True, kw_only=True)
class ChangeRequestDecided(CustomerEvent):
    """A change request was approved (and applied) or rejected."""

    type = "customer.change_request_decided"
    change_request_id: int
    kind: str
    status: Literal["approved", "rejected"]


@dataclass(frozen=True, kw_only=True)
class PortalInvitationSent(CustomerEvent):
    """A portal invitation's one-time link was sent (or resent: only the latest link is live)."""

    type = "customer.portal_invitation_sent"
    invitation_id: int
    sent_count: int


@dataclass(frozen=True, kw_only=True)
class CustomerTagged(CustomerEvent):
    """A tag was added to a customer (by staff or by an automation rule)."""

    type = "customer.tagged"
    tag: str
