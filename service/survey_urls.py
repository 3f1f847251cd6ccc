from django.urls import path

from service import survey_views

urlpatterns = [
    path("<str:token>/", survey_views.answer, name="survey-answer"),
]
