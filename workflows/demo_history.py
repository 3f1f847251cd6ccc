"""A few months of demo history, replayed day by day through the services as it would have happened:
goods ordered, shipped and invoiced on past days (services invoiced by hand for customers outside the
euro area), payments received, the weekly dunning run, a promise to pay that was broken, and yesterday's
bank statement imported and reconciled, some of its lines left in the queue, and this morning's email
disputing an invoice (a ticket, and the dispute raised on it). Dates count back from
today, so whatever day the demo is loaded it shows an overdue invoice at every dunning level.

The choice of goods and quantities comes from a random generator with a fixed seed: every load is
the same history.
"""

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

from django.utils import timezone

from customers.models import Customer
from inventory.models import Product
from invoicing import services as invoicing
from invoicing.models import Invoice
from orders import services as orders
from orders.models import Order, OrderStatus
from otc.errors import Conflict
from otc.models import User
from otc.money import quantize
from payments.cash_application import services as reconciliation
from payments.cash_application.statement_import import import_bank_statement
from payments.collections import services as collections
from payments.models import CompanyBankAccount, PaymentMethod, PaymentSource, StatementFormat
from payments.money import services as payments
from service import services as service
from service.models import DisputeReason, TicketCategory, TicketChannel

SEED = 18
HISTORY_WEEKS = 16  # the first dunning run, counted back from today
HISTORY_SKUS = ["WID-100", "WID-200", "BRK-10", "SCR-M8", "VLV-22"]  # well stocked: history ships in full
SERVICE_RATE = Decimal("85.00")  # per hour, in the customer's currency


@dataclass(frozen=True)
class Sale:
    """One invoice of the past and what became of it. `due_days_ago` places it: it was issued its
    customer's payment terms earlier (goods shipped that day, from an order entered two days before),
    and it is overdue when positive. Customers outside the euro area buy installation hours, invoiced
    by hand, since the price lists are in euros."""

    customer: str
    due_days_ago: int
    paid_days_ago: int | None = None
    paid_share: Decimal = Decimal("1")
    delivered: bool = True


# With a dunning run every 7 days (levels at 7, 21 and 35 days after the due date, 14 days apart at
# least), an invoice due 14 days ago has had its reminder, one due 30 days ago its second notice, and
# one due 60 days ago the final demand, which put its customer on credit hold.
FINAL_DEMAND = Sale("Rheinland Logistik GmbH", due_days_ago=60)
SECOND_NOTICE = Sale("Alpenblick Maschinenbau AG", due_days_ago=30)
REMINDED = Sale("Nordwind Handel GmbH", due_days_ago=14)
DISPUTED = Sale("Van Dijk Bouw B.V.", due_days_ago=14)  # reminded, then disputed today
PROMISED = Sale("Wiener Kaffeehaus Bedarf GmbH", due_days_ago=20)  # promised for 10 days ago, not paid
UNDUNNED = Sale("Brasserie du Port SARL", due_days_ago=3, delivered=False)  # paid yesterday, unreferenced
PAID_YESTERDAY = Sale("Ferretería Sol S.L.", due_days_ago=-7)  # yesterday's statement quotes its number
PART_PAID_YESTERDAY = Sale("Alpenblick Maschinenbau AG", due_days_ago=-15)
SALES = [
    FINAL_DEMAND,
    SECOND_NOTICE,
    REMINDED,
    DISPUTED,
    PROMISED,
    UNDUNNED,
    PAID_YESTERDAY,
    PART_PAID_YESTERDAY,
    Sale("Alpenblick Maschinenbau AG", due_days_ago=70, paid_days_ago=72),
    Sale("Nordwind Handel GmbH", due_days_ago=76, paid_days_ago=80),
    Sale("Wiener Kaffeehaus Bedarf GmbH", due_days_ago=65, paid_days_ago=90),
    Sale("Brasserie du Port SARL", due_days_ago=81, paid_days_ago=66),  # paid after its reminder
    Sale("Thames Valley Supplies Ltd", due_days_ago=50, paid_days_ago=52),
    Sale("Pacific Trade LLC", due_days_ago=36, paid_days_ago=40),
    Sale("Zürcher Feinmechanik AG", due_days_ago=10, paid_days_ago=5, paid_share=Decimal("0.5")),
    Sale("Highland Outdoor Ltd", due_days_ago=-15, delivered=False),
]
PROMISE_TAKEN_DAYS_AGO, PROMISED_FOR_DAYS_AGO = 16, 10

# Company bank account statement lines: (payer, IBAN, remittance, what the amount is)
UNKNOWN_PAYER = ("Hans Meier", "DE02120300000000202051", "Rechnung Oktober Danke", Decimal("250.00"))
BANK_FEES = Decimal("12.90")
OPENING_BALANCE = Decimal("48250.00")

# Steps of a day, in the order they happen within it.
ORDER, SHIP, DELIVER, PAY, PROMISE, DUNNING = range(6)


