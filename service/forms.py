"""Portal, survey and report forms: plain validation of shape; the rules live in the services."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from customers.models import Channel, ContactRole, InvoiceDelivery, NotificationType


class PreferencesForm(forms.Form):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, widget=forms.CheckboxSelectMultiple, required=False, label="How we may contact you"
    )
    opt_outs = forms.MultipleChoiceField(
        choices=NotificationType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Messages you do not want",
    )
    invoice_delivery = forms.ChoiceField(choices=InvoiceDelivery.choices, label="Invoice delivery")
    po_number_required = forms.BooleanField(required=False, label="Our orders always carry a PO number")


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField()
    phone = forms.CharField(max_length=40, required=False)
    roles = forms.MultipleChoiceField(choices=ContactRole.choices, widget=forms.CheckboxSelectMultiple, required=False)


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", "The period ends before it starts.")
        return cleaned


class SurveyAnswerForm(forms.Form):
    """The survey's questions; NPS only when this survey asks it. Ranges are checked again by the service."""

    csat = forms.TypedChoiceField(
        coerce=int,
        choices=[(score, str(score)) for score in range(1, 6)],
        widget=forms.RadioSelect,
        label="How satisfied are you? (1 = very unsatisfied, 5 = very satisfied)",
    )
    nps = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        choices=[(score, str(score)) for score in range(0, 11)],
        widget=forms.RadioSelect,
        label="How likely are you to recommend us to a colleague? (0 = not at all, 10 = extremely)",
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000)

    def __init__(self, *args, asks_nps: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not asks_nps:
            del self.fields["nps"]


class SurveyResultsForm(forms.Form):
    """Which survey results to show: grouped by what, over which days (default: the last 90)."""

    by = forms.ChoiceField(
        choices=[
            ("agent", "Agent"),
            ("team", "Team"),
            ("category", "Category"),
            ("customer", "Customer"),
            ("month", "Month"),
        ],
        initial="agent",
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - timedelta(days=90)
        if data["start"] > data["end"]:
            raise forms.ValidationError("The period starts after it ends.")
        return data
