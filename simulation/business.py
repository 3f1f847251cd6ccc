"""The business run day by day through the services, as if live, with the dates moved forward.

Every step is what a person or a partner does on that day, passed its date where the service takes
one: customers order (through the sales rep, the partner's web shop over the API, or the portal: see
`simulation.channels`; some over their credit, held until credit control releases or cancels them),
stock (bought for the business's size: `simulation.purchasing`) runs short and the reorder arrives
days later, the warehouse ships what is reserved and each shipment is invoiced, goods arrive, some
are disputed and the disputes resolved, portal users write to the service desk and an agent answers,
customers answer the surveys their deliveries and solved tickets bring, customers pay by their profile
(`simulation.payers`), the bank sends each day's statement as a CAMT.053 file with the remittance as
payers write it, which is imported and reconciled, and a clerk works the queue; the weekly dunning run
goes out on Mondays. At the end of each day the workers drain the outbox and every invariant is
checked (`simulation.checks`): a broken one stops the run, naming the day.

The clock is moved forward: while a simulated day runs, `django.utils.timezone.now` (and with it
`localdate`) answers that day's time, so what the services stamp or date with "now" or "today" (an
allocation's posting, a dispute's opening, an event's creation) falls on the simulated day, as the
dates passed explicitly do. Only what the database stamps with its own clock (the audit history's
rows) keeps the real time.
"""

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import mail
from django.db.models import Q
from django.test.utils import override_settings
from django.utils import timezone

from customers import services as customers
from customers.models import Customer, CustomerStatus
from inventory import services as inventory
from inventory.models import ReorderPoint, StockLevel
from invoicing import services as invoicing
from invoicing.models import Invoice
from orders import services as orders
from orders.models import Order, OrderStatus, Shipment
from otc.money import quantize
from payments.cash_application import services as reconciliation
from payments.cash_application.statement_import import import_bank_statement
from payments.collections import services as collections
from payments.models import Allocation, BankStatementLine, CompanyBankAccount, StatementFormat
from payments.money import services as payments
from service import services as service
from service.models import (
    Dispute,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    MessageKind,
    Survey,
    SurveyTrigger,
    Ticket,
    TicketCategory,
    TicketStatus,
)
from simulation.channels import Channels
from simulation.checks import day_end_problems
from simulation.payers import PROFILES, PayerProfile, Paying, remittance
from simulation.purchasing import size_purchasing
from workflows import services as outbox
from workflows.demo_history import camt053
from workflows.demo_setup import reference_data
from workflows.handlers import HANDLERS
from workflows.models import Delivery, DeliveryStatus, EventStatus, OutboxEvent

ORDER_CHANCE = 0.12  # a customer orders on this share of business days
RESTOCK_DAYS = 4  # from the reorder to the goods on the shelf
DELIVERY_DAYS = 2  # on the road
DISPUTE_CHANCE = 0.03  # of delivered invoices
DISPUTE_DAYS = 10  # until a dispute is resolved
HOLD_DAYS = 10  # an order held this long, its customer still overdue, is cancelled
OVERDUE_TOLERATED = 7  # days past due credit control lets pass when releasing a held order
BANK_FEES = Decimal("4.90")
OPENING_BALANCE = Decimal("100000.00")
WORKER_ROUNDS = 10  # drain passes per day: events may publish more events
PORTAL_SHARE = 0.5  # of customers, whose buyers use the portal
ORDERS_IN_PORTAL = 0.6  # of a portal customer's orders; the rest come from the sales rep
ORDERS_THROUGH_API = 0.35  # of the other customers' orders, from the partner's web shop
TICKET_CHANCE = 0.05  # of deliveries to portal customers, the buyer asks the service desk about
ANSWER_DAYS = 1  # business days until the agent answers a ticket
SURVEY_ANSWERED = 0.4  # of surveys, answered the business day after they are sent
PLACES = [
    ("DE", "de", "Hamburg", "20457"),
    ("DE", "de", "Köln", "50667"),
    ("AT", "de", "Wien", "1010"),
    ("FR", "fr", "Lyon", "69002"),
    ("NL", "nl", "Utrecht", "3511"),
    ("ES", "es", "Sevilla", "41001"),
]
NAMES = ["Nord", "Süd", "Alpen", "Rhein", "Hansa", "Delta", "Atlas", "Orion", "Linde", "Falke", "Kiefer", "Brücke"]
TRADES = ["Metall", "Bau", "Handel", "Technik", "Logistik", "Werkzeug", "Sanitär", "Anlagen", "Service", "Versand"]
FORMS = ["GmbH", "AG", "KG", "SARL", "B.V.", "S.L."]


