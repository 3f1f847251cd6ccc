"""Which ticket attachments are accepted: not empty, within the size limit, and of an allowed type as
its bytes tell (otc.file_types), never by its name; and what a customer sends is kept within the
customer's storage quota, so no portal user or mail sender can fill the disk."""

from django.conf import settings
from django.db.models import Sum

from otc.file_types import sniff_content_type
from service.errors import AttachmentRefused
from service.models import TicketAttachment

_MB = 1024 * 1024


def checked_attachment(*, filename: str, content: bytes) -> str:
    """The attachment's content type, or AttachmentRefused saying why (empty, too large, not allowed)."""
    limit = settings.OTC_TICKET_ATTACHMENT_MAX_BYTES
    name = filename or "attachment"
    if not content:
        raise AttachmentRefused(f"{name} is empty.", fields={"attachments": [f"{name}: empty file."]})
    if len(content) > limit:
        raise AttachmentRefused(
            f"{name} is {len(content):,} bytes; at most {limit:,} are accepted.",
            fields={"attachments": [f"{name}: larger than {limit:,} bytes."]},
        )
    content_type = sniff_content_type(content, name)
    if content_type is None:
        raise AttachmentRefused(
            f"{name} is not a PDF, PNG, JPEG, GIF, text, CSV or XML file (judged by its content, not its name).",
            fields={"attachments": [f"{name}: file type not accepted."]},
        )
    return content_type


def check_customer_quota(*, customer_id: int | None, new_bytes: int) -> None:
    """AttachmentRefused when the files this customer's tickets hold would pass the quota. Staff files
    do not count against it and are not limited by it."""
    if customer_id is None or not new_bytes:
        return
    quota = settings.OTC_CUSTOMER_ATTACHMENT_QUOTA_BYTES
    stored = TicketAttachment.objects.filter(message__ticket__customer_id=customer_id).aggregate(total=Sum("size"))
    used = stored["total"] or 0
    if used + new_bytes > quota:
        raise AttachmentRefused(
            f"The files kept with this customer's tickets would pass the storage limit of {quota / _MB:.1f} MB "
            f"({used / _MB:.1f} MB used, {new_bytes / _MB:.1f} MB sent). Send the message without the files, "
            "or ask us for another way to send them.",
            fields={"attachments": [f"Storage limit of {quota / _MB:.1f} MB reached."]},
        )
