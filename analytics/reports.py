"""Every report as a table: its parameters (a form, the same for the admin page and the API), its
columns and rows (from the selectors), the documents each row drills down to, and CSV/XLSX export.
The admin, the API and the dashboard all read reports through `REPORTS`.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import tablib
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from analytics.selectors import behaviour, forecast, receivables
from analytics.selectors import service as service_desk
from analytics.selectors.receivables import GROUPINGS, Period
from otc.errors import InvalidInput
from otc.exports import neutralize_formula
from service.selectors import survey_results

# Every grouping any report takes; each report accepts its own and names them when given another.
ALL_GROUPINGS = list(
    dict.fromkeys(
        [
            *GROUPINGS,
            *service_desk.TICKET_GROUPINGS,
            *service_desk.SURVEY_GROUPINGS,
            *service_desk.DISPUTE_GROUPINGS,
        ]
    )
)


class ReportFilters(forms.Form):
    """Every parameter any report takes; each report reads the ones it needs."""

    on = forms.DateField(required=False, help_text="As of this day (default today).")
    start = forms.DateField(required=False, help_text="First day of the period (default 90 days before the end).")
    end = forms.DateField(required=False, help_text="Last day of the period (default today).")
    group_by = forms.ChoiceField(
        choices=[(key, key.replace("_", " ")) for key in ALL_GROUPINGS],
        required=False,
        help_text="What the rows are: each report names the groupings it takes.",
    )
    buckets = forms.CharField(required=False, help_text="Upper bounds of days past due, e.g. 30,60,90.")
    company_currency = forms.BooleanField(required=False, help_text="Convert to the company currency.")
    customer = forms.IntegerField(required=False, min_value=1)
    bucket = forms.CharField(required=False, help_text="An aging bucket's name, e.g. 31-60.")
    key = forms.CharField(required=False, help_text="One group's key, as a report's drill-down link gives it.")
    state = forms.ChoiceField(
        choices=[(state, state.replace("_", " ")) for state in service_desk.TICKET_STATES],
        required=False,
        help_text="Which tickets: opened in the period, open now (backlog), or with a missed SLA target.",
    )

    def clean_buckets(self) -> list[int]:
        text = self.cleaned_data["buckets"].strip()
        if not text:
            return list(receivables.DEFAULT_AGING_BOUNDS)
        try:
            return [int(part) for part in text.split(",")]
        except ValueError:
            raise forms.ValidationError("Whole days, separated by commas.") from None


@dataclass(frozen=True)
class Params:
    on: date
    period: Period
    group_by: str
    bounds: list[int]
    company_currency: bool
    customer: int | None
    bucket: str
    key: str | None
    state: str


def parse_params(data) -> Params:
    """The report parameters from a query string; bad input raises InvalidInput naming the fields."""
    form = ReportFilters(data)
    if not form.is_valid():
        raise InvalidInput(
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
            fields={name: list(errors) for name, errors in form.errors.items()},
        )
    values = form.cleaned_data
    today = timezone.localdate()
    end = values["end"] or today
    return Params(
        on=values["on"] or today,
        period=Period(values["start"] or end - timedelta(days=89), end),
        group_by=values["group_by"],
        bounds=values["buckets"],
        company_currency=values["company_currency"],
        customer=values["customer"],
        bucket=values["bucket"],
        key=values["key"] if "key" in data else None,
        state=values["state"] or "opened",
    )


@dataclass
class Table:
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[dict[str, Any]]
    links: list[str | None] = field(default_factory=list)  # one drill-down address per row, or none
    notes: list[str] = field(default_factory=list)

    def dataset(self) -> tablib.Dataset:
        data = tablib.Dataset(headers=[label for _key, label in self.columns])
        for row in self.rows:
            data.append([_plain(row.get(key)) for key, _label in self.columns])
        return data

    def spreadsheet(self, export_format: str) -> str | bytes:
        """The table as a CSV or XLSX file whose cells a spreadsheet shows but never evaluates."""
        data = tablib.Dataset(headers=[neutralize_formula(label) for _key, label in self.columns])
        for row in self.rows:
            data.append([neutralize_formula(_cell(row.get(key))) for key, _label in self.columns])
        return data.export(export_format)


def _cell(value: Any) -> Any:
    """A cell as a spreadsheet takes it: lists joined, numbers kept (an XLSX stores them as numbers)."""
    if isinstance(value, list):
        return " ".join(value)
    return value


def _plain(value: Any) -> Any:
    """A cell as JSON takes it: decimals as text (exact), lists joined."""
    value = _cell(value)
    return str(value) if isinstance(value, Decimal) else value


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _records(items: list, *, drop: tuple[str, ...] = (), extra: dict[str, Callable] | None = None) -> Table:
    """A table from selector dataclasses: their fields (but `drop`) and `extra` computed columns."""
    extra = extra or {}
    if not items:
        return Table(columns=[], rows=[])
    names = [f.name for f in dataclasses.fields(items[0]) if f.name not in drop]
    rows = [
        {**{name: getattr(item, name) for name in names}, **{k: f(item) for k, f in extra.items()}} for item in items
    ]
    return Table(columns=[(name, _label(name)) for name in [*names, *extra]], rows=rows)


def _report_url(slug: str, **query) -> str:
    return reverse("admin:analytics_report", args=[slug]) + "?" + urlencode(query)


def _customer_url(customer_id: int) -> str:
    return reverse("admin:customers_customer_change", args=[customer_id])


def aging_table(params: Params) -> Table:
    group_by = params.group_by or "customer"
    rows = receivables.aging_report(
        on=params.on, group_by=group_by, bounds=params.bounds, in_company_currency=params.company_currency
    )
    names = [bucket.name for bucket in receivables.aging_buckets(params.bounds)]
    table = Table(
        columns=[("label", _label(group_by)), ("currency", "Currency")]
        + [(name, name) for name in names]
        + [("unapplied_credit", "Unapplied credit"), ("total", "Total")],
        rows=[
            {"label": row.label, "currency": row.currency, **row.buckets, "unapplied_credit": row.unapplied_credit}
            | {"total": row.total}
            for row in rows
        ],
    )
    if group_by == "customer":
        table.links = [_report_url("aging-items", on=params.on, customer=row.key) for row in rows]
    return table


def aging_items_table(params: Params) -> Table:
    buckets = {bucket.name: bucket for bucket in receivables.aging_buckets(params.bounds)}
    if params.bucket and params.bucket not in buckets:
        raise InvalidInput(f"No bucket {params.bucket!r}.", fields={"bucket": [f"One of {', '.join(buckets)}."]})
    items = list(receivables.aging_items(on=params.on, customer_id=params.customer, bucket=buckets.get(params.bucket)))
    return Table(
        columns=[
            ("reference", "Document"),
            ("customer", "Customer"),
            ("kind", "Kind"),
            ("due_on", "Due"),
            ("days_past_due", "Days past due"),
            ("currency", "Currency"),
            ("open_amount", "Open"),
            ("open_amount_company", "Open (company currency)"),
        ],
        rows=[
            {
                "reference": item.reference,
                "customer": str(item.customer),
                "kind": item.get_kind_display(),
                "due_on": item.due_on,
                "days_past_due": (params.on - item.due_on).days,
                "currency": item.currency,
                "open_amount": item.open_amount,
                "open_amount_company": item.open_amount_company,
            }
            for item in items
        ],
        links=[reverse("admin:invoicing_invoice_change", args=[item.document_id]) for item in items],
    )


def kpi_table(params: Params) -> Table:
    figures = receivables.receivables(period=params.period)
    dso = receivables.days_sales_outstanding(period=params.period)
    rows = [
        ("Opening receivables", figures.opening),
        ("Closing receivables", figures.closing),
        ("Closing receivables not yet due", figures.closing_current),
        ("Credit sales", figures.credit_sales),
        ("DSO (standard)", dso.standard),
        ("DSO (count-back)", dso.count_back),
        ("Best possible DSO", dso.best_possible),
        ("Average days delinquent", dso.average_days_delinquent),
        ("CEI (%)", receivables.collection_effectiveness(period=params.period)),
    ]
    return Table(
        columns=[("figure", "Figure"), ("value", "Value")],
        rows=[{"figure": name, "value": value} for name, value in rows],
        notes=[f"{params.period.start} to {params.period.end}, {params.period.days} days, company currency."],
    )


def payment_behaviour_table(params: Params) -> Table:
    items = receivables.payment_behaviour(period=params.period)
    table = _records(items, drop=("customer_id",))
    table.links = [_customer_url(item.customer_id) for item in items]
    return table


def disputed_table(params: Params) -> Table:
    share = receivables.disputed_share(on=params.on)
    return _records([share], extra={"percent": lambda item: item.percent})


def promises_table(params: Params) -> Table:
    return _records([receivables.promises_kept(period=params.period)], extra={"kept_percent": lambda i: i.percent})


def cash_application_table(params: Params) -> Table:
    figures = receivables.cash_application(period=params.period)
    return _records([figures], extra={"touchless_percent": lambda item: item.touchless_percent})


def payer_scores_table(params: Params) -> Table:
    items = forecast.payer_scores(on=params.on)
    table = _records(items, drop=("customer_id", "fallback_is_group"), extra={"reasons": lambda item: item.reasons})
    table.links = [_customer_url(item.customer_id) for item in items]
    return table


def cash_forecast_table(params: Params) -> Table:
    expected = forecast.cash_forecast(on=params.on)
    backtest = forecast.forecast_backtest(on=params.on)
    table = _records(expected.weeks)
    for row, tested in zip(table.rows, backtest.weeks, strict=True):
        row.update(backtest_forecast=tested.forecast, backtest_actual=tested.actual)
    table.columns += [("backtest_forecast", "Forecast 13 weeks ago"), ("backtest_actual", "Came in")]
    table.notes = [
        f"Backtest as of {backtest.as_of}: mean absolute error of the weekly totals "
        f"{backtest.mean_absolute_error} (company currency).",
        _scores_note(expected.scores_as_of, params.on),
    ]
    return table


def _scores_note(scores_as_of: datetime | None, on: date) -> str:
    if scores_as_of is None:
        return f"Payer lateness scored as of {on} from the payments known then."
    return f"Payer lateness from the scores stored {timezone.localtime(scores_as_of):%Y-%m-%d %H:%M} (hourly task)."


def segments_table(params: Params) -> Table:
    rows = behaviour.segment_summary()
    table = _records(rows)
    changelist = reverse("admin:customers_customer_changelist")
    table.links = [f"{changelist}?{urlencode({'segment': row.segment})}" for row in rows]
    taken = behaviour.snapshot_taken_at()
    table.notes = [f"Snapshot taken {taken:%Y-%m-%d %H:%M}." if taken else "No snapshot taken yet."]
    return table


def _period_report(selector: Callable, link: Callable | None = None) -> Callable[[Params], Table]:
    def build(params: Params) -> Table:
        items = selector(period=params.period)
        table = _records(items)
        if link is not None:
            table.links = [link(item) for item in items]
        return table

    return build


def _tickets_url(by: str, key: str, state: str = "opened", **period) -> str:
    return _report_url("service-tickets", group_by=by, key=key, state=state, **period)


def _period_query(period: Period) -> dict[str, date]:
    return {"start": period.start, "end": period.end}


def ticket_volume_table(params: Params) -> Table:
    by = params.group_by or "channel"
    rows = service_desk.ticket_volume(period=params.period, by=by)
    table = _records(rows, drop=("key",))
    table.links = [
        _tickets_url(
            by,
            row.key,
            start=max(row.week, params.period.start),
            end=min(row.week + timedelta(days=6), params.period.end),
        )
        for row in rows
    ]
    table.notes = ["Weeks start on Monday; solved counts tickets by the week they were solved."]
    return table


def sla_table(params: Params) -> Table:
    by = params.group_by or "team"
    rows = service_desk.sla_performance(period=params.period, by=by)
    table = _records(
        rows,
        drop=("key",),
        extra={
            "first_response_met_percent": lambda row: row.first_response_met_percent,
            "resolution_met_percent": lambda row: row.resolution_met_percent,
        },
    )
    table.links = [_tickets_url(by, row.key, **_period_query(params.period)) for row in rows]
    table.notes = [
        "Tickets opened in the period. Met: by the due time the SLA policy set in business hours; hours taken "
        "are wall-clock hours from opening. Missed tickets: state first response missed or resolution missed."
    ]
    return table


def backlog_table(params: Params) -> Table:
    by = params.group_by or "team"
    rows = service_desk.backlog(by=by)
    names = [name for name, _low, _high in service_desk.BACKLOG_AGES]
    return Table(
        columns=[
            ("group", _label(by)),
            *[(name, name) for name in names],
            ("total", "Total"),
            ("waiting_on_customer", "Waiting on customer"),
            ("past_due", "Past SLA due"),
        ],
        rows=[
            {"group": row.group, **row.ages, "total": row.total}
            | {"waiting_on_customer": row.waiting_on_customer, "past_due": row.past_due}
            for row in rows
        ],
        links=[_tickets_url(by, row.key, state="backlog") for row in rows],
        notes=["Open tickets now (not solved or closed), by how long ago they were opened."],
    )


def service_tickets_table(params: Params) -> Table:
    by = params.group_by or "team"
    period = None if params.state == "backlog" else params.period
    items = list(service_desk.tickets(period=period, by=by, key=params.key, state=params.state))
    return Table(
        columns=[
            ("number", "Ticket"),
            ("subject", "Subject"),
            ("customer", "Customer"),
            ("status", "Status"),
            ("channel", "Channel"),
            ("category", "Category"),
            ("priority", "Priority"),
            ("team", "Team"),
            ("assignee", "Assignee"),
            ("created_at", "Opened"),
            ("first_response_at", "First response"),
            ("solved_at", "Solved"),
        ],
        rows=[
            {
                "number": ticket.number,
                "subject": ticket.subject,
                "customer": str(ticket.customer or ticket.sender_email),
                "status": ticket.get_status_display(),
                "channel": ticket.get_channel_display(),
                "category": ticket.get_category_display(),
                "priority": ticket.get_priority_display(),
                "team": str(ticket.team or ""),
                "assignee": str(ticket.assignee or ""),
                "created_at": ticket.created_at,
                "first_response_at": ticket.first_response_at,
                "solved_at": ticket.solved_at,
            }
            for ticket in items
        ],
        links=[reverse("admin:service_ticket_change", args=[ticket.pk]) for ticket in items],
    )


def satisfaction_table(params: Params) -> Table:
    by = params.group_by or "team"
    service_desk.check_survey_grouping(by)
    rows = survey_results(by=by, start=params.period.start, end=params.period.end)
    table = _records(rows, extra={"response_percent": lambda row: row.response_percent})
    table.notes = [
        "Surveys sent in the period. CSAT %: answers scoring 4 or 5; NPS: promoters (9-10) less detractors "
        "(0-6), in percent of the NPS answers."
    ]
    return table


def automated_answers_table(params: Params) -> Table:
    table = _records(service_desk.automated_answers(period=params.period))
    table.notes = ["Helpful %: of the answers the customer rated, those that helped."]
    return table


def disputes_table(params: Params) -> Table:
    by = params.group_by or "reason"
    rows = service_desk.disputes(period=params.period, by=by)
    table = _records(rows, drop=("key",))
    if by == "customer":
        table.links = [_customer_url(int(row.key)) for row in rows]
    table.notes = [
        "Company currency at the invoices' rates; a dispute naming no amount counts its invoice's gross total."
    ]
    return table


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    parameters: tuple[str, ...]
    build: Callable[[Params], Table]


REPORTS = {
    report.slug: report
    for report in [
        Report(
            "aging",
            "Aging of receivables",
            "What was open on a day, by days past due, per customer, group, sales rep, country or currency.",
            ("on", "group_by", "buckets", "company_currency"),
            aging_table,
        ),
        Report(
            "aging-items",
            "Open items",
            "The documents behind an aging figure.",
            ("on", "customer", "bucket", "buckets"),
            aging_items_table,
        ),
        Report(
            "dso", "DSO and CEI", "Days sales outstanding and collection effectiveness.", ("start", "end"), kpi_table
        ),
        Report(
            "payment-behaviour",
            "Days to pay and days late",
            "Per customer, amount-weighted.",
            ("start", "end"),
            payment_behaviour_table,
        ),
        Report("disputed-share", "Disputed share", "Open receivables under dispute.", ("on",), disputed_table),
        Report("promises", "Promises to pay kept", "Kept and broken promises.", ("start", "end"), promises_table),
        Report(
            "dunning-levels",
            "Dunning levels",
            "Open invoices by level reached.",
            (),
            lambda params: _records(receivables.dunning_levels()),
        ),
        Report(
            "write-offs",
            "Write-offs by reason",
            "Posted to the write-off account.",
            ("start", "end"),
            _period_report(receivables.write_offs),
        ),
        Report(
            "cash-application",
            "Touchless cash application",
            "Incoming bank lines applied with no clerk.",
            ("start", "end"),
            cash_application_table,
        ),
        Report(
            "payer-scores",
            "Payer scores",
            "Predicted days late per customer, with reasons.",
            ("on",),
            payer_scores_table,
        ),
        Report(
            "cash-forecast",
            "13-week cash forecast",
            "Expected receipts per week, and the backtest.",
            ("on",),
            cash_forecast_table,
        ),
        Report("segments", "Customer segments (RFM)", "Customers and revenue per segment.", (), segments_table),
        Report(
            "top-customers",
            "Top customers",
            "By net revenue.",
            ("start", "end"),
            _period_report(behaviour.top_customers, lambda item: _customer_url(item.customer_id)),
        ),
        Report(
            "top-products",
            "Top products",
            "By net revenue.",
            ("start", "end"),
            _period_report(behaviour.top_products),
        ),
        Report(
            "monthly-trend",
            "Invoicing trend",
            "Invoices, customers and average size per month.",
            ("start", "end"),
            _period_report(behaviour.monthly_trend),
        ),
        Report(
            "ticket-volume",
            "Ticket volume",
            "Tickets opened and solved per week, by channel, category, priority or team.",
            ("start", "end", "group_by"),
            ticket_volume_table,
        ),
        Report(
            "ticket-sla",
            "Response and resolution against SLA",
            "Share of SLA targets met, median and 90th percentile hours, by team, category, priority or channel.",
            ("start", "end", "group_by"),
            sla_table,
        ),
        Report(
            "ticket-backlog",
            "Ticket backlog by age",
            "Open tickets by how long they have been open, by team, category, priority or channel.",
            ("group_by",),
            backlog_table,
        ),
        Report(
            "service-tickets",
            "Tickets",
            "The tickets behind a service figure.",
            ("start", "end", "group_by", "key", "state"),
            service_tickets_table,
        ),
        Report(
            "satisfaction",
            "CSAT and NPS",
            "Survey results by agent, team, category or month.",
            ("start", "end", "group_by"),
            satisfaction_table,
        ),
        Report(
            "automated-answers",
            "Automated answers",
            "Share of tickets answered automatically and whether the answer helped, per intent.",
            ("start", "end"),
            automated_answers_table,
        ),
        Report(
            "disputes",
            "Disputes",
            "Disputes opened and resolved, their outcomes and amounts, by reason or customer.",
            ("start", "end", "group_by"),
            disputes_table,
        ),
        Report(
            "credit-holds",
            "Credit holds and outcomes",
            "Orders held in the period and what became of them.",
            ("start", "end"),
            _period_report(behaviour.credit_hold_outcomes),
        ),
    ]
}
