"""What a rule can do, in order: each action type is one small class with its parameters (checked on
save), a `plan` that resolves what it would do and to whom without doing it (the dry run shows plans),
and `perform`, which does the plan through the owning app's service as the automation user, so
permissions and audit apply. Adding an action is one class and one entry in ACTIONS."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone

from customers import services as customer_services
from customers.models import TAG_PATTERN, Customer
from invoicing.models import HoldKind
from invoicing.services import holds as invoice_holds
from otc.models import User
from service.models import Team, TicketCategory, TicketPriority
from service.selectors import account_recipients
from service.services import open_ticket
from service.services.followups import create_follow_up
from workflows.models import AutomationRule, OutboxEvent, WebhookSubscription
from workflows.rules.fields import Subject, has_subject
from workflows.services import queue_email
from workflows.webhooks.services import queue_webhook


class ActionUnresolvable(Exception):
    """The action cannot be planned for this event (no sales rep, no contact with the role, ...)."""


@dataclass(frozen=True)
class Plan:
    """What an action would do, in words, and to whom (email addresses, or the assignee)."""

    summary: str
    recipients: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # text, integer, email, or choice
    help: str
    required: bool = True
    choices: Callable[[], list[str]] | None = None
    minimum: int | None = None
    maximum: int | None = None

    def problem(self, value: Any) -> str | None:
        if self.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{value!r} is not a whole number"
            if self.minimum is not None and value < self.minimum:
                return f"must be at least {self.minimum}"
            if self.maximum is not None and value > self.maximum:
                return f"must be at most {self.maximum}"
            return None
        if not isinstance(value, str) or (self.required and not value.strip()):
            return f"{value!r} is not a non-empty text"
        if self.kind == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            return f'"{value}" is not an email address'
        if self.kind == "choice" and value not in (options := self.choices()):
            shown = ", ".join(options[:10]) + (f" ... ({len(options)} in all)" if len(options) > 10 else "")
            return f'"{value}" is not one of {shown}'
        return None


@dataclass
class RunContext:
    """One rule's run for one event, as the actions see it."""

    rule: AutomationRule
    event: OutboxEvent
    subject: Subject
    index: int
    actor: User

    @property
    def source(self) -> str:
        return f"rule:{self.rule.pk}"


class Action:
    type: ClassVar[str]
    label: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    needs: ClassVar[str | None] = "customer"
    """The subject the action acts on ("customer", "invoice"), which the event type must name."""

    def check(self, params: dict[str, Any]) -> dict[str, str]:
        """Problems beyond the parameters' own types, by parameter name."""
        return {}

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        raise NotImplementedError

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        raise NotImplementedError


def _customer(subject: Subject) -> Customer:
    if subject.customer is None:
        raise ActionUnresolvable("the event names no customer")
    return subject.customer


@cache
def email_templates() -> list[str]:
    """The keys of templates/emails (each has .subject.txt, .txt and .html)."""
    folder = Path(settings.BASE_DIR) / "templates" / "emails"
    return sorted(path.name.removesuffix(".subject.txt") for path in folder.glob("*.subject.txt"))


def _team_names() -> list[str]:
    return list(Team.objects.order_by("name").values_list("name", flat=True))


RECIPIENT_KINDS = ["sales_rep", "account", "contact_role", "team", "address"]
CONTACT_ROLES = ["billing", "shipping", "purchasing", "dunning"]


