"""Refusing a request at the door: the one answer shape for middleware, problem+json under /api/."""

from django.http import HttpRequest, HttpResponse

from otc.api.problems import problem_page


def refusal(request: HttpRequest, *, status: int, code: str, title: str, detail: str) -> HttpResponse:
    """problem+json under /api/, a short plain text for pages (the admin, the portal)."""
    if request.path.startswith("/api/"):
        return problem_page(request, status=status, code=code, title=title, detail=detail)
    return HttpResponse(f"{title} {detail}\n", status=status, content_type="text/plain; charset=utf-8")
