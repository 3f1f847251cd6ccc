"""What a rule's conditions can test: the event's payload fields (read from its JSON Schema) and the
subject fields resolved for the event (its customer, order, invoice or ticket, and when it happened).
Each field is typed, so a value compared with it is checked on save and the comparison is exact."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

from django.utils import timezone

from customers.models import Customer, CustomerStatus, RiskClass
from invoicing.models import Invoice
from orders.models import Order
from otc.countries import COUNTRY_CHOICES
from otc.events import catalogue
from payments.models import InvoiceDunningState
from service.models import Ticket, TicketCategory, TicketChannel, TicketPriority

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class FieldType:
    INTEGER = "integer"
    DECIMAL = "decimal"
    STRING = "string"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    BOOLEAN = "boolean"
    LIST = "list"  # a list of strings


ORDERED = {FieldType.INTEGER, FieldType.DECIMAL, FieldType.DATE, FieldType.DATETIME, FieldType.TIME}


@dataclass(frozen=True)
class EventRecord:
    """The part of an outbox event a rule reads: type, payload and when it was recorded."""

    event_type: str
    payload: dict[str, Any]
    created_at: datetime


class Subject:
    """The event and the records it is about, each loaded once, on first use, for all rules."""

    def __init__(self, event: EventRecord) -> None:
        self.event = event
        self.payload = event.payload

    @classmethod
    def of(cls, event: Any) -> "Subject":
        """The subject of an outbox event (anything with event_type, payload and created_at)."""
        return cls(EventRecord(event.event_type, event.payload, event.created_at))

    @cached_property
    def customer_id(self) -> int | None:
        """The customer the event is about, without loading it when the payload names it."""
        if "customer_id" in self.payload:
            return self.payload["customer_id"]
        return self.ticket.customer_id if self.ticket is not None else None

    @cached_property
    def ticket(self) -> Ticket | None:
        ticket_id = self.payload.get("ticket_id")
        return Ticket.objects.filter(pk=ticket_id).first() if ticket_id else None

    @cached_property
    def customer(self) -> Customer | None:
        if self.customer_id is None:
            return None
        return (
            Customer.objects.select_related("group", "credit", "behaviour", "sales_rep")
            .filter(pk=self.customer_id)
            .first()
        )

    @cached_property
    def customer_tags(self) -> list[str]:
        return list(self.customer.tags.values_list("name", flat=True)) if self.customer else []

    @cached_property
    def order(self) -> Order | None:
        order_id = self.payload.get("order_id")
        if not order_id:
            return None
        return Order.objects.prefetch_related("lines__product__tax_category").filter(pk=order_id).first()

    @cached_property
    def invoice(self) -> Invoice | None:
        invoice_id = self.payload.get("invoice_id")
        return Invoice.objects.filter(pk=invoice_id).first() if invoice_id else None

    @cached_property
    def dunning_level(self) -> int:
        """The invoice's level, or the highest level among the customer's open invoices."""
        if self.invoice is not None:
            state = InvoiceDunningState.objects.filter(invoice=self.invoice).first()
            return state.level if state else 0
        if self.customer is None:
            return 0
        levels = InvoiceDunningState.objects.filter(
            invoice__customer=self.customer, invoice__open_amount__gt=0
        ).values_list("level", flat=True)
        return max(levels, default=0)

    @cached_property
    def local_time(self) -> datetime:
        return timezone.localtime(self.event.created_at)


def _behaviour(customer: Customer | None) -> Any:
    return getattr(customer, "behaviour", None) if customer is not None else None


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    choices: tuple[str, ...] = ()
    nullable: bool = False
    resolve: Callable[[Subject], Any] | None = None

    def value(self, subject: Subject) -> Any:
        if self.resolve is not None:
            return self.resolve(subject)
        return parse_value(self.type, subject.payload.get(self.name.removeprefix("event.")))


def parse_value(field_type: str, raw: Any) -> Any:
    """A payload value (JSON) as the field's Python type."""
    if raw is None:
        return None
    if field_type == FieldType.DECIMAL:
        return Decimal(str(raw))
    if field_type == FieldType.DATE:
        return date.fromisoformat(raw)
    if field_type == FieldType.DATETIME:
        return datetime.fromisoformat(raw)
    return raw


def _customer_field(name: str, type_: str, description: str, get: Callable[[Customer], Any], **options) -> Field:
    return Field(
        name, type_, description, resolve=lambda s: get(s.customer) if s.customer is not None else None, **options
    )


CUSTOMER_FIELDS = [
    _customer_field(
        "customer.country",
        FieldType.STRING,
        "Country code",
        lambda c: c.country,
        choices=tuple(c for c, _ in COUNTRY_CHOICES),
    ),
    _customer_field(
        "customer.group", FieldType.STRING, "Customer group code", lambda c: c.group.code if c.group else None
    ),
    _customer_field("customer.currency", FieldType.STRING, "Default currency", lambda c: c.default_currency),
    _customer_field(
        "customer.status", FieldType.STRING, "Status", lambda c: c.status, choices=tuple(CustomerStatus.values)
    ),
    _customer_field(
        "customer.risk_class",
        FieldType.STRING,
        "Credit risk class",
        lambda c: getattr(getattr(c, "credit", None), "risk_class", None),
        choices=tuple(RiskClass.values),
    ),
    _customer_field(
        "customer.credit_limit",
        FieldType.DECIMAL,
        "Credit limit",
        lambda c: getattr(getattr(c, "credit", None), "credit_limit", None),
    ),
    _customer_field(
        "customer.days_since_created",
        FieldType.INTEGER,
        "Days since the customer was created (new customers: lt 90)",
        lambda c: (timezone.now() - c.created_at).days,
    ),
    _customer_field("customer.language", FieldType.STRING, "Language", lambda c: c.language),
    _customer_field(
        "customer.segment",
        FieldType.STRING,
        "RFM segment, as analytics last scored it",
        lambda c: getattr(_behaviour(c), "segment", None) or None,
    ),
    _customer_field(
        "customer.predicted_days_late",
        FieldType.DECIMAL,
        "Payment behaviour score: days late the next payment is predicted to be",
        lambda c: getattr(_behaviour(c), "predicted_days_late", None),
    ),
    Field("customer.tags", FieldType.LIST, "The customer's tags", resolve=lambda s: s.customer_tags),
    Field(
        "customer.dunning_level",
        FieldType.INTEGER,
        "Dunning level (the invoice's, else the highest of the customer's open invoices; 0 = none)",
        resolve=lambda s: s.dunning_level,
    ),
]


