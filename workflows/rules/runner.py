"""Running rules live. `run_automation_rules` is the outbox handler for every event type: it runs the
type's active rules, each once per event (a unique run row), each matched rule's actions in a savepoint
of their own, so a failing rule is logged and rolled back without stopping the other rules or the
fixed handlers. Events the actions publish carry the rule chain, and a rule never runs for an event its
own chain caused. A "wait" leaves a delayed step that `resume_due_steps` (a beat task) takes up."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from otc.models import User
from otc.services import automation_user
from workflows.models import (
    AutomationRule,
    AutomationRuleVersion,
    DelayedStep,
    DelayedStepStatus,
    OutboxEvent,
    RuleRun,
    RuleRunStatus,
)
from workflows.rules.actions import ACTIONS, RunContext, add_business_days, params_of
from workflows.rules.chain import caused_by
from workflows.rules.conditions import evaluate
from workflows.rules.fields import Subject

logger = structlog.get_logger(__name__)


class RuleFailed(Exception):
    """An action failed: the rule's savepoint is rolled back and the run logged as failed."""


@dataclass
class Progress:
    """What a run of a rule's actions (from some index) did."""

    log: list[dict] = field(default_factory=list)
    waiting_until: datetime | None = None
    next_action: int | None = None
    error: str = ""


def run_automation_rules(event: OutboxEvent) -> None:
    """The outbox's handler for every event: run the event type's active rules (not the built-in ones,
    which the outbox applies at their fixed handlers). Never raises for a rule's failure."""
    rules = list(AutomationRule.objects.filter(event_type=event.event_type, active=True, builtin_handler=""))
    if not rules:
        return
    subject = Subject.of(event)
    chain = list(event.rule_chain)
    quiet: list[RuleRun] = []
    for rule in rules:
        run = RuleRun(event=event, rule=rule, rule_version=rule.version, customer_id=subject.customer_id, matched=False)
        stop = _loop_stop(rule, chain)
        if stop:
            run.status, run.error = RuleRunStatus.LOOP_STOPPED, stop
            logger.warning("automation.loop_stopped", rule_id=rule.pk, event_id=event.pk, chain=chain)
            quiet.append(run)
            continue
        try:
            run.matched, run.trace = evaluate(rule.conditions, subject)
        except Exception as error:
            logger.exception("automation.condition_failed", rule_id=rule.pk, event_id=event.pk)
            run.status, run.error = RuleRunStatus.FAILED, f"conditions: {type(error).__name__}: {error}"
            quiet.append(run)
            continue
        if not run.matched:
            run.status = RuleRunStatus.NOT_MATCHED
            quiet.append(run)
            continue
        _run_matched(run, subject, chain)
    RuleRun.objects.bulk_create(quiet, ignore_conflicts=True)


def _loop_stop(rule: AutomationRule, chain: list[int]) -> str:
    if rule.pk in chain:
        return f"loop: this event was caused by this rule's own actions (rule chain {chain})"
    limit = settings.AUTOMATION_MAX_RULE_CHAIN
    if len(chain) >= limit:
        return f"rule chain {chain} is {len(chain)} rules deep (AUTOMATION_MAX_RULE_CHAIN is {limit})"
    return ""


def _run_matched(run: RuleRun, subject: Subject, chain: list[int]) -> None:
    """Run the actions in a savepoint; on failure roll them back and log the run as failed."""
    progress = Progress()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    run.status = RuleRunStatus.DONE
                    run.save()
            except IntegrityError:
                return  # this rule ran for this event already
            progress = perform_actions(run, subject, start=0, chain=chain, actions=run.rule.actions)
            _record_progress(run, progress)
            if progress.error:
                raise RuleFailed(progress.error)
    except Exception as error:
        logger.warning("automation.rule_failed", rule_id=run.rule_id, event_id=run.event_id, error=str(error))
        run.pk = None
        run.status, run.error = (
            RuleRunStatus.FAILED,
            str(error) if isinstance(error, RuleFailed) else f"{type(error).__name__}: {error}",
        )
        run.actions = [
            {**entry, "status": "rolled back"} if entry["status"] == "done" else entry for entry in progress.log
        ]
        RuleRun.objects.bulk_create([run], ignore_conflicts=True)


def perform_actions(run: RuleRun, subject: Subject, *, start: int, chain: list[int], actions: list[dict]) -> Progress:
    """Do the actions from `start` in order until one fails or a wait leaves a delayed step. Events they
    publish carry the chain plus this rule."""
    progress = Progress()
    actor = automation_user()
    with caused_by([*chain, run.rule_id]):
        for index in range(start, len(actions)):
            spec = actions[index]
            action = ACTIONS[spec["type"]]
            params = params_of(spec)
            if spec["type"] == "wait":
                progress.waiting_until = resume_time(timezone.now(), params["business_days"])
                progress.next_action = index + 1
                progress.log.append(
                    {
                        "index": index,
                        "type": "wait",
                        "status": "waiting",
                        "summary": f"until {progress.waiting_until:%Y-%m-%d %H:%M}",
                    }
                )
                return progress
            try:
                plan = action.plan(params, subject)
                with transaction.atomic():
                    action.perform(params, plan, RunContext(run.rule, run.event, subject, index, actor))
            except Exception as error:
                progress.error = f"actions[{index}] {spec['type']}: {type(error).__name__}: {error}"
                progress.log.append({"index": index, "type": spec["type"], "status": "failed", "error": progress.error})
                return progress
            progress.log.append(
                {
                    "index": index,
                    "type": spec["type"],
                    "status": "done",
                    "summary": plan.summary,
                    "recipients": plan.recipients,
                }
            )
    return progress


