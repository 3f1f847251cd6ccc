"""Admin helpers shared by the payments sub-domains' admin modules."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from unfold.widgets import UnfoldAdminDecimalFieldWidget

from customers.models import Customer
from payments.models import Payment


def autofocus_first_field(form: forms.BaseForm) -> None:
    """Form pages are typed through: the cursor starts in the first field."""
    first = next(iter(form.fields.values()), None)
    if first is not None:
        first.widget.attrs["autofocus"] = True


def customer_field(**kwargs) -> forms.ModelChoiceField:
    """A customer, searched as the payment page searches them (there may be many)."""
    return forms.ModelChoiceField(
        queryset=Customer.objects.all(),
        widget=AutocompleteSelect(Payment._meta.get_field("customer"), admin.site),
        **kwargs,
    )


def amount_field(label: str, help_text: str = "", **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=19,
        decimal_places=4,
        help_text=help_text,
        widget=UnfoldAdminDecimalFieldWidget,
        **kwargs,
    )
