"""What a ticket attachment is, told by its first bytes, never by its name: a PDF named .pdf that
starts with "MZ" is a Windows program and is refused."""

from django.conf import settings

from service.errors import AttachmentRefused

SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
UTF8_BOM = b"\xef\xbb\xbf"
TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}


def sniff_content_type(content: bytes, filename: str) -> str | None:
    """The allowed type the bytes are, or None. Text is UTF-8 without control characters; it is XML
    when it starts with an XML declaration, CSV when text and named .csv, else plain text."""
    for signature, content_type in SIGNATURES:
        if content.startswith(signature):
            return content_type
    text = content.removeprefix(UTF8_BOM)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(char) in TEXT_CONTROLS for char in decoded):
        return None
    if decoded.lstrip().startswith("<?xml"):
        return "application/xml"
    return "text/csv" if filename.lower().endswith(".csv") else "text/plain"


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
