"""Portal, survey and report forms: plain validation of shape; the rules live in the services."""

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import AddressKind, Channel, ContactRole, InvoiceDelivery, NotificationType, PortalRole
from inventory.models import format_quantity
from orders.models import ReturnRequestReason
from otc.countries import COUNTRY_CHOICES
from service.models import DisputeReason, TicketCategory


class PreferencesForm(forms.Form):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, widget=forms.CheckboxSelectMultiple, required=False, label=_("How we may contact you")
    )
    opt_outs = forms.MultipleChoiceField(
        choices=NotificationType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Messages you do not want"),
    )
    invoice_delivery = forms.ChoiceField(choices=InvoiceDelivery.choices, label=_("Invoice delivery"))
    po_number_required = forms.BooleanField(required=False, label=_("Our orders always carry a PO number"))
    portal_mfa_required = forms.BooleanField(
        required=False, label=_("Our portal users must sign in with an authenticator app (two-factor)")
    )


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    email = forms.EmailField(label=_("Email"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    roles = forms.MultipleChoiceField(
        choices=ContactRole.choices, widget=forms.CheckboxSelectMultiple, required=False, label=_("Roles")
    )


class AddressForm(forms.Form):
    kind = forms.ChoiceField(choices=AddressKind.choices, label=_("Used for"))
    is_default = forms.BooleanField(required=False, label=_("The default for this use"))
    name = forms.CharField(max_length=200, required=False, label=_("Recipient (if not your company's name)"))
    line1 = forms.CharField(max_length=200, label=_("Street and number"))
    line2 = forms.CharField(max_length=200, required=False, label=_("Address line 2"))
    postal_code = forms.CharField(max_length=20, label=_("Postal code"))
    city = forms.CharField(max_length=100, label=_("City"))
    region = forms.CharField(max_length=100, required=False, label=_("Region"))
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, label=_("Country"))


class BankAccountRequestForm(forms.Form):
    holder_name = forms.CharField(max_length=200, label=_("Account holder"))
    iban = forms.CharField(max_length=42, label=_("IBAN"))
    bic = forms.CharField(max_length=11, required=False, label=_("BIC (optional)"))
    reason = forms.CharField(max_length=300, label=_("Why the change? (e.g. new bank)"))


class StatementPeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", _("The period ends before it starts."))
        return cleaned


class SurveyAnswerForm(forms.Form):
    """The survey's questions; NPS only when this survey asks it. Ranges are checked again by the service."""

    csat = forms.TypedChoiceField(
        coerce=int,
        choices=[(score, str(score)) for score in range(1, 6)],
        widget=forms.RadioSelect,
        label=_("How satisfied are you? (1 = very unsatisfied, 5 = very satisfied)"),
    )
    nps = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        choices=[(score, str(score)) for score in range(0, 11)],
        widget=forms.RadioSelect,
        label=_("How likely are you to recommend us to a colleague? (0 = not at all, 10 = extremely)"),
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000, label=_("Comment")
    )

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
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("From"))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("To"))

    def clean(self) -> dict:
        data = super().clean()
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - timedelta(days=90)
        if data["start"] > data["end"]:
            raise forms.ValidationError(_("The period starts after it ends."))
        return data


class InvitationAcceptanceForm(forms.Form):
    password = forms.CharField(
        label=_("Choose a password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("The password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class PortalInvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(max_length=200, required=False, label=_("Name"))
    roles = forms.MultipleChoiceField(choices=PortalRole.choices, widget=forms.CheckboxSelectMultiple, label=_("Roles"))


class CatalogueSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=_("Search by SKU or name"))


class CartAddForm(forms.Form):
    product = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.DecimalField(
        min_value=Decimal("0.001"), max_digits=12, decimal_places=3, initial=1, label=_("Quantity")
    )


class CheckoutForm(forms.Form):
    po_number = forms.CharField(max_length=40, required=False, label=_("Your PO number"))
    requested_delivery_date = forms.DateField(
        required=False, label=_("Requested delivery date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class CancelOrderForm(forms.Form):
    reason = forms.CharField(max_length=300, label=_("Why do you cancel?"))


class TicketForm(forms.Form):
    """A new request from the portal; `order` and `invoice` offer the customer's own documents only."""

    category = forms.ChoiceField(choices=TicketCategory.choices, label=_("Topic"))
    subject = forms.CharField(max_length=300, label=_("Subject"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label=_("Your message"))
    order = forms.ModelChoiceField(queryset=None, required=False, label=_("About an order"), to_field_name="number")
    invoice = forms.ModelChoiceField(queryset=None, required=False, label=_("About an invoice"), to_field_name="number")
    attachment = forms.FileField(required=False, label=_("Attachment"))

    def __init__(self, *args, orders, invoices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order"].queryset = orders
        self.fields["invoice"].queryset = invoices


class TicketReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label=_("Your reply"))
    attachment = forms.FileField(required=False, label=_("Attachment"))


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(choices=DisputeReason.choices, label=_("Reason"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label=_("What is wrong?"))
    lines = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label=_("Only these lines (optional)")
    )

    def __init__(self, *args, invoice_lines, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = invoice_lines
        self.fields["lines"].label_from_instance = lambda line: f"{line.line_no}. {line.description} ({line.sku})"


class PromiseForm(forms.Form):
    promised_date = forms.DateField(label=_("We will pay by"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=14, decimal_places=2, label=_("Amount"))
    note = forms.CharField(max_length=300, required=False, label=_("Note"))


class InvoiceChoiceForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple, label=_("Invoices"))

    def __init__(self, *args, invoices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = invoices
        self.fields["invoices"].label_from_instance = lambda invoice: (
            f"{invoice.number} · due {invoice.due_date:%Y-%m-%d} · {invoice.open_amount} {invoice.currency}"
        )


class ReturnRequestForm(forms.Form):
    """What to send back: a quantity per delivered line (0 keeps it), a reason, words, a photo."""

    reason = forms.ChoiceField(choices=ReturnRequestReason.choices, label=_("Why do you return the goods?"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000, label=_("What is wrong?")
    )
    photo = forms.FileField(required=False, label=_("A photo of the goods (PNG or JPEG, optional)"))

    def __init__(self, *args, lines, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.returnable > 0]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                label=f"{line.line_no}. {line.description} ({line.product.sku})",
                help_text=_("Up to %(quantity)s") % {"quantity": format_quantity(line.returnable)},
                min_value=Decimal("0"),
                max_digits=12,
                decimal_places=3,
                initial=Decimal("0"),
                required=False,
            )

    def lines_wanted(self) -> list[tuple]:
        """(order line, quantity) for each line given a quantity."""
        return [
            (line, self.cleaned_data[f"line_{line.pk}"])
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]
