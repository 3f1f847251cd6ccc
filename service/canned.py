"""Canned replies rendered with Django's template engine in a sandbox: the template sees plain
dictionaries of a few chosen values (never model instances, so no method or relation is reachable),
the default filters and only the tags `if`, `for`, `with` and `firstof` -- no include, extends,
load, debug or anything else that reaches beyond the context."""

from django.template import Context, Engine, Library, TemplateDoesNotExist, TemplateSyntaxError, defaulttags

from otc.models import User
from service.errors import CannedReplyInvalid
from service.models import Ticket

register = Library()
for _name in ("if", "for", "with", "firstof"):
    register.tag(_name, defaulttags.register.tags[_name])


class SandboxEngine(Engine):
    default_builtins = ["django.template.defaultfilters", "service.canned"]


SANDBOX = SandboxEngine(loaders=[], libraries={}, autoescape=False, string_if_invalid="")


def compile_canned_reply(body: str):
    """The compiled template, or CannedReplyInvalid naming the syntax error."""
    try:
        return SANDBOX.from_string(body)
    except TemplateSyntaxError as error:
        raise CannedReplyInvalid(
            f"The reply text is not a valid template: {error}", fields={"body": [str(error)]}
        ) from error


def placeholder_context(*, ticket: Ticket, agent: User) -> dict[str, dict[str, str]]:
    """What a canned reply may name: the ticket, its customer and contact, the latest linked order and
    invoice, and the agent. Values are text, already formatted."""
    customer = ticket.customer
    invoice = ticket.invoices.order_by("-pk").first()
    order = ticket.orders.order_by("-pk").first()
    full_name = agent.full_name or agent.email
    return {
        "ticket": {"number": ticket.number, "subject": ticket.subject},
        "customer": {
            "number": customer.number,
            "display_name": customer.display_name,
            "legal_name": customer.legal_name,
        }
        if customer
        else {},
        "contact": {"name": ticket.contact.name if ticket.contact else ""},
        "invoice": {
            "number": invoice.number or "",
            "gross_total": f"{invoice.gross_total:,.2f}",
            "open_amount": f"{invoice.open_amount:,.2f}",
            "currency": invoice.currency,
            "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
        }
        if invoice
        else {},
        "order": {"number": order.number, "status": order.get_status_display()} if order else {},
        "agent": {"first_name": full_name.split()[0], "full_name": full_name},
    }


def render_canned_reply(*, body: str, ticket: Ticket, agent: User) -> str:
    template = compile_canned_reply(body)
    try:
        return template.render(Context(placeholder_context(ticket=ticket, agent=agent))).strip()
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise CannedReplyInvalid(
            f"The reply text cannot be filled in: {error}", fields={"body": [str(error)]}
        ) from error
