"""Saving rules: every save is checked whole (event type, condition tree, actions) and refused with
the path and field that are wrong; every change raises the version and keeps the rule as saved, with
who and when, in its history. Built-in rules keep their event type and handler: staff switch them off
or narrow them with conditions."""

from typing import Any

from django.db import transaction

from otc.audit import acting
from otc.errors import InvalidInput
from otc.events import catalogue
from otc.models import User
from workflows.models import AutomationRule, AutomationRuleVersion
from workflows.rules.actions import check_actions
from workflows.rules.conditions import check_conditions

EDITABLE = ["name", "description", "event_type", "conditions", "actions", "active"]
BUILTIN_EDITABLE = ["description", "conditions", "active"]


class RuleInvalid(InvalidInput):
    code = "automation_rule_invalid"
    title = "The automation rule is not valid."


def rule_problems(*, event_type: str, conditions: Any, actions: Any, builtin: bool = False) -> dict[str, list[str]]:
    """Every problem of a rule, by form field, each message naming its path."""
    if event_type not in catalogue():
        return {"event_type": [f'"{event_type}" is not an event type of the catalogue']}
    problems: dict[str, list[str]] = {}
    if conditions is not None and not isinstance(conditions, dict):
        problems["conditions"] = ["conditions: a condition tree is an object ({} for none)"]
    elif found := check_conditions(conditions or {}, event_type):
        problems["conditions"] = [str(problem) for problem in found]
    if builtin:
        if actions:
            problems["actions"] = ["actions: a built-in rule runs its fixed handler and takes no actions"]
    elif found := check_actions(actions, event_type):
        problems["actions"] = [f"{path}: {message}" for path, message in found]
    elif not actions:
        problems["actions"] = ["actions: a rule needs at least one action"]
    return problems


def _check(rule: AutomationRule) -> None:
    if not rule.name.strip():
        raise RuleInvalid("A rule needs a name.", fields={"name": ["This field is required."]})
    if AutomationRule.objects.filter(name=rule.name).exclude(pk=rule.pk).exists():
        raise RuleInvalid(f"A rule named {rule.name!r} exists already.", fields={"name": ["Choose another name."]})
    problems = rule_problems(
        event_type=rule.event_type, conditions=rule.conditions, actions=rule.actions, builtin=rule.is_builtin
    )
    if problems:
        summary = "; ".join(message for messages in problems.values() for message in messages)
        raise RuleInvalid(summary, fields=problems)


def _keep_version(rule: AutomationRule, actor: User | None) -> None:
    AutomationRuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        changed_by=actor,
        **{
            name: getattr(rule, name)
            for name in ["name", "description", "event_type", "conditions", "actions", "active"]
        },
    )


@transaction.atomic
def create_rule(
    *,
    name: str,
    event_type: str,
    actions: list[dict],
    actor: User,
    conditions: dict | None = None,
    description: str = "",
    active: bool = False,
) -> AutomationRule:
    """A new rule at version 1 (off unless `active`: try it with a dry run first)."""
    rule = AutomationRule(
        name=name.strip(),
        description=description.strip(),
        event_type=event_type,
        conditions=conditions or {},
        actions=actions,
        active=active,
        created_by=actor,
        updated_by=actor,
    )
    _check(rule)
    with acting(actor, "automation rule created"):
        rule.save()
        _keep_version(rule, actor)
    return rule


@transaction.atomic
def update_rule(*, rule: AutomationRule, actor: User, data: dict[str, Any]) -> AutomationRule:
    """Change what `data` changes; a change raises the version and is kept in the history. Returns the
    rule (unchanged, same version, when nothing changed)."""
    rule = AutomationRule.objects.select_for_update().get(pk=rule.pk)
    editable = BUILTIN_EDITABLE if rule.is_builtin else EDITABLE
    refused = sorted(name for name in data if name not in editable and data[name] != getattr(rule, name, None))
    if refused:
        raise RuleInvalid(
            f"{', '.join(refused)} of a built-in rule cannot change."
            if rule.is_builtin
            else f"Unknown: {', '.join(refused)}",
            fields={name: ["This cannot change."] for name in refused},
        )
    changed = [name for name in editable if name in data and data[name] != getattr(rule, name)]
    if not changed:
        return rule
    for name in changed:
        setattr(rule, name, data[name].strip() if isinstance(data[name], str) else data[name])
    if "conditions" in changed and rule.conditions is None:
        rule.conditions = {}
    _check(rule)
    rule.version += 1
    rule.updated_by = actor
    with acting(actor, f"automation rule changed: {', '.join(changed)}"):
        rule.save()
        _keep_version(rule, actor)
    return rule


def switch_rule(*, rule: AutomationRule, active: bool, actor: User) -> AutomationRule:
    """Switch a rule on or off (a new version, like any change)."""
    return update_rule(rule=rule, actor=actor, data={"active": active})
