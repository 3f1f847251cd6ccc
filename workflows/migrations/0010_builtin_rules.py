"""Today's fixed notification handlers become built-in automation rules, one per handler and event
type, switched on and without conditions, so nothing changes until staff switch one off or narrow it.
The list is frozen here as it was when the rules were introduced (workflows.rules.builtin holds the
live one; a test keeps the two and the handlers in step)."""

from django.db import migrations

BUILTIN_RULES = [
    (
        "notify_sales_rep_of_credit_hold",
        "customer.credit_hold_placed",
        "Tell the sales rep a customer went on credit hold.",
    ),
    ("notify_sales_rep_of_billing_change", "customer.billing_data_changed", "Tell the sales rep billing data changed."),
    (
        "notify_approvers_of_change_request",
        "customer.change_request_submitted",
        "Ask the approvers to decide a change request.",
    ),
    (
        "notify_requester_of_decision",
        "customer.change_request_decided",
        "Tell the requester how a change request was decided.",
    ),
    ("send_order_confirmation", "order.confirmed", "Email the customer the order confirmation."),
    (
        "notify_credit_control_of_held_order",
        "order.put_on_credit_hold",
        "Tell credit control an order waits on credit hold.",
    ),
    ("send_shipment_notification", "shipment.dispatched", "Email the customer that goods are on their way."),
    ("alert_stock_managers", "inventory.low_stock", "Tell the stock managers stock fell below the reorder point."),
    ("deliver_invoice", "invoice.issued", "Deliver the issued invoice to the customer (PDF or e-invoice)."),
    ("deliver_invoice", "credit_note.issued", "Deliver the issued credit note to the customer."),
    ("deliver_invoice", "invoice.resend_requested", "Deliver an invoice again on request."),
    ("send_dunning_letter", "dunning.letter_issued", "Email the customer the dunning letter."),
    ("send_payment_receipt", "payment.allocated", "Email the customer a payment receipt."),
    (
        "send_payment_reminder",
        "invoice.payment_reminder_due",
        "Email the customer a friendly reminder before the due date.",
    ),
    ("send_ticket_reply", "ticket.reply_posted", "Email the customer an agent's reply."),
    (
        "notify_of_sla_alert",
        "ticket.sla_alert_raised",
        "Tell the assignee and team lead a ticket's SLA is due or missed.",
    ),
    (
        "notify_account_of_sla_breaching_soon",
        "ticket.sla_alert_raised",
        "Tell the account's people a ticket nears its SLA.",
    ),
    (
        "notify_account_of_key_account_ticket",
        "ticket.opened",
        "Tell a key account's sales rep and team of its new ticket.",
    ),
    ("send_ticket_survey", "ticket.solved", "Ask the customer how the solved ticket went."),
    ("send_delivery_survey", "shipment.delivered", "Ask the customer how the delivery went."),
    ("notify_of_low_survey_score", "survey.scored_low", "Tell the team lead and account of a low survey score."),
    ("notify_account_of_dispute", "dispute.opened", "Tell the account's people an invoice was disputed."),
    (
        "notify_account_of_broken_promise",
        "promise_to_pay.broken",
        "Tell the account's people a promise to pay was broken.",
    ),
    ("send_portal_invitation", "customer.portal_invitation_sent", "Email the portal invitation's one-time link."),
    ("email_weekly_kpis", "analytics.weekly_kpis_ready", "Email the weekly KPIs to the staff who receive them."),
]


def create_builtin_rules(apps, schema_editor):
    create_rules(apps, BUILTIN_RULES)


def create_rules(apps, rules):
    """One built-in rule (and its version 1) per (handler, event type, description); later migrations
    that give a new fixed handler its rule call this too."""
    AutomationRule = apps.get_model("workflows", "AutomationRule")
    AutomationRuleVersion = apps.get_model("workflows", "AutomationRuleVersion")
    for handler, event_type, description in rules:
        rule = AutomationRule.objects.create(
            name=f"Built-in: {handler} on {event_type}",
            description=description,
            event_type=event_type,
            conditions={},
            actions=[],
            active=True,
            builtin_handler=handler,
            version=1,
        )
        AutomationRuleVersion.objects.create(
            rule=rule,
            version=1,
            name=rule.name,
            description=description,
            event_type=event_type,
            conditions={},
            actions=[],
            active=True,
        )


def remove_builtin_rules(apps, schema_editor):
    apps.get_model("workflows", "AutomationRule").objects.exclude(builtin_handler="").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0009_automation_rules")]

    operations = [migrations.RunPython(create_builtin_rules, remove_builtin_rules)]
