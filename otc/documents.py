"""Documents as PDF, for every app: figures formatted in the document's language, a Django template
rendered by WeasyPrint, and the rendered file kept once per document.

WeasyPrint fetches nothing from the network: images come as data URIs and the URL fetcher refuses
every other scheme. A document sent to a customer is rendered once and stored, so every later
download or email serves the bytes the customer first got.
"""

import hashlib
from collections.abc import Callable
from decimal import Decimal
from io import BytesIO
from typing import TypeVar

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.http import FileResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import number_format
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from otc.money import minor_units, quantize

Stored = TypeVar("Stored", bound=models.Model)


def amount(value: Decimal, currency: str) -> str:
    """An amount to the currency's minor unit, grouped the way the active language writes numbers."""
    return number_format(
        quantize(value, currency), decimal_pos=minor_units(currency), use_l10n=True, force_grouping=True
    )


def money(value: Decimal, currency: str) -> str:
    return f"{amount(value, currency)} {currency}"


def plain_number(value: Decimal) -> str:
    """A quantity or a percentage without trailing zeros: 12, 6.9, 2.5."""
    value = Decimal(value)
    return number_format(value.to_integral() if value == value.to_integral() else value.normalize(), use_l10n=True)


def html_to_pdf(html: str, *, pdf_variant: str | None = None) -> bytes:
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf(pdf_variant=pdf_variant)


def render_pdf(*, template: str, language: str, context: Callable[[], dict]) -> bytes:
    """The template as PDF in `language`; `context` is built inside the language, so the figures and
    labels it formats are the document's."""
    with translation.override(language):
        return html_to_pdf(render_to_string(template, context()))


def fill_file(document: models.Model, *, filename: str, content: bytes, content_type: str) -> None:
    """Write the file through the default storage and record what identifies it (the model has the
    fields file, filename, content_type, sha256 and size)."""
    document.filename = filename
    document.content_type = content_type
    document.sha256 = hashlib.sha256(content).hexdigest()
    document.size = len(content)
    document.file.save(filename, ContentFile(content), save=False)


def store_once(
    model: type[Stored],
    *,
    key: dict,
    content_type: str,
    render: Callable[[], tuple[str, bytes]],
    fields: dict | None = None,
) -> Stored:
    """The stored document identified by `key` (the fields a unique constraint holds), rendered and
    stored with `fields` the first time it is asked for. `render` returns the file name and content;
    it may raise to refuse, and nothing is stored.

    Two callers at once both render, but the unique constraint admits one row: the other removes its
    file and returns the winner's row.
    """
    stored = model.objects.filter(**key).first()
    if stored is not None:
        return stored
    filename, content = render()
    document = model(**key, **(fields or {}))
    fill_file(document, filename=filename, content=content, content_type=content_type)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        document.file.delete(save=False)
        return model.objects.get(**key)
    return document


def download(document: models.Model) -> FileResponse:
    """A stored document as the customer got it, as a download."""
    return FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.filename, content_type=document.content_type
    )


def pdf_download(*, filename: str, content: bytes) -> FileResponse:
    """A PDF rendered for this request only (a statement for a chosen period), as a download."""
    return FileResponse(BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf")