class InvariantBroken(Exception):
    """A simulated day ended with the books, stock, numbering or outbox inconsistent."""


@dataclass
class SimCustomer:
    customer: Customer
    profile: PayerProfile
    iban: str  # the account they pay from; on file with us when `iban_on_file`
    iban_on_file: bool


@dataclass
class Transfer:
    """A payment a customer will send on a day: these amounts for these invoices, in one transfer."""

    payer: SimCustomer
    invoices: list[Invoice]
    amounts: list[Decimal]


@dataclass
class Tally:
    orders: int = 0
    orders_held: int = 0
    holds_released: int = 0
    holds_cancelled: int = 0
    orders_shipped: int = 0
    shipped_within_two_days: int = 0
    shipments: int = 0
    invoices: int = 0
    stock_receipts: int = 0
    bank_lines: int = 0
    applied_automatically: int = 0
    applied_by_clerk: int = 0
    applied_wrongly: int = 0
    disputes_opened: int = 0
    disputes_resolved: int = 0
    orders_by_door: Counter = field(default_factory=Counter)
    tickets_opened: int = 0
    tickets_solved: int = 0
    surveys_sent: int = 0
    csat_scores: list[int] = field(default_factory=list)
    emails: int = 0
    stage_seconds: Counter = field(default_factory=Counter)
    stage_calls: Counter = field(default_factory=Counter)
    slowest: list[tuple[float, str, date]] = field(default_factory=list)


