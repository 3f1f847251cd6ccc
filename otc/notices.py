"""What an app decides to tell people about an event, as plain data. The owning app decides who
receives what (and whether anything is sent); workflows, at the top, queues the emails through the
outbox. Lower apps cannot call workflows, so they return notices instead of sending."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Notice:
    """One email to each of `recipients`, rendered from templates/emails/<template>.subject.txt, .txt
    and .html with `context` in `language`; the subject is the template's. `attachments` are stored
    documents; `headers` are extra email headers (Message-ID, In-Reply-To). Each recipient gets it at
    most once per event and handler: that is the outbox's idempotency key."""

    recipients: Sequence[str]
    template: str
    context: dict[str, Any]
    language: str = "en"
    attachments: Sequence[models.Model] = ()
    headers: dict[str, str] = field(default_factory=dict)
