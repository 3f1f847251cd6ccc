"""Admin forms for customer data. They collect and shape input for the services in
customers.services, which validate it again and write; a form never saves a model itself."""

from django import forms
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

from customers.models import (
    Address,
    ChangeRequestKind,
    Channel,
    Contact,
    ContactRole,
    CreditProfile,
    Customer,
    NotificationType,
    PortalRole,
    Preferences,
)
from customers.services import CUSTOMER_FIELDS, PREFERENCE_FIELDS
from otc.admin import reason_field
from otc.money import CURRENCY_CHOICES


class CustomerForm(forms.ModelForm):
    """Master data of a customer; create_customer / update_customer do the saving."""

    confirm_duplicate = forms.BooleanField(
        label="Create anyway (confirm duplicate)",
        required=False,
        widget=UnfoldBooleanWidget,
        help_text="Tick only after checking that the customers listed above are really different companies.",
    )

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS)


class ContactInlineForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        choices=ContactRole.choices, required=False, widget=UnfoldAdminCheckboxSelectMultipleWidget
    )

    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "mobile", "sms_opt_in", "roles", "is_active"]


class AddressInlineForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ["kind", "is_default", "name", "line1", "line2", "postal_code", "city", "region", "country"]

    def _get_validation_exclusions(self):
        # A new default address replaces the old default: add_address/update_address demote it in
        # the same transaction, so the one-default-per-kind constraint is the service's to check.
        return {*super()._get_validation_exclusions(), "is_default"}


class PreferencesInlineForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, required=False, widget=UnfoldAdminCheckboxSelectMultipleWidget
    )
    opt_outs = forms.MultipleChoiceField(
        label="Opted out of",
        choices=NotificationType.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
    )

    class Meta:
        model = Preferences
        fields = list(PREFERENCE_FIELDS)


class CreditProfileInlineForm(forms.ModelForm):
    """Only risk class and review date are edited here; the limit changes through a change request."""

    class Meta:
        model = CreditProfile
        fields = ["risk_class", "review_date"]


def _text(**kwargs) -> forms.CharField:
    return forms.CharField(widget=UnfoldAdminTextInputWidget, **kwargs)


class CreditLimitChangeForm(forms.Form):
    credit_limit = forms.DecimalField(
        label="New credit limit", min_value=0, max_digits=19, decimal_places=4, widget=UnfoldAdminDecimalFieldWidget
    )
    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, widget=UnfoldAdminSelectWidget)
    reason = reason_field(max_length=500)


class BankAccountRequestForm(forms.Form):
    holder_name = _text(label="Account holder", max_length=200)
    iban = _text(label="IBAN", max_length=42)
    bic = _text(label="BIC", max_length=11, required=False)
    reason = reason_field(max_length=500)


class DecisionForm(forms.Form):
    """Approve (note optional) or reject (note required) a change request."""

    note = reason_field("Note", required=False, max_length=500)

    def __init__(self, *args, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required


class ChangeRequestStartForm(forms.Form):
    """The change request add page: pick the customer and what to change, then fill in the request."""

    customer_number = _text(label="Customer number", max_length=20, help_text="For example C001001.")
    kind = forms.ChoiceField(
        label="Change",
        choices=[
            (ChangeRequestKind.CREDIT_LIMIT, "Credit limit"),
            (ChangeRequestKind.BANK_ACCOUNT_ADD, "Add a bank account"),
        ],
        widget=UnfoldAdminSelectWidget,
    )

    def clean_customer_number(self) -> Customer:
        number = self.cleaned_data["customer_number"].strip().upper()
        customer = Customer.objects.filter(number=number).first()
        if customer is None:
            raise forms.ValidationError(f"No customer has the number {number}.")
        return customer


def _portal_roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=PortalRole.choices, widget=UnfoldAdminCheckboxSelectMultipleWidget, label="Portal roles"
    )


class PortalInvitationForm(forms.Form):
    email = forms.EmailField(widget=UnfoldAdminTextInputWidget)
    full_name = forms.CharField(max_length=200, required=False, widget=UnfoldAdminTextInputWidget)
    roles = _portal_roles_field()


class PortalRolesForm(forms.Form):
    roles = _portal_roles_field()
