"""What an uploaded file is, told by its first bytes, never by its name: a PDF named .pdf that
starts with "MZ" is a Windows program. Ticket attachments and return photos are judged here."""

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
