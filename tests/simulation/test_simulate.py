"""The whole cycle run as if live: a small company over two months, every invariant checked at the end
of every day (the command fails naming the day otherwise), and the figures it ends with."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer
from invoicing.models import Invoice
from ledger.models import EntryKind, JournalEntry
from orders.models import Order, Shipment
from otc.models import ApiKey
from payments.models import Allocation, BankStatement, BankStatementLine, DunningLetter
from service.models import Survey, Ticket, TicketChannel, TicketStatus
from workflows.models import EventStatus, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)
END = date(2026, 11, 30)


def figure(output: str, name: str) -> str:
    return re.search(rf"^  {re.escape(name)} +(.+)$", output, re.MULTILINE).group(1)


def test_two_months_of_business_end_with_every_check_holding_and_no_line_applied_wrongly(media_root):
    out = StringIO()

    call_command("simulate", customers=25, days=60, seed=7, end=END, stdout=out)

    output = out.getvalue()
    assert "Simulated 60 days of 25 customers: every check held." in output
    assert output.count("all checks hold") == 60
    assert Customer.objects.count() == 25
    assert figure(output, "Lines applied to the wrong invoice") == "0"
    assert int(figure(output, "Emails sent (confirmations, shipments, invoices, letters)")) > 50
    shipments, invoices = Shipment.objects.count(), Invoice.objects.exclude(number="").count()
    assert shipments == invoices == int(figure(output, "Shipments invoiced")) > 50
    assert not Invoice.objects.filter(issue_date__gt=END).exists()
    assert not JournalEntry.objects.filter(posted_on__gt=END).exists(), "allocations are dated on simulated days"
    assert JournalEntry.objects.filter(kind=EntryKind.ALLOCATION).exists()
    assert BankStatement.objects.count() >= 10
    lines = BankStatementLine.objects.filter(amount__gt=0)
    assert lines.count() == int(figure(output, "Bank lines")) > 10
    assert not lines.filter(payment__isnull=True).exists(), "the clerk worked the whole queue"
    automatic = lines.filter(applied_automatically=True).count()
    assert figure(output, "Touchless cash application") == f"{100 * automatic / lines.count():.1f} %"
    assert Allocation.objects.exists()
    assert DunningLetter.objects.filter(level=1).exists()
    assert not OutboxEvent.objects.exclude(status=EventStatus.DONE).exists()
    # Customers and partners came through the API, the portal and the survey links.
    doors = dict(re.findall(r"(api|portal|sales rep): (\d+)", figure(output, "Orders by door")))
    assert sum(map(int, doors.values())) == Order.objects.count() == int(figure(output, "Orders taken"))
    assert int(doors["api"]) > 0
    assert int(doors["portal"]) > 0
    shop = ApiKey.objects.get(name="Simulated web shop")
    assert Order.objects.filter(created_by=shop.user).count() == int(doors["api"])
    assert Order.objects.filter(created_by__portal_membership__isnull=False).count() == int(doors["portal"])
    assert int(re.search(r"requests served: api (\d+)", output).group(1)) == int(doors["api"])
    answered = Survey.objects.filter(answered_at__isnull=False)
    sent, replied = figure(output, "Surveys sent / answered").split(" / ")
    assert answered.count() == int(replied) > 0
    assert int(sent) >= answered.count()
    satisfied = answered.filter(csat__gte=4).count()
    assert figure(output, "CSAT (answers of 4 or 5)") == f"{100 * satisfied / answered.count():.1f} %"
    opened, solved = map(int, figure(output, "Service desk tickets opened / solved").split(" / "))
    tickets = Ticket.objects.filter(channel=TicketChannel.PORTAL)
    assert tickets.count() == opened > 0
    assert tickets.filter(status=TicketStatus.SOLVED).count() == solved
    assert "slowest request: POST /" in output


def test_the_simulation_refuses_a_database_with_business_in_it(customer):
    with pytest.raises(CommandError, match="runs against an empty database; this one has 1 customers"):
        call_command("simulate", customers=2, days=2, stdout=StringIO())