class History:
    """The replay: every step is a service call on its day; the days are played in order, so document
    numbers follow their dates."""

    def __init__(self, *, staff: dict[str, User], today: date):
        self.sales_rep = staff["sales@demo.otc"]
        self.finance = staff["finance@demo.otc"]
        self.service_agent = staff["service@demo.otc"]
        self.today = today
        self.random = random.Random(SEED)  # noqa: S311 - a repeatable demo, not a secret
        self.products = {product.sku: product for product in Product.objects.filter(sku__in=HISTORY_SKUS)}
        self.service_hours = Product.objects.get(sku="SRV-INST")
        self.customers = {customer.legal_name: customer for customer in Customer.objects.all()}
        self.invoices: dict[Sale, Invoice] = {}
        self.steps: list[tuple[date, int, int, Callable[[], None]]] = []  # a heap: steps plan later steps
        self.sequence = itertools.count()

    def play(self) -> None:
        for sale in SALES:
            self._plan(sale)
        self._at(PROMISE_TAKEN_DAYS_AGO, PROMISE, self._promise)
        for week in range(HISTORY_WEEKS, 0, -1):
            self._at(7 * week, DUNNING, self._dunning_run(self._day(7 * week)))
        while self.steps:
            *_when, call = heapq.heappop(self.steps)
            call()
        self._bank_statement(self._day(1))
        self._dispute(self.invoices[DISPUTED])

    def _at(self, days_ago: int, step: int, call: Callable[[], None]) -> None:
        heapq.heappush(self.steps, (self._day(days_ago), step, next(self.sequence), call))

    def _plan(self, sale: Sale) -> None:
        customer = self.customers[sale.customer]
        invoiced = sale.due_days_ago + customer.payment_terms_days
        if customer.default_currency == "EUR":
            self._at(invoiced + 2, ORDER, lambda: self._order(sale, invoiced))
        else:
            self._at(invoiced, SHIP, lambda: self._hours(sale, invoiced))
        if sale.paid_days_ago is not None:
            self._at(sale.paid_days_ago, PAY, lambda: self._payment(sale))

    def _day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def _moment(self, days_ago: int) -> datetime:
        return timezone.make_aware(datetime.combine(self._day(days_ago), time(10)))

    def _order(self, sale: Sale, invoiced: int) -> None:
        customer = self.customers[sale.customer]
        skus = self.random.sample(HISTORY_SKUS, 3)
        order = orders.create_order(
            actor=self.sales_rep,
            customer=customer,
            lines=[orders.LineInput(self.products[sku], Decimal(self.random.randint(2, 12))) for sku in skus],
            po_number=f"PO-{self.random.randint(3000, 3999)}",
            order_date=self._day(invoiced + 2),
        )
        order = orders.confirm_order(order=order, actor=self.sales_rep)
        if order.status != OrderStatus.CONFIRMED:
            raise Conflict(f"Demo history: {order.number} was not confirmed ({order.hold_reason}).")
        self._at(invoiced, SHIP, lambda: self._ship(sale, order, invoiced))

    def _ship(self, sale: Sale, order: Order, invoiced: int) -> None:
        shipment = orders.dispatch_shipment(
            order=order,
            actor=self.finance,
            carrier="DHL",
            tracking_number=f"JJD01{order.pk:06d}",
            dispatched_at=self._moment(invoiced),
        )
        self.invoices[sale] = invoicing.invoice_shipments(
            shipments=[shipment], actor=self.finance, issue_date=self._day(invoiced)
        )
        if sale.delivered:
            delivered = invoiced - 2 if invoiced > 2 else invoiced  # two days on the road, none before today
            self._at(
                delivered,
                DELIVER,
                lambda: orders.mark_delivered(
                    shipment=shipment, actor=self.finance, delivered_at=self._moment(delivered)
                ),
            )

    def _hours(self, sale: Sale, invoiced: int) -> None:
        hours = invoicing.ManualLine(
            description="Installation and commissioning on site (hours)",
            quantity=Decimal(self.random.randint(4, 16)),
            unit_price=SERVICE_RATE,
            product=self.service_hours,
            tax_rate=Decimal("0"),
            tax_category="G",
            tax_note="Service to a customer outside the EU",
        )
        self.invoices[sale] = invoicing.create_manual_invoice(
            customer=self.customers[sale.customer],
            lines=[hours],
            actor=self.finance,
            issue_date=self._day(invoiced),
            po_number=f"PO-{self.random.randint(3000, 3999)}",
        )

    def _payment(self, sale: Sale) -> None:
        invoice = self.invoices[sale]
        amount = quantize(invoice.gross_total * sale.paid_share, invoice.currency)
        payment = payments.record_payment(
            customer=invoice.customer,
            amount=amount,
            currency=invoice.currency,
            method=PaymentMethod.BANK_TRANSFER,
            source=PaymentSource.STAFF,
            actor=self.finance,
            received_on=self._day(sale.paid_days_ago),
            reference=invoice.number,
            payer_name=invoice.customer.legal_name,
        )
        payments.allocate_payment(
            payment=payment, applications=[payments.Application(invoice, amount)], actor=self.finance
        )

    def _promise(self) -> None:
        invoice = self.invoices[PROMISED]
        collections.record_promise_to_pay(
            customer=invoice.customer,
            invoices=[invoice],
            promised_date=self._day(PROMISED_FOR_DAYS_AGO),
            amount=invoice.open_amount,
            actor=self.finance,
            note="On the phone: the money goes out with their next payment run.",
            recorded_on=self._day(PROMISE_TAKEN_DAYS_AGO),
        )

    def _dispute(self, invoice: Invoice) -> None:
        """This morning's email from the customer, answering the reminder: a ticket, and the dispute raised
        on it, which holds the invoice."""
        contact = invoice.customer.contacts.filter(roles__contains=["billing"]).first()
        ticket = service.open_ticket(
            customer=invoice.customer,
            contact=contact,
            sender_email=contact.email,
            subject=f"Damaged goods on invoice {invoice.number}",
            body="Two pallets of brackets arrived bent; photos attached. We will not pay for goods we cannot use.",
            channel=TicketChannel.EMAIL,
            category=TicketCategory.BILLING,
            links=[invoice],
            actor=self.service_agent,
        )
        service.open_dispute(
            invoice=invoice,
            reason=DisputeReason.DAMAGED,
            description="Two pallets of brackets arrived bent (photos on the ticket).",
            actor=self.service_agent,
            ticket=ticket,
        )

    def _dunning_run(self, run_date: date) -> Callable[[], None]:
        return lambda: collections.run_dunning(run_date=run_date, actor=self.finance)

    def _bank_statement(self, booked: date) -> None:
        """Yesterday's statement of the company's account, as the bank sends it (CAMT.053), imported and
        reconciled as a clerk would: the exact payment is applied, the rest waits in the queue."""
        paid, part_paid, unreferenced = (
            self.invoices[PAID_YESTERDAY],
            self.invoices[PART_PAID_YESTERDAY],
            self.invoices[UNDUNNED],
        )
        payer, iban, remittance, amount = UNKNOWN_PAYER
        credits = [
            (paid.customer.legal_name, "", paid.number, paid.open_amount),
            (part_paid.customer.legal_name, "", f"Teilzahlung {part_paid.number}", part_paid.open_amount / 2),
            (unreferenced.customer.legal_name, "", "", unreferenced.open_amount),
            (payer, iban, remittance, amount),
        ]
        account = CompanyBankAccount.objects.get(currency="EUR", is_active=True)
        content = camt053(iban=account.iban, booked=booked, credits=credits, fees=BANK_FEES, opening=OPENING_BALANCE)
        for statement in import_bank_statement(
            content=content, filename=f"camt053-{booked:%Y%m%d}.xml", format=StatementFormat.CAMT053, actor=self.finance
        ):
            reconciliation.reconcile_statement(statement=statement, actor=self.finance)