def _order_values(subject: Subject, get: Callable) -> list[str]:
    return sorted({get(line) for line in subject.order.lines.all()}) if subject.order else []


ORDER_FIELDS = [
    Field(
        "order.skus",
        FieldType.LIST,
        "Products (SKUs) on the order's lines",
        resolve=lambda s: _order_values(s, lambda line: line.product.sku),
    ),
    Field(
        "order.product_categories",
        FieldType.LIST,
        "Product categories (tax category codes) on the order's lines",
        resolve=lambda s: _order_values(s, lambda line: line.product.tax_category.code),
    ),
    Field(
        "order.status",
        FieldType.STRING,
        "The order's status now",
        resolve=lambda s: s.order.status if s.order else None,
    ),
]

INVOICE_FIELDS = [
    Field(
        "invoice.open_amount",
        FieldType.DECIMAL,
        "Still to be paid on the invoice now (re-read at each re-check)",
        resolve=lambda s: s.invoice.open_amount if s.invoice else None,
    ),
    Field(
        "invoice.status",
        FieldType.STRING,
        "The invoice's status now",
        resolve=lambda s: s.invoice.status if s.invoice else None,
    ),
    Field(
        "invoice.days_overdue",
        FieldType.INTEGER,
        "Days past the due date (0 when not yet due)",
        resolve=lambda s: (
            max((timezone.localdate() - s.invoice.due_date).days, 0) if s.invoice and s.invoice.due_date else None
        ),
    ),
]

TICKET_FIELDS = [
    Field(
        "ticket.category",
        FieldType.STRING,
        "Ticket category",
        choices=tuple(TicketCategory.values),
        resolve=lambda s: s.ticket.category if s.ticket else None,
    ),
    Field(
        "ticket.priority",
        FieldType.STRING,
        "Ticket priority",
        choices=tuple(TicketPriority.values),
        resolve=lambda s: s.ticket.priority if s.ticket else None,
    ),
    Field(
        "ticket.channel",
        FieldType.STRING,
        "Channel the ticket came in by",
        choices=tuple(TicketChannel.values),
        resolve=lambda s: s.ticket.channel if s.ticket else None,
    ),
]

WHEN_FIELDS = [
    Field(
        "when.weekday",
        FieldType.STRING,
        "Weekday the event happened (local time)",
        choices=tuple(WEEKDAYS),
        resolve=lambda s: WEEKDAYS[s.local_time.weekday()],
    ),
    Field(
        "when.time",
        FieldType.TIME,
        'Time of day the event happened (local time, "HH:MM")',
        resolve=lambda s: s.local_time.time().replace(second=0, microsecond=0),
    ),
]


def _payload_field(name: str, schema: dict[str, Any]) -> Field | None:
    nullable = False
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        schema, nullable = options[0], True
    if "enum" in schema:
        return Field(f"event.{name}", FieldType.STRING, "Payload field", tuple(schema["enum"]), nullable)
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        return Field(f"event.{name}", FieldType.LIST, "Payload field (list)") if items.get("type") == "string" else None
    if kind == "string":
        field_type = {"date": FieldType.DATE, "date-time": FieldType.DATETIME}.get(schema.get("format", ""))
        if field_type is None:
            field_type = FieldType.DECIMAL if schema.get("pattern", "").startswith("^-?[0-9]+(") else FieldType.STRING
        return Field(f"event.{name}", field_type, "Payload field", nullable=nullable)
    simple = {"integer": FieldType.INTEGER, "boolean": FieldType.BOOLEAN}
    return Field(f"event.{name}", simple[kind], "Payload field", nullable=nullable) if kind in simple else None


@cache
def fields_for(event_type: str) -> dict[str, Field]:
    """Every field a rule on `event_type` may test, by name; empty for a type not in the catalogue."""
    event_class = catalogue().get(event_type)
    if event_class is None:
        return {}
    properties = event_class.schema()["properties"]
    found = [field for name, spec in properties.items() if (field := _payload_field(name, spec)) is not None]
    if "customer_id" in properties or "ticket_id" in properties:
        found += CUSTOMER_FIELDS
    if "order_id" in properties:
        found += ORDER_FIELDS
    if "invoice_id" in properties:
        found += INVOICE_FIELDS
    if "ticket_id" in properties:
        found += TICKET_FIELDS
    found += WHEN_FIELDS
    return {field.name: field for field in found}


def has_subject(event_type: str, kind: str) -> bool:
    """Whether events of the type name a `kind` ("customer", "invoice", "order", "ticket")."""
    return any(name.startswith(f"{kind}.") for name in fields_for(event_type))


def parse_time(value: str) -> time:
    return time.fromisoformat(value)