class Simulation:
    def __init__(
        self,
        *,
        customers: int,
        days: int,
        seed: int,
        end: date | None = None,
        progress: Callable[[str], Any] = lambda text: None,
    ):
        self.customer_count, self.days = customers, days
        self.end = end or timezone.localdate() - timedelta(days=1)
        self.start = self.end - timedelta(days=days - 1)
        self.random = random.Random(seed)  # noqa: S311 - a repeatable simulation, not a secret
        self.progress = progress
        self.tally = Tally()
        self.transfers: dict[date, list[Transfer]] = defaultdict(list)
        self.restocks: dict[date, list[ReorderPoint]] = defaultdict(list)
        self.deliveries: dict[date, list[tuple[Shipment, Invoice]]] = defaultdict(list)
        self.resolutions: dict[date, list[Dispute]] = defaultdict(list)
        self.answers: dict[date, list[Ticket]] = defaultdict(list)
        self.disputed_shipments: set[int] = set()
        self.surveys_read_until: datetime | None = None  # surveys sent before this were read already
        self.balance = OPENING_BALANCE

    def run(self) -> Tally:
        # The simulation's workers take each day's events at its end (not the broker, as they commit),
        # and its customers' mail stays in memory: nothing leaves the machine. Requests come from the
        # test client's host; a simulated day passes in seconds, so the API's per-minute limits (real
        # minutes) would throttle what is a day's traffic.
        with override_settings(
            OUTBOX_ENQUEUE_ON_COMMIT=False,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
            OTC_API_RATE_PER_KEY="1000000/min",
            OTC_API_RATE_PER_ADDRESS="1000000/min",
        ):
            return self._run()

    def _run(self) -> Tally:
        with _clock_on(self.start):
            staff, products = reference_data()
            self.sales_rep, self.finance = staff["sales@demo.otc"], staff["finance@demo.otc"]
            self.approver, self.agent = staff["approver@demo.otc"], staff["service@demo.otc"]
            self.stocked = [product for product in products if product.is_stocked]
            size_purchasing(customers=self.customer_count, actor=self.finance)
            self.company_iban = CompanyBankAccount.objects.get(currency="EUR", is_active=True).iban
            self.channels = Channels(actor=self.finance)
            self.payers = [self._customer(index) for index in range(self.customer_count)]
        self.by_customer = {payer.customer.pk: payer for payer in self.payers}
        for offset in range(self.days):
            day = self.start + timedelta(days=offset)
            with _clock_on(day):
                self._day(day)
                problems = day_end_problems()
            if problems:
                raise InvariantBroken(f"{day}: " + "; ".join(problems))
            self.progress(f"{day}: {self.tally.invoices} invoices, {self.tally.bank_lines} bank lines, all checks hold")
        return self.tally

    # --- A day -----------------------------------------------------------------------------------------

    def _day(self, day: date) -> None:
        if day.weekday() < 5:
            self._stage("receive stock", day, self._receive_stock)
            self._stage("order entry", day, self._take_orders)
            self._stage("credit control", day, self._review_holds)
            self._stage("shipping and invoicing", day, self._ship)
            self._stage("delivery and disputes", day, self._deliver)
            self._stage("disputes resolved", day, self._resolve_disputes)
            self._stage("service desk", day, self._answer_tickets)
            self._stage("surveys answered", day, self._answer_surveys)
            self._stage("bank statement and cash application", day, self._bank_statement)
            if day.weekday() == 0:
                self._stage("dunning run", day, self._dunning)
            self._stage("reorder", day, self._reorder)
        self._stage("workers", day, self._drain_outbox)

    def _stage(self, name: str, day: date, step: Callable[[date], None]) -> None:
        started = time.perf_counter()
        step(day)
        seconds = time.perf_counter() - started
        self.tally.stage_seconds[name] += seconds
        self.tally.stage_calls[name] += 1
        self.tally.slowest = sorted([*self.tally.slowest, (seconds, name, day)], reverse=True)[:5]

    # --- Customers ----------------------------------------------------------------------------------------

    def _customer(self, index: int) -> SimCustomer:
        country, language, city, postal_code = self.random.choice(PLACES)
        name = f"{self.random.choice(NAMES)} {self.random.choice(TRADES)} {index + 1} {self.random.choice(FORMS)}"
        customer = customers.create_customer(
            actor=self.finance,
            legal_name=name,
            country=country,
            language=language,
            sales_rep=self.sales_rep,
            payment_terms_days=self.random.choice((14, 30, 30, 45)),
            confirm_duplicate=True,
            contacts=[
                {"name": f"Accounts {index + 1}", "email": f"ap{index + 1}@sim.example", "roles": ["billing"]},
                {"name": f"Buyer {index + 1}", "email": f"buy{index + 1}@sim.example", "roles": ["purchasing"]},
            ],
            addresses=[
                {"kind": kind, "line1": f"{index + 1} Harbour Road", "postal_code": postal_code, "city": city}
                | {"country": country}
                for kind in ("billing", "shipping")
            ],
            preferences={"invoicing_schedule": "per_shipment", "invoice_delivery": "portal_only"},
        )
        limit = customers.request_credit_limit_change(
            customer=customer,
            actor=self.finance,
            credit_limit=str(self.random.choice((3000, 8000, 15000, 40000))),
            reason="Opening limit from credit check",
        )
        customers.approve_change_request(change_request=limit, actor=self.approver, note="Credit report fine")
        iban = _german_iban(index + 1)
        on_file = self.random.random() < 0.6
        if on_file:
            request = customers.request_bank_account(
                customer=customer, actor=self.finance, holder_name=name, iban=iban, reason="From the first payment"
            )
            customers.approve_change_request(change_request=request, actor=self.approver)
        if self.random.random() < PORTAL_SHARE:
            self.channels.open_portal(customer, email=f"buy{index + 1}@sim.example")
        profile = self.random.choices(PROFILES, weights=[profile.weight for profile in PROFILES])[0]
        return SimCustomer(customer, profile, iban, on_file)

    # --- Orders, stock and shipping -----------------------------------------------------------------------

    def _take_orders(self, day: date) -> None:
        for payer in self.payers:
            if self.random.random() >= ORDER_CHANCE:
                continue
            chosen = self.random.sample(self.stocked, self.random.randint(1, 3))
            lines = [(product, Decimal(self.random.randint(1, 12))) for product in chosen]
            po_number = f"PO-{self.tally.orders + 1:06d}-{self.random.randint(100, 999)}"
            door = self._door(payer.customer)
            if door == "portal":
                order = self.channels.order_in_portal(payer.customer, lines, po_number)
            elif door == "api":
                order = self.channels.order_through_api(payer.customer, lines, po_number)
            else:
                order = orders.create_order(
                    actor=self.sales_rep,
                    customer=payer.customer,
                    lines=[orders.LineInput(product, quantity) for product, quantity in lines],
                    po_number=po_number,
                    order_date=day,
                )
                order = orders.confirm_order(order=order, actor=self.sales_rep)
            self.tally.orders += 1
            self.tally.orders_by_door[door] += 1
            self.tally.orders_held += order.status == OrderStatus.ON_CREDIT_HOLD

    def _door(self, customer: Customer) -> str:
        if customer.pk in self.channels.portal:
            return "portal" if self.random.random() < ORDERS_IN_PORTAL else "sales rep"
        return "api" if self.random.random() < ORDERS_THROUGH_API else "sales rep"

    def _review_holds(self, day: date) -> None:
        """Credit control: lift a customer's hold and release their held orders once they owe nothing
        long overdue; cancel an order held `HOLD_DAYS` while they still do."""
        tolerated = day - timedelta(days=OVERDUE_TOLERATED)
        overdue = set(
            Invoice.objects.filter(open_amount__gt=0, due_date__lt=tolerated).values_list("customer_id", flat=True)
        )
        for customer in Customer.objects.filter(status=CustomerStatus.ON_HOLD).exclude(pk__in=overdue):
            customers.release_credit_hold(customer=customer, actor=self.finance, reason="Overdue invoices paid")
        for order in Order.objects.filter(status=OrderStatus.ON_CREDIT_HOLD).select_related("customer"):
            if order.customer_id not in overdue and order.customer.status == CustomerStatus.ACTIVE:
                orders.release_credit_hold(order=order, actor=self.finance, reason="Paid up: within terms again")
                self.tally.holds_released += 1
            elif order.order_date <= day - timedelta(days=HOLD_DAYS):
                orders.cancel_order(order=order, actor=self.finance, reason="Customer still overdue")
                self.tally.holds_cancelled += 1

    def _ship(self, day: date) -> None:
        ready = Order.objects.filter(
            status__in=[OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED],
            order_date__lt=day,
            lines__quantity_reserved__gt=0,
        ).distinct()
        for order in ready.order_by("pk"):
            first = not order.shipments.exists()
            shipment = orders.dispatch_shipment(
                order=order,
                actor=self.finance,
                carrier="DHL",
                tracking_number=f"SIM{order.pk:08d}{order.shipments.count() + 1:02d}",
                dispatched_at=_moment(day),
            )
            invoice = invoicing.invoice_shipments(shipments=[shipment], actor=self.finance, issue_date=day)
            self.tally.shipments += 1
            self.tally.invoices += 1
            if first:
                self.tally.orders_shipped += 1
                self.tally.shipped_within_two_days += (day - order.order_date).days <= 2
            self.deliveries[_business_days_after(day, DELIVERY_DAYS)].append((shipment, invoice))
            self._plan_payment(invoice, self.by_customer[order.customer_id])

    def _deliver(self, day: date) -> None:
        for shipment, invoice in self.deliveries.pop(day, []):
            orders.mark_delivered(shipment=shipment, actor=self.finance, delivered_at=_moment(day))
            if self.random.random() < DISPUTE_CHANCE:
                dispute = service.open_dispute(
                    invoice=invoice,
                    reason=self.random.choice([DisputeReason.DAMAGED, DisputeReason.MISSING, DisputeReason.PRICE]),
                    description="Reported by the customer on delivery.",
                    actor=self.agent,
                )
                self.resolutions[_business_days_after(day, DISPUTE_DAYS)].append(dispute)
                self.disputed_shipments.add(shipment.pk)
                self.tally.disputes_opened += 1
            elif shipment.order.customer_id in self.channels.portal and self.random.random() < TICKET_CHANCE:
                ticket = self.channels.write_to_service_desk(
                    shipment.order.customer,
                    category=TicketCategory.DELIVERY,
                    subject=f"Delivery note for order {shipment.order.number}",
                    body="Please send the signed delivery note: our goods receipt needs it.",
                    order=shipment.order,
                )
                self.answers[_business_days_after(day, ANSWER_DAYS)].append(ticket)
                self.tally.tickets_opened += 1

    def _resolve_disputes(self, day: date) -> None:
        for dispute in self.resolutions.pop(day, []):
            service.resolve_dispute(
                dispute=dispute,
                resolution=self.random.choice([DisputeResolution.REJECTED, DisputeResolution.WITHDRAWN]),
                actor=self.agent,
                note="Checked with the warehouse: delivered as ordered.",
            )
            self.tally.disputes_resolved += 1

    def _answer_tickets(self, day: date) -> None:
        """The agent answers and, the question being answered, marks the ticket solved."""
        for ticket in self.answers.pop(day, []):
            service.add_message(
                ticket=Ticket.objects.get(pk=ticket.pk),
                kind=MessageKind.REPLY,
                body="The signed delivery note is attached to the order in the portal.",
                actor=self.agent,
                status=TicketStatus.SOLVED,
            )
            self.tally.tickets_solved += 1

    def _answer_surveys(self, day: date) -> None:
        """Surveys sent before today are answered by some, once: a disputed delivery scores low."""
        today = _moment(day).replace(hour=0)
        sent = Survey.objects.filter(answered_at=None, sent_at__lt=today)
        if self.surveys_read_until is not None:
            sent = sent.filter(sent_at__gte=self.surveys_read_until)
        self.surveys_read_until = today
        for survey in sent.order_by("pk"):
            self.tally.surveys_sent += 1
            if self.random.random() >= SURVEY_ANSWERED:
                continue
            if survey.trigger == SurveyTrigger.SHIPMENT_DELIVERED and survey.shipment_id in self.disputed_shipments:
                csat, comment = self.random.choice((1, 2, 2, 3)), "Goods arrived damaged or short."
            else:
                csat, comment = self.random.choices((5, 4, 3, 2), weights=(55, 32, 9, 4))[0], ""
            self.channels.answer_survey(service.survey_token(survey), csat=csat, comment=comment)
            self.tally.csat_scores.append(csat)

    def _reorder(self, day: date) -> None:
        pending = {point.pk for points in self.restocks.values() for point in points}
        levels = {
            (level.product_id, level.warehouse_id): level.available
            for level in StockLevel.objects.filter(product__in=self.stocked)
        }
        for point in ReorderPoint.objects.filter(product__in=self.stocked).select_related("product", "warehouse"):
            available = levels.get((point.product_id, point.warehouse_id), Decimal(0))
            if point.pk not in pending and available <= point.minimum:
                self.restocks[_business_days_after(day, RESTOCK_DAYS)].append(point)

    def _receive_stock(self, day: date) -> None:
        for point in self.restocks.pop(day, []):
            inventory.receive_stock(
                product=point.product,
                warehouse=point.warehouse,
                quantity=point.reorder_quantity,
                actor=self.finance,
                reference=f"Purchase order of {day - timedelta(days=RESTOCK_DAYS)}",
            )
            self.tally.stock_receipts += 1

    # --- Paying ---------------------------------------------------------------------------------------------

    def _plan_payment(self, invoice: Invoice, payer: SimCustomer) -> None:
        profile = payer.profile
        if profile.paying == Paying.NEVER:
            return
        pay_on = invoice.due_date + timedelta(days=self.random.randint(*profile.days_late))
        if profile.paying == Paying.IN_TWO_PARTS:
            half = quantize(invoice.gross_total / 2, invoice.currency)
            self._transfer(pay_on, Transfer(payer, [invoice], [half]))
            self._transfer(pay_on + timedelta(days=14), Transfer(payer, [invoice], [invoice.gross_total - half]))
            return
        if profile.paying == Paying.MONTHLY_TOGETHER:
            month = pay_on if pay_on.day <= 25 else pay_on.replace(day=28) + timedelta(days=4)
            pay_on = month.replace(day=25)
            on_day = self.transfers[_business_day_on_or_after(max(pay_on, self.start))]
            together = next((transfer for transfer in on_day if transfer.payer is payer), None)
            if together is not None:
                together.invoices.append(invoice)
                together.amounts.append(invoice.gross_total)
                return
        self._transfer(pay_on, Transfer(payer, [invoice], [invoice.gross_total]))

    def _transfer(self, on: date, transfer: Transfer) -> None:
        self.transfers[_business_day_on_or_after(max(on, self.start))].append(transfer)

    def _bank_statement(self, day: date) -> None:
        """Today's credits as the bank reports them, imported and reconciled; then the clerk's queue."""
        due = [transfer for transfer in self.transfers.pop(day, []) if self._still_owed(transfer, day)]
        if not due:
            return
        credits = [
            (
                _as_bank_prints(transfer.payer.customer.legal_name),
                transfer.payer.iban,
                remittance([invoice.number for invoice in transfer.invoices], self.random),
                sum(transfer.amounts, Decimal(0)),
            )
            for transfer in due
        ]
        content = camt053(iban=self.company_iban, booked=day, credits=credits, fees=BANK_FEES, opening=self.balance)
        self.balance += sum((amount for *_rest, amount in credits), Decimal(0)) - BANK_FEES
        [statement] = import_bank_statement(
            content=content, filename=f"camt053-{day:%Y%m%d}.xml", format=StatementFormat.CAMT053, actor=self.finance
        )
        result = reconciliation.reconcile_statement(statement=statement, actor=self.finance)
        truth = {f"DEMO-{day:%Y-%m-%d}-{index}": transfer for index, transfer in enumerate(due, start=1)}
        self.tally.bank_lines += len(due)
        for line in result.applied:
            if self._paid_as_meant(line, truth[line.end_to_end_id]):
                self.tally.applied_automatically += 1
            else:
                self.tally.applied_wrongly += 1
                reconciliation.undo_line(line=line, actor=self.finance, reason="Applied to the wrong invoice")
                self._clerk_applies(BankStatementLine.objects.get(pk=line.pk), truth[line.end_to_end_id], [])
        for line in result.queued:
            self._clerk_applies(line, truth[line.end_to_end_id], result.proposals.get(line.pk, []))

    def _still_owed(self, transfer: Transfer, day: date) -> bool:
        """A customer holds back payment of a disputed invoice (paying a week after it is resolved) and
        never pays more than is open."""
        fresh = {invoice.pk: invoice for invoice in Invoice.objects.filter(pk__in=[i.pk for i in transfer.invoices])}
        disputed = set(
            Dispute.objects.filter(invoice__in=fresh, status=DisputeStatus.OPEN).values_list("invoice_id", flat=True)
        )
        if disputed:
            self._transfer(day + timedelta(days=7), transfer)
            return False
        kept = [(fresh[i.pk], amount) for i, amount in zip(transfer.invoices, transfer.amounts, strict=True)]
        kept = [(invoice, min(amount, invoice.open_amount)) for invoice, amount in kept if invoice.open_amount > 0]
        transfer.invoices, transfer.amounts = [invoice for invoice, _ in kept], [amount for _, amount in kept]
        return bool(kept)

    def _paid_as_meant(self, line: BankStatementLine, transfer: Transfer) -> bool:
        allocated = set(Allocation.objects.filter(payment_id=line.payment_id).values_list("invoice_id", flat=True))
        return allocated == {invoice.pk for invoice in transfer.invoices}

    def _clerk_applies(self, line: BankStatementLine, transfer: Transfer, proposals: list) -> None:
        """The clerk takes the proposal that is right, else applies the line by hand as the payer meant."""
        meant = {invoice.pk for invoice in transfer.invoices}
        right = next((p for p in proposals if set(p.invoice_ids) == meant), None)
        if right is not None:
            reconciliation.accept_proposal(line=line, proposal=right, actor=self.finance)
        else:
            applications = [
                payments.Application(invoice, amount)
                for invoice, amount in zip(transfer.invoices, transfer.amounts, strict=True)
            ]
            reconciliation.apply_line(
                line=line, customer=transfer.payer.customer, applications=applications, actor=self.finance
            )
        self.tally.applied_by_clerk += 1

    def _dunning(self, day: date) -> None:
        collections.run_dunning(run_date=day, actor=self.finance)

    # --- Workers ----------------------------------------------------------------------------------------------

    def _drain_outbox(self, day: date) -> None:
        """What the workers do between requests: every pending event through its handlers, every email out."""
        for _round in range(WORKER_ROUNDS):
            events = list(
                OutboxEvent.objects.filter(status=EventStatus.PENDING).order_by("pk").values_list("pk", flat=True)
            )
            unsent = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
            deliveries = list(Delivery.objects.filter(unsent).order_by("pk").values_list("pk", flat=True))
            if not events and not deliveries:
                break
            for event_id in events:
                outbox.dispatch_event(event_id=event_id, handlers=HANDLERS)
            for delivery_id in deliveries:
                outbox.deliver(delivery_id=delivery_id)
        # The in-memory mailbox is counted and emptied, or a long run would keep every PDF sent.
        sent = getattr(mail, "outbox", [])
        self.tally.emails += len(sent)
        sent.clear()


@contextmanager
def _clock_on(day: date) -> Iterator[None]:
    """`timezone.now()` is `day` at the start of business plus the real time elapsed since."""
    real_now, started = timezone.now, time.monotonic()
    opening = _moment(day) - timedelta(hours=2)
    timezone.now = lambda: opening + timedelta(seconds=time.monotonic() - started)
    try:
        yield
    finally:
        timezone.now = real_now


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()) + timedelta(hours=10))


def _business_day_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _business_days_after(day: date, count: int) -> date:
    for _ in range(count):
        day = _business_day_on_or_after(day + timedelta(days=1))
    return day


def _as_bank_prints(name: str) -> str:
    """Banks pass the payer's name on in capitals and cut at 35 characters, as often as not."""
    return name.upper()[:35] if len(name) % 2 else name


def _german_iban(number: int) -> str:
    bban = f"37040044{number:010d}"
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"
