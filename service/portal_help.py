"""The portal's help page: docs/portal-help.md, the customer-facing guide, rendered as HTML (raw HTML
in the file is not passed through)."""

from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

from service.portal_access import portal_view

HELP_FILE = settings.BASE_DIR / "docs" / "portal-help.md"


@lru_cache(maxsize=1)
def help_html() -> SafeString:
    """The guide as HTML; markdown-it escapes any HTML in the source, so the result is safe."""
    return mark_safe(MarkdownIt("commonmark", {"html": False}).enable("table").render(HELP_FILE.read_text()))  # noqa: S308


@portal_view()
def portal_help(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/help.html", {"guide": help_html()})
