"""The public survey page: opened from the link in the email or the portal, without signing in. The
signed token is the only key; a reused, expired or changed link gets a clear page and changes nothing."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from otc.errors import DomainError
from otc.forms import apply_domain_error
from service import services
from service.errors import SurveyAlreadyAnswered
from service.forms import SurveyAnswerForm


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        survey = services.survey_from_token(token)
        if survey.answered_at is not None:
            raise SurveyAlreadyAnswered("This survey was answered already.")
    except DomainError as error:
        return render(request, "portal/survey_refused.html", {"error": error}, status=error.status)
    form = SurveyAnswerForm(request.POST or None, asks_nps=survey.asks_nps)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_survey(token=token, **form.cleaned_data)
        except DomainError as error:
            if not error.fields:
                return render(request, "portal/survey_refused.html", {"error": error}, status=error.status)
            apply_domain_error(form, error)
        else:
            return render(request, "portal/survey_thanks.html", {"survey": survey})
    return render(request, "portal/survey.html", {"survey": survey, "form": form})
