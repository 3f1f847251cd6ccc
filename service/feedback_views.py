"""The "did this help?" page an automated answer links to. No sign-in: the signed link is the
credential. Opening it only asks; the POST records, so a mail scanner following links records nothing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from otc.errors import DomainError
from service.services.answers import check_feedback_token, record_answer_feedback

TEMPLATE = "portal/answer_feedback.html"


@require_http_methods(["GET", "POST"])
def answer_feedback(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            record_answer_feedback(token=token)
            return render(request, TEMPLATE, {"done": "Thank you, your answer is recorded."})
        row, helpful = check_feedback_token(token)
    except DomainError as error:
        return render(request, TEMPLATE, {"error": str(error)}, status=error.status)
    return render(request, TEMPLATE, {"ticket_number": row.ticket.number, "helpful": helpful})