def camt053(
    *, iban: str, booked: date, credits: list[tuple[str, str, str, Decimal]], fees: Decimal, opening: Decimal
) -> bytes:
    """A one-day CAMT.053.001.02 statement of a euro account: one entry per credit (payer, payer IBAN or
    "", remittance text, amount) and the bank's fees as a debit."""
    day = f"{booked:%Y-%m-%d}"
    amounts = [quantize(Decimal(amount), "EUR") for *_rest, amount in credits]
    closing = opening + sum(amounts) - fees
    entries = [
        _entry(
            f"{index}",
            amount,
            "CRDT",
            day,
            f"<RltdPties><Dbtr><Nm>{escape(name)}</Nm></Dbtr>"
            + (f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>" if iban else "")
            + "</RltdPties>"
            + (f"<RmtInf><Ustrd>{escape(text)}</Ustrd></RmtInf>" if text else ""),
        )
        for index, ((name, iban, text, _amount), amount) in enumerate(zip(credits, amounts, strict=True), start=1)
    ]
    entries.append(_entry("fees", fees, "DBIT", day, "<RmtInf><Ustrd>Kontoführungsentgelt</Ustrd></RmtInf>"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>DEMO-{booked:%Y%m%d}</MsgId><CreDtTm>{day}T22:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{booked:%Y-%m-%d}-DEMO</Id>
      <CreDtTm>{day}T22:00:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      {_balance("OPBD", opening, day)}
      {_balance("CLBD", closing, day)}
      {"".join(entries)}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


def _balance(code: str, amount: Decimal, day: str) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy='EUR'>{amount}</Amt>"
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
    )


def _entry(reference: str, amount: Decimal, direction: str, day: str, details: str) -> str:
    return (
        f"<Ntry><NtryRef>{reference}</NtryRef><Amt Ccy='EUR'>{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd>"
        f"<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>DEMO-{day}-{reference}</EndToEndId></Refs>{details}</TxDtls></NtryDtls>"
        "</Ntry>"
    )