class Notify(Action):
    type = "notify"
    label = "Send an email template"
    params = (
        Param("template", "choice", "An email template key (templates/emails)", choices=email_templates),
        Param(
            "to",
            "choice",
            "sales_rep, account (sales rep and key-account team), contact_role, team or address",
            choices=lambda: RECIPIENT_KINDS,
        ),
        Param(
            "role", "choice", "With to=contact_role: the contacts' role", required=False, choices=lambda: CONTACT_ROLES
        ),
        Param("team", "choice", "With to=team: the team's name", required=False, choices=_team_names),
        Param("address", "email", "With to=address: the email address", required=False),
    )
    needs = None

    def check(self, params: dict[str, Any]) -> dict[str, str]:
        needed = {"contact_role": "role", "team": "team", "address": "address"}.get(params.get("to", ""))
        if needed and needed not in params:
            return {needed: f"is required when to is {params['to']}"}
        return {}

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        to = params["to"]
        if to == "address":
            recipients = [params["address"]]
        elif to == "team":
            team = Team.objects.select_related("lead").filter(name=params["team"]).first()
            if team is None:
                raise ActionUnresolvable(f"there is no team {params['team']!r} any more")
            people = [team.lead, *team.members.filter(is_active=True)]
            recipients = sorted({p.email for p in people if p is not None and p.is_active and p.email})
        else:
            customer = _customer(subject)
            if to == "sales_rep":
                rep = customer.sales_rep
                recipients = [rep.email] if rep is not None and rep.is_active and rep.email else []
            elif to == "account":
                recipients = account_recipients(customer)
            else:
                recipients = sorted(
                    {c.email for c in customer.contacts.filter(is_active=True, roles__contains=[params["role"]])}
                )
        if not recipients:
            raise ActionUnresolvable(f"nobody to send {params['template']} to ({to})")
        return Plan(f"email {params['template']} to {', '.join(recipients)}", recipients)

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        subject = context.subject
        customer = subject.customer
        template_context = {
            "rule": context.rule.name,
            "event_type": context.event.event_type,
            "event": context.event.payload,
            "customer": customer,
            "order": subject.order,
            "invoice": subject.invoice,
            "ticket": subject.ticket,
        }
        for recipient in plan.recipients:
            queue_email(
                event=context.event,
                handler=f"{context.source}:{context.index}",
                recipient=recipient,
                template=params["template"],
                context=template_context,
                language=customer.language if customer is not None else "en",
            )


class OpenTicket(Action):
    type = "open_ticket"
    label = "Open a ticket"
    params = (
        Param("subject", "text", "The ticket's subject"),
        Param("body", "text", "Its first message (what to look at)"),
        Param("category", "choice", "Ticket category", required=False, choices=lambda: list(TicketCategory.values)),
        Param("priority", "choice", "Ticket priority", required=False, choices=lambda: list(TicketPriority.values)),
        Param("team", "choice", "The team's queue it goes to", required=False, choices=_team_names),
    )

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        customer = _customer(subject)
        queue = params.get("team", "the default queue")
        return Plan(f"open ticket {params['subject']!r} for {customer.number} in {queue}", [queue])

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        open_ticket(
            customer=context.subject.customer,
            subject=params["subject"],
            body=f"{params['body']}\n\n(Opened by automation rule {context.rule.name!r} on {context.event}.)",
            channel="staff",
            actor=context.actor,
            category=params.get("category", TicketCategory.OTHER),
            priority=params.get("priority", TicketPriority.NORMAL),
            team=Team.objects.get(name=params["team"]) if "team" in params else None,
        )


