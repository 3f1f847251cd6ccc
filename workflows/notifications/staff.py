"""Staff members' quiet hours and daily digest. A staff email queued during the recipient's quiet
hours waits until they end; a digest user's emails are held and sent as one email a day, each held
notification in exactly one digest. Customers' emails are never held."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from django.conf import settings
from django.db import transaction

from otc.models import User
from workflows.models import Delivery, DeliveryChannel, DeliveryStatus, StaffDigest, StaffNotificationSettings
from workflows.notifications.templates import compose_email

logger = structlog.get_logger(__name__)
DIGEST_HANDLER = "staff_digest"


def staff_settings(address: str) -> StaffNotificationSettings | None:
    """The settings of the active staff member with this email address, if they made any."""
    return (
        StaffNotificationSettings.objects.select_related("user")
        .filter(user__email=address.strip().lower(), user__is_staff=True, user__is_active=True)
        .first()
    )


def quiet_hours_end(row: StaffNotificationSettings, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (an aware datetime), or None outside them."""
    if row.quiet_hours_start is None or row.quiet_hours_end is None:
        return None
    zone = ZoneInfo(row.time_zone)
    local = now.astimezone(zone)
    start, end, clock = row.quiet_hours_start, row.quiet_hours_end, local.time()
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=zone)
    return ends if ends > local else ends + timedelta(days=1)


def staff_schedule(address: str, now: datetime) -> tuple[str, datetime | None]:
    """The status and earliest send time a new email to this address gets: held for the digest,
    delayed to the end of quiet hours, or pending now."""
    row = staff_settings(address)
    if row is None:
        return DeliveryStatus.PENDING, None
    if row.daily_digest:
        return DeliveryStatus.HELD, None
    return DeliveryStatus.PENDING, quiet_hours_end(row, now)


def digest_day(row: StaffNotificationSettings, now: datetime) -> date | None:
    """The user's local day whose digest is due at `now` (from OTC_STAFF_DIGEST_HOUR local time), or None."""
    local = now.astimezone(ZoneInfo(row.time_zone))
    return local.date() if local.time() >= time(settings.OTC_STAFF_DIGEST_HOUR) else None


@transaction.atomic
def send_staff_digest(*, user: User, day: date) -> Delivery | None:
    """Gather the user's held notifications into one digest email for `day`; returns the queued email,
    or None when nothing is held or the day's digest exists. Locks the held rows, so a notification is
    in one digest only; the digest is sent after commit by the caller."""
    if StaffDigest.objects.filter(user=user, day=day).exists():
        return None
    items = list(
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(recipient__iexact=user.email, status=DeliveryStatus.HELD)
        .order_by("created_at")
    )
    if not items:
        return None
    wording, data = compose_email(
        key="staff_digest",
        context={
            "user": user,
            "day": day,
            "items": [
                {"subject": item.subject, "body_text": item.body_text, "created_at": item.created_at} for item in items
            ],
        },
        language=settings.LANGUAGE_CODE,
    )
    delivery = Delivery.objects.create(
        event=None,
        handler=DIGEST_HANDLER,
        channel=DeliveryChannel.EMAIL,
        recipient=user.email,
        subject=wording.subject,
        body_text=wording.body_text,
        body_html=wording.body_html,
        template_key="staff_digest",
        template=wording.template,
        template_version=wording.version,
        language=settings.LANGUAGE_CODE,
        context=data,
    )
    digest = StaffDigest.objects.create(user=user, day=day, delivery=delivery)
    Delivery.objects.filter(pk__in=[item.pk for item in items]).update(status=DeliveryStatus.DIGESTED, digest=digest)
    logger.info("staff_digest.queued", user_id=user.pk, day=str(day), items=len(items))
    return delivery


def digests_due(*, now: datetime) -> list[tuple[User, date]]:
    """Digest users with held notifications whose digest hour has come today and who have no digest yet."""
    held = Delivery.objects.filter(status=DeliveryStatus.HELD).values_list("recipient", flat=True).distinct()
    rows = StaffNotificationSettings.objects.select_related("user").filter(
        daily_digest=True, user__is_active=True, user__email__in=[address.lower() for address in held]
    )
    due = []
    for row in rows:
        day = digest_day(row, now)
        if day is not None and not StaffDigest.objects.filter(user=row.user, day=day).exists():
            due.append((row.user, day))
    return due
