"""Which ticket attachments are accepted: not empty, within the size limit, and of an allowed type as
its bytes tell (otc.file_types), never by its name."""

from django.conf import settings

from otc.file_types import sniff_content_type
from service.errors import AttachmentRefused


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