def add_business_days(start: date, days: int) -> date:
    """The date `days` working days (Monday to Friday) after `start`."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


class CreateFollowUp(Action):
    type = "create_follow_up"
    label = "Create a follow-up task"
    params = (
        Param("title", "text", "What to do"),
        Param("assignee", "text", "\"sales_rep\" (the customer's) or a staff member's email"),
        Param(
            "due_in_business_days",
            "integer",
            "Due this many business days after the event",
            required=False,
            minimum=0,
            maximum=250,
        ),
        Param("note", "text", "Details", required=False),
    )

    def check(self, params: dict[str, Any]) -> dict[str, str]:
        assignee = params.get("assignee")
        if (
            assignee != "sales_rep"
            and not User.objects.filter(email__iexact=assignee, is_staff=True, is_active=True).exists()
        ):
            return {"assignee": f'"{assignee}" is neither sales_rep nor an active staff member\'s email'}
        return {}

    def _assignee(self, params: dict[str, Any], subject: Subject) -> User:
        if params["assignee"] == "sales_rep":
            rep = _customer(subject).sales_rep
            if rep is None or not rep.is_active:
                raise ActionUnresolvable(f"{subject.customer.number} has no active sales rep")
            return rep
        user = User.objects.filter(email__iexact=params["assignee"], is_staff=True, is_active=True).first()
        if user is None:
            raise ActionUnresolvable(f"{params['assignee']} is no active staff member any more")
        return user

    def _due(self, params: dict[str, Any]) -> date:
        return add_business_days(timezone.localdate(), params.get("due_in_business_days", 0))

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        assignee = self._assignee(params, subject)
        return Plan(f"follow-up {params['title']!r} for {assignee.email}, due {self._due(params)}", [assignee.email])

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        create_follow_up(
            title=params["title"],
            assignee=self._assignee(params, context.subject),
            due_on=self._due(params),
            actor=context.actor,
            customer=context.subject.customer,
            note=params.get("note", ""),
            source=context.source,
        )


class PlaceCreditHold(Action):
    type = "place_credit_hold"
    label = "Put the customer on credit hold"
    params = (Param("reason", "text", "Why (shown on the customer)"),)

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        return Plan(f"credit hold on {_customer(subject).number}: {params['reason']}")

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        customer_services.place_credit_hold(
            customer=context.subject.customer, actor=context.actor, reason=params["reason"]
        )


class ReleaseCreditHold(Action):
    type = "release_credit_hold"
    label = "Release the customer's credit hold"

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        return Plan(f"release the credit hold of {_customer(subject).number}")

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        customer_services.release_credit_hold(
            customer=context.subject.customer, actor=context.actor, reason=f"automation rule: {plan.summary}"
        )


def _invoice_number(subject: Subject) -> str:
    if subject.invoice is None:
        raise ActionUnresolvable("the event names no invoice")
    return subject.invoice.number


class PlaceInvoiceHold(Action):
    type = "place_invoice_hold"
    label = "Hold the invoice (keeps collections away)"
    params = (
        Param("kind", "choice", "Hold kind", choices=lambda: list(HoldKind.values)),
        Param("reason_code", "text", "A short reason code, e.g. LARGE-NEW"),
        Param("text", "text", "Details", required=False),
    )
    needs = "invoice"

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        return Plan(f"{params['kind']} hold on invoice {_invoice_number(subject)} ({params['reason_code']})")

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        invoice_holds.place_hold(
            invoice=context.subject.invoice,
            kind=params["kind"],
            reason_code=params["reason_code"],
            text=params.get("text", ""),
            actor=context.actor,
            source=context.source,
        )


class ReleaseInvoiceHold(Action):
    type = "release_invoice_hold"
    label = "Release the invoice's hold of a kind"
    params = (Param("kind", "choice", "Hold kind", choices=lambda: list(HoldKind.values)),)
    needs = "invoice"

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        return Plan(f"release the {params['kind']} hold on invoice {_invoice_number(subject)}")

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        hold = context.subject.invoice.holds.filter(kind=params["kind"], released_at__isnull=True).first()
        if hold is None:
            raise ActionUnresolvable(f"invoice {context.subject.invoice.number} has no active {params['kind']} hold")
        invoice_holds.release_hold(hold=hold, actor=context.actor, note=f"released by rule {context.rule.name}")


class AddTag(Action):
    type = "add_tag"
    label = "Tag the customer"
    params = (Param("tag", "text", "Lower case letters, digits, - and _"),)

    def check(self, params: dict[str, Any]) -> dict[str, str]:
        if not re.fullmatch(TAG_PATTERN, str(params.get("tag", ""))):
            return {"tag": f'"{params.get("tag")}" is not a tag (lower case letters, digits, - and _)'}
        return {}

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        return Plan(f"tag {_customer(subject).number} {params['tag']}")

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        customer_services.add_customer_tag(customer=context.subject.customer, name=params["tag"], actor=context.actor)


class CallWebhook(Action):
    """The event, signed as every partner delivery is, to one subscription whether or not it subscribed
    to the event type (retries, dead letters and replay as for any delivery)."""

    type = "call_webhook"
    label = "Call a partner webhook"
    params = (
        Param("subscription", "integer", "The webhook subscription's number (Workflows -> Webhook subscriptions)"),
    )
    needs = None

    def check(self, params: dict[str, Any]) -> dict[str, str]:
        if not WebhookSubscription.objects.filter(pk=params["subscription"]).exists():
            return {"subscription": f"there is no webhook subscription {params['subscription']}"}
        return {}

    def _subscription(self, params: dict[str, Any]) -> WebhookSubscription:
        subscription = WebhookSubscription.objects.filter(pk=params["subscription"]).first()
        if subscription is None or not subscription.is_active:
            raise ActionUnresolvable(f"webhook subscription {params['subscription']} is deleted or disabled")
        return subscription

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        subscription = self._subscription(params)
        return Plan(f"call webhook {subscription.pk} ({subscription.url})", [subscription.url])

    def perform(self, params: dict[str, Any], plan: Plan, context: RunContext) -> None:
        handler = f"{context.source}:{context.index}"
        queue_webhook(event=context.event, subscription=self._subscription(params), handler=handler)


class Wait(Action):
    """Not performed like the others: the runner stops here and leaves a delayed step."""

    type = "wait"
    label = "Wait N business days, then re-check the conditions"
    params = (Param("business_days", "integer", "Business days (Monday to Friday) to wait", minimum=1, maximum=60),)
    needs = None

    def plan(self, params: dict[str, Any], subject: Subject) -> Plan:
        return Plan(f"wait {params['business_days']} business day(s), then re-check the conditions")


ACTIONS: dict[str, Action] = {
    action.type: action
    for action in (
        Notify(),
        OpenTicket(),
        CreateFollowUp(),
        PlaceCreditHold(),
        ReleaseCreditHold(),
        PlaceInvoiceHold(),
        ReleaseInvoiceHold(),
        AddTag(),
        CallWebhook(),
        Wait(),
    )
}


def check_actions(actions: Any, event_type: str) -> list[tuple[str, str]]:
    """Every problem of an action list for a rule on `event_type`, as (path, message)."""
    if not isinstance(actions, list):
        return [("actions", "is a list of actions")]
    problems = []
    for index, spec in enumerate(actions):
        path = f"actions[{index}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            problems.append((path, 'an action is an object with a "type"'))
            continue
        action = ACTIONS.get(spec["type"])
        if action is None:
            problems.append((f"{path}.type", f'"{spec["type"]}" is not an action; use {", ".join(ACTIONS)}'))
            continue
        if action.needs and not has_subject(event_type, action.needs):
            problems.append(
                (f"{path}.type", f"{action.type} needs an event about a {action.needs}; {event_type} is not")
            )
        params = {key: value for key, value in spec.items() if key != "type"}
        known = {param.name: param for param in action.params}
        for name in sorted(set(params) - set(known)):
            problems.append(
                (f"{path}.{name}", f"{action.type} takes no {name} (it takes {', '.join(known) or 'nothing'})")
            )
        for param in action.params:
            if param.name not in params:
                if param.required:
                    problems.append((f"{path}.{param.name}", "is required"))
            elif (problem := param.problem(params[param.name])) is not None:
                problems.append((f"{path}.{param.name}", problem))
        if not any(p.startswith(f"{path}.") for p, _ in problems):
            problems += [(f"{path}.{name}", message) for name, message in action.check(params).items()]
    if actions and isinstance(actions[-1], dict) and actions[-1].get("type") == "wait":
        problems.append((f"actions[{len(actions) - 1}]", "a wait must be followed by the action(s) it waits for"))
    return problems


def params_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in spec.items() if key != "type"}
