"""Follow-up tasks: created for a person with a due date, marked done once."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from otc.audit import acting
from otc.errors import InvalidInput
from otc.models import User
from service.errors import FollowUpAlreadyDone
from service.models import FollowUpTask


@transaction.atomic
def create_follow_up(
    *,
    title: str,
    assignee: User,
    due_on: date,
    actor: User,
    customer: Customer | None = None,
    note: str = "",
    source: str = "",
) -> FollowUpTask:
    """A dated to-do for `assignee` (an active staff member), shown in their "my follow-ups"."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput("A follow-up needs a title.", fields={"title": ["This field is required."]})
    if not (assignee.is_active and assignee.is_staff):
        raise InvalidInput(
            f"{assignee} is not an active staff member.", fields={"assignee": ["Choose an active staff member."]}
        )
    with acting(actor, "follow-up created"):
        return FollowUpTask.objects.create(
            customer=customer,
            title=title[:200],
            note=note.strip(),
            assignee=assignee,
            due_on=due_on,
            source=source[:60],
            created_by=actor,
        )


@transaction.atomic
def complete_follow_up(*, task: FollowUpTask, actor: User) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if task.is_done:
        raise FollowUpAlreadyDone(f"{task} was done on {task.done_at:%Y-%m-%d}.")
    with acting(actor, "follow-up done"):
        task.done_at, task.done_by = timezone.now(), actor
        task.save(update_fields=["done_at", "done_by"])
    return task
