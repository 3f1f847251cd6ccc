"""The portal's help page: the customer-facing guide in the customer's language (docs/portal-help.md,
portal-help.de.md, portal-help.fr.md), rendered as HTML (raw HTML in the files is not passed through)."""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from markdown_it import MarkdownIt

from service.portal_access import portal_view

DOCS = settings.BASE_DIR / "docs"


def help_file(language: str) -> Path:
    """The guide in `language`, or in English when there is none."""
    translated = DOCS / f"portal-help.{language}.md"
    return translated if translated.exists() else DOCS / "portal-help.md"


@lru_cache(maxsize=8)
def help_html(language: str) -> SafeString:
    """The guide as HTML; markdown-it escapes any HTML in the source, so the result is safe."""
    source = help_file(language).read_text()
    return mark_safe(MarkdownIt("commonmark", {"html": False}).enable("table").render(source))  # noqa: S308


@portal_view()
def portal_help(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/help.html", {"guide": help_html(get_language())})
