"""Which words a notification goes out with: the active staff template for its key, channel and
language, else the same key's staff template in the default language, else (email only) the files in
templates/emails. Saving a template checks it against the variables real notifications of its key
carried, and keeps every version; a preview renders a draft against a real past notification."""

from dataclasses import dataclass, field
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from jinja2 import TemplateError

from otc.audit import acting
from otc.models import User
from workflows.errors import NotificationTemplateInvalid
from workflows.models import (
    Delivery,
    NotificationChannel,
    NotificationTemplate,
    NotificationTemplateVersion,
)
from workflows.notifications import sandbox

logger = structlog.get_logger(__name__)
SAMPLES_FOR_VARIABLES = 20
"""How many recent notifications of a key are merged into the variables its templates may use."""


@dataclass(frozen=True)
class Wording:
    """A notification's words, and the staff template (and version) that gave them, if any."""

    subject: str
    body_text: str
    body_html: str = ""
    template: NotificationTemplate | None = None

    @property
    def version(self) -> int | None:
        return self.template.version if self.template else None


def staff_templates(*, key: str, language: str) -> dict[str, NotificationTemplate]:
    """The active staff template per channel for a key: the language's own, else the default language's."""
    found: dict[str, NotificationTemplate] = {}
    candidates = NotificationTemplate.objects.filter(
        key=key, is_active=True, language__in={language, settings.LANGUAGE_CODE}
    )
    for template in sorted(candidates, key=lambda candidate: candidate.language != language):
        found.setdefault(template.channel, template)
    return found


def _render_staff(template: NotificationTemplate, data: dict[str, Any]) -> Wording:
    return Wording(
        subject=" ".join(sandbox.render(template.subject, data).split()),
        body_text=sandbox.render(template.body_text, data),
        body_html=sandbox.render(template.body_html, data, html=True) if template.body_html else "",
        template=template,
    )


def word_email(
    *, key: str, context: dict[str, Any], data: dict[str, Any], template: NotificationTemplate | None
) -> Wording:
    """The email's words: the staff template over the plain `data`, or the files over `context` (call
    under the notice's language). A staff template that fails at render time falls back to the files,
    logged, so a notification is never lost to a wording mistake."""
    if template is not None:
        try:
            return _render_staff(template, data)
        except TemplateError as error:
            logger.warning("notification_template.render_failed", template_id=template.pk, error=str(error))
    return Wording(
        subject=" ".join(render_to_string(f"emails/{key}.subject.txt", context).split()),
        body_text=render_to_string(f"emails/{key}.txt", context),
        body_html=render_to_string(f"emails/{key}.html", context),
    )


def compose_email(*, key: str, context: dict[str, Any], language: str) -> tuple[Wording, dict[str, Any]]:
    """The email's words in `language` and the plain data they were made from (kept on the Delivery)."""
    with translation.override(language):
        context = {**context, "base_url": settings.OTC_BASE_URL}
        data = sandbox.plain_context(context)
        template = staff_templates(key=key, language=language).get(NotificationChannel.EMAIL)
        return word_email(key=key, context=context, data=data, template=template), data


def word_sms(*, template: NotificationTemplate, data: dict[str, Any]) -> Wording | None:
    """The SMS text from its staff template, or None (logged) if it cannot be rendered."""
    try:
        return Wording(subject="", body_text=sandbox.render(template.body_text, data).strip(), template=template)
    except TemplateError as error:
        logger.warning("notification_template.render_failed", template_id=template.pk, error=str(error))
        return None


def template_variables(*, key: str) -> dict[str, Any] | None:
    """The variables real notifications of this key carried (merged over the latest few), or None when
    none has been sent yet."""
    samples = list(
        Delivery.objects.filter(template_key=key)
        .exclude(context={})
        .order_by("-created_at")
        .values_list("context", flat=True)[:SAMPLES_FOR_VARIABLES]
    )
    return sandbox.variables_schema(samples) if samples else None


def _parts(template: NotificationTemplate) -> dict[str, str]:
    if template.channel == NotificationChannel.SMS:
        return {"body_text": template.body_text}
    return {"subject": template.subject, "body_text": template.body_text, "body_html": template.body_html}


def check_notification_template(*, template: NotificationTemplate) -> None:
    """Refuse a template with a syntax error, an unknown variable or unsafe access (NotificationTemplateInvalid)."""
    if template.channel == NotificationChannel.SMS and (template.subject or template.body_html):
        raise NotificationTemplateInvalid(
            "An SMS is plain text: leave the subject and the HTML body empty.",
            fields={"subject": ["Not used for SMS."]} if template.subject else {"body_html": ["Not used for SMS."]},
        )
    if template.channel == NotificationChannel.EMAIL and not template.subject.strip():
        raise NotificationTemplateInvalid(
            "An email needs a subject.", fields={"subject": ["An email needs a subject."]}
        )
    sandbox.check_template(_parts(template), schema=template_variables(key=template.key))


@transaction.atomic
def save_notification_template(*, template: NotificationTemplate, actor: User) -> NotificationTemplate:
    """Check and save a template as its next version, keeping the version's text, author and time."""
    check_notification_template(template=template)
    if template.pk is not None:
        template.version = NotificationTemplate.objects.select_for_update().get(pk=template.pk).version + 1
    else:
        template.version = 1
    template.updated_by = actor
    template.full_clean()
    with acting(actor, "save notification template"):
        template.save()
    NotificationTemplateVersion.objects.create(
        template=template,
        version=template.version,
        subject=template.subject,
        body_text=template.body_text,
        body_html=template.body_html,
        is_active=template.is_active,
        saved_by=actor,
    )
    logger.info("notification_template.saved", template_id=template.pk, version=template.version, actor_id=actor.pk)
    return template


@dataclass
class Preview:
    """A draft rendered against a real past notification (`source`), or why it could not be."""

    source: Delivery | None
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    problems: list[str] = field(default_factory=list)


def preview_sources(*, key: str, language: str, limit: int = 10) -> list[Delivery]:
    """Recent notifications of this key to preview against, those in the template's language first."""
    recent = list(
        Delivery.objects.filter(template_key=key, event__isnull=False)
        .exclude(context={})
        .select_related("event")
        .order_by("-created_at")[: limit * 3]
    )
    in_language = [delivery for delivery in recent if delivery.language == language]
    others = [delivery for delivery in recent if delivery not in in_language]
    return (in_language + others)[:limit]


def preview_notification_template(*, template: NotificationTemplate, source: Delivery | None = None) -> Preview:
    """Render an unsaved draft against a real notification of its key; writes nothing."""
    if source is None:
        sources = preview_sources(key=template.key, language=template.language, limit=1)
        source = sources[0] if sources else None
    if source is None:
        return Preview(None, problems=[f"No {template.key} notification has been sent yet to preview against."])
    try:
        check_notification_template(template=template)
    except NotificationTemplateInvalid as error:
        return Preview(
            source, problems=[f"{name}: {problem}" for name, found in error.fields.items() for problem in found]
        )
    try:
        wording = _render_staff(template, source.context)
    except TemplateError as error:
        return Preview(source, problems=[str(error)])
    return Preview(source, wording.subject, wording.body_text, wording.body_html)
