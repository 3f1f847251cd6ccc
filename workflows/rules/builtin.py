"""Built-in rules: each fixed notification handler (workflows.handlers) has a rule row, made by a data
migration, that staff can switch off or narrow with conditions. The outbox asks `builtin_rule_allows`
before it runs such a handler; a handler without a rule row (invoicing, crediting) always runs."""

import structlog

from workflows.models import AutomationRule, OutboxEvent, RuleRun, RuleRunStatus
from workflows.rules.conditions import evaluate
from workflows.rules.fields import Subject

logger = structlog.get_logger(__name__)

# The fixed handlers that queue notices (not invoicing or crediting) and the event types each serves:
# one built-in rule per pair. The data migration that creates the rows reads this list.
BUILTIN_HANDLERS: dict[str, list[str]] = {
    "notify_sales_rep_of_credit_hold": ["customer.credit_hold_placed"],
    "notify_sales_rep_of_billing_change": ["customer.billing_data_changed"],
    "notify_approvers_of_change_request": ["customer.change_request_submitted"],
    "notify_requester_of_decision": ["customer.change_request_decided"],
    "send_order_confirmation": ["order.confirmed"],
    "notify_credit_control_of_held_order": ["order.put_on_credit_hold"],
    "send_shipment_notification": ["shipment.dispatched"],
    "alert_stock_managers": ["inventory.low_stock"],
    "deliver_invoice": ["invoice.issued", "credit_note.issued", "invoice.resend_requested"],
    "send_dunning_letter": ["dunning.letter_issued"],
    "send_payment_receipt": ["payment.allocated"],
    "send_payment_reminder": ["invoice.payment_reminder_due"],
    "send_ticket_reply": ["ticket.reply_posted"],
    "notify_of_sla_alert": ["ticket.sla_alert_raised"],
    "notify_account_of_sla_breaching_soon": ["ticket.sla_alert_raised"],
    "notify_account_of_key_account_ticket": ["ticket.opened"],
    "send_ticket_survey": ["ticket.solved"],
    "send_delivery_survey": ["shipment.delivered"],
    "notify_of_low_survey_score": ["survey.scored_low"],
    "notify_account_of_dispute": ["dispute.opened"],
    "notify_account_of_broken_promise": ["promise_to_pay.broken"],
    "send_portal_invitation": ["customer.portal_invitation_sent"],
    "send_return_request_decision": ["order.return_request_decided"],
    "email_weekly_kpis": ["analytics.weekly_kpis_ready"],
}


def builtin_rule_allows(*, event: OutboxEvent, handler_name: str) -> bool:
    """Whether the fixed handler may run for the event: its built-in rule is on and the event meets
    the rule's conditions (logged as the rule's run). A handler without a rule runs; a condition that
    cannot be evaluated lets the handler run (what it did before rules existed) and logs the failure."""
    if handler_name not in BUILTIN_HANDLERS:
        return True
    rule = AutomationRule.objects.filter(builtin_handler=handler_name, event_type=event.event_type).first()
    if rule is None:
        return True
    if not rule.active:
        return False
    subject = Subject.of(event)
    try:
        matched, trace = evaluate(rule.conditions, subject)
    except Exception as error:
        logger.exception("automation.builtin_condition_failed", rule_id=rule.pk, event_id=event.pk)
        _log_run(rule, event, subject, RuleRunStatus.FAILED, True, [], error=f"{type(error).__name__}: {error}")
        return True
    _log_run(rule, event, subject, RuleRunStatus.DONE if matched else RuleRunStatus.NOT_MATCHED, matched, trace)
    return matched


def _log_run(rule, event, subject, status, matched, trace, error: str = "") -> None:
    actions = [{"index": 0, "type": "builtin", "status": "done", "summary": f"ran {rule.builtin_handler}"}]
    RuleRun.objects.bulk_create(
        [
            RuleRun(
                event=event,
                rule=rule,
                rule_version=rule.version,
                customer_id=subject.customer_id,
                status=status,
                matched=matched,
                trace=trace,
                actions=actions if matched else [],
                error=error,
            )
        ],
        ignore_conflicts=True,
    )
