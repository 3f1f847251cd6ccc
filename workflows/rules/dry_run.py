"""What a rule (saved, or a draft not yet saved) would have done over the last days' events of its
type: which matched, each action's plan and recipients, resolved the same way the live run resolves
them, with nothing done or queued. Actions after a wait are shown as what follows if the conditions
still hold at the re-check."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from workflows.models import OutboxEvent
from workflows.rules.actions import ACTIONS, ActionUnresolvable, params_of
from workflows.rules.conditions import evaluate
from workflows.rules.fields import Subject

DRY_RUN_DAYS = 30
DRY_RUN_LIMIT = 2000


@dataclass(frozen=True)
class PlannedAction:
    index: int
    type: str
    summary: str
    recipients: list[str] = field(default_factory=list)
    error: str = ""
    after_wait: bool = False


@dataclass(frozen=True)
class DryRunMatch:
    event: OutboxEvent
    trace: list[dict]
    actions: list[PlannedAction]


@dataclass(frozen=True)
class DryRunReport:
    event_type: str
    days: int
    examined: int
    matches: list[DryRunMatch]
    loop_skipped: int = 0
    truncated: bool = False


def dry_run(
    *,
    event_type: str,
    conditions: dict,
    actions: list[dict],
    rule_id: int | None = None,
    days: int = DRY_RUN_DAYS,
    limit: int = DRY_RUN_LIMIT,
) -> DryRunReport:
    """Evaluate a checked rule over the events of `event_type` recorded in the last `days` days (the
    newest `limit`). Events the rule's own actions caused are left out, as the live run leaves them."""
    since = timezone.now() - timedelta(days=days)
    events = list(
        OutboxEvent.objects.filter(event_type=event_type, created_at__gte=since).order_by("-created_at")[: limit + 1]
    )
    truncated = len(events) > limit
    matches, loop_skipped = [], 0
    for event in events[:limit]:
        if rule_id is not None and rule_id in event.rule_chain:
            loop_skipped += 1
            continue
        subject = Subject.of(event)
        matched, trace = evaluate(conditions, subject)
        if matched:
            matches.append(DryRunMatch(event, trace, plan_actions(actions, subject)))
    return DryRunReport(event_type, days, len(events[:limit]), matches, loop_skipped, truncated)


def plan_actions(actions: list[dict[str, Any]], subject: Subject) -> list[PlannedAction]:
    planned, after_wait = [], False
    for index, spec in enumerate(actions):
        action = ACTIONS[spec["type"]]
        try:
            plan = action.plan(params_of(spec), subject)
        except ActionUnresolvable as error:
            planned.append(PlannedAction(index, spec["type"], "would fail", error=str(error), after_wait=after_wait))
        else:
            planned.append(PlannedAction(index, spec["type"], plan.summary, plan.recipients, after_wait=after_wait))
        after_wait = after_wait or spec["type"] == "wait"
    return planned
