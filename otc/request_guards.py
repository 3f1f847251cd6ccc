"""Requests a browser or a partner system never sends are refused at the door with a clear 400.

A NUL character (`%00`) in the path, the query string or a submitted form cannot be stored in
PostgreSQL text; before this guard it reached filters, searches and lookups and ended as a server error.
API bodies need no guard here: DRF's character fields refuse NUL themselves (422).
"""

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.shortcuts import render

from otc.api.problems import problem_page

# The form fields of both (multipart files are bytes and not looked at); the body is bounded by then.
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refusal(request: HttpRequest, *, status: int, code: str, title: str, detail: str) -> HttpResponse:
    """problem+json under /api/, a short plain text for pages (the admin, the portal)."""
    if request.path.startswith("/api/"):
        return problem_page(request, status=status, code=code, title=title, detail=detail)
    return HttpResponse(f"{title} {detail}\n", status=status, content_type="text/plain; charset=utf-8")


def nul_character_in(request: HttpRequest) -> str | None:
    """Where the request carries a NUL character, or None."""
    if "\x00" in request.path_info:
        return "the path"
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
        return "the query string"
    content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    # The API parses its own bodies (reading a form here would hide a wrong content type from DRF's 415),
    # and its character fields refuse NUL.
    if request.method != "POST" or content_type not in FORM_CONTENT_TYPES or request.path.startswith("/api/"):
        return None
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()):
        return "the submitted form"
    return None


class NulCharacterMiddleware:
    """400 for a NUL character in the path, query string or a submitted form."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = nul_character_in(request)
        if where is not None:
            return refusal(
                request,
                status=400,
                code="malformed_request",
                title="Malformed request.",
                detail=f"{where.capitalize()} contains a NUL character (%00), which no field accepts.",
            )
        return self.get_response(request)


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that an API path without its trailing slash is not redirected: a redirected POST
    loses its body and a partner system should call the documented URL, so it gets a 404 problem naming it
    (otc.api.problems.not_found)."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        return not request.path_info.startswith("/api/") and super().should_redirect_with_slash(request)


class WrongDoorMiddleware:
    """A signed-in user at the other kind of user's door gets a page saying where to go (403), never a
    redirect: a portal user at /admin/ would otherwise bounce between the admin's and allauth's sign-in
    pages, and a member of staff at /portal/ would meet a bare 404."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if request.path_info.startswith("/admin/") and not user.is_staff:
                return render(request, "wrong_door.html", {"staff": False}, status=403)
            if request.path_info.startswith("/portal/") and user.is_staff:
                return render(request, "wrong_door.html", {"staff": True}, status=403)
        return self.get_response(request)