def resume_time(now: datetime, business_days: int) -> datetime:
    """The same local time of day, `business_days` working days on."""
    local = timezone.localtime(now)
    day = add_business_days(local.date(), business_days)
    return local + timedelta(days=(day - local.date()).days)


def _record_progress(run: RuleRun, progress: Progress) -> None:
    run.actions = [*run.actions, *progress.log]
    if progress.waiting_until is not None:
        run.status = RuleRunStatus.WAITING
        DelayedStep.objects.create(run=run, next_action=progress.next_action, resume_at=progress.waiting_until)
    elif not progress.error:
        run.status = RuleRunStatus.DONE
    run.save(update_fields=["actions", "status", "updated_at"])


# --- Delayed steps ------------------------------------------------------------------------------------


def resume_due_steps(*, now: datetime | None = None, limit: int = 200) -> int:
    """Take up the delayed steps that are due, each in its own transaction; returns how many."""
    now = now or timezone.now()
    due = list(
        DelayedStep.objects.filter(status=DelayedStepStatus.PENDING, resume_at__lte=now)
        .order_by("resume_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for step_id in due if resume_step(step_id=step_id))


def resume_step(*, step_id: int) -> DelayedStep | None:
    """Re-check the rule's conditions (as of the version that started the run, against today's data):
    if they still hold, go on with the next actions; if not, or the rule was switched off, cancel and
    log why. A failure rolls back this step's actions and is logged on the run."""
    with transaction.atomic():
        step = (
            DelayedStep.objects.select_for_update(skip_locked=True)
            .select_related("run__rule", "run__event")
            .filter(pk=step_id, status=DelayedStepStatus.PENDING)
            .first()
        )
        if step is None:
            return None
        run = step.run
        version = AutomationRuleVersion.objects.get(rule=run.rule, version=run.rule_version)
        subject = Subject.of(run.event)
        if not run.rule.active:
            return _cancel(step, "the rule was switched off while the step waited")
        matched, trace = evaluate(version.conditions, subject)
        run.trace = [*run.trace, {"path": "re-check", "at": timezone.now().isoformat(), "result": matched}, *trace]
        if not matched:
            return _cancel(step, "the conditions no longer hold")
        progress = Progress()
        try:
            with transaction.atomic():
                progress = perform_actions(
                    run, subject, start=step.next_action, chain=list(run.event.rule_chain), actions=version.actions
                )
                if progress.error:
                    raise RuleFailed(progress.error)
                _record_progress(run, progress)
        except Exception as error:
            run.actions = [*run.actions, *progress.log]
            run.status, run.error = RuleRunStatus.FAILED, str(error)
            run.save(update_fields=["actions", "status", "error", "trace", "updated_at"])
            return _close(step, DelayedStepStatus.RESUMED, f"failed: {error}"[:300])
        run.save(update_fields=["trace"])
        return _close(step, DelayedStepStatus.RESUMED, "conditions still held; went on")


def _close(step: DelayedStep, status: str, note: str) -> DelayedStep:
    step.status, step.resolved_at, step.note = status, timezone.now(), note[:300]
    step.save(update_fields=["status", "resolved_at", "note"])
    return step


def _cancel(step: DelayedStep, why: str, *, actor: User | None = None) -> DelayedStep:
    run = step.run
    note = f"cancelled by {actor.email}" if actor is not None else f"cancelled: {why}"
    run.status = RuleRunStatus.CANCELLED
    run.actions = [
        *run.actions,
        {"index": step.next_action, "type": "re-check", "status": "cancelled", "summary": note},
    ]
    run.save(update_fields=["status", "actions", "trace", "updated_at"])
    logger.info("automation.step_cancelled", rule_id=run.rule_id, event_id=run.event_id, why=note)
    return _close(step, DelayedStepStatus.CANCELLED, note)


@transaction.atomic
def cancel_delayed_step(*, step: DelayedStep, actor: User) -> DelayedStep | None:
    """Cancel a waiting step from the admin; a step already resumed or cancelled is left as it is."""
    step = (
        DelayedStep.objects.select_for_update()
        .select_related("run__rule", "run__event")
        .filter(pk=step.pk, status=DelayedStepStatus.PENDING)
        .first()
    )
    if step is None:
        return None
    return _cancel(step, "by hand", actor=actor)
