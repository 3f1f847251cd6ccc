"""Admin forms for order entry and fulfilment. They collect input for orders.services (create_order,
dispatch_shipment, register_return, ...), which price, check and write; a form never saves an order."""

from decimal import Decimal

from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldAdminURLInputWidget,
)

from inventory.models import format_quantity
from orders.models import Order, OrderLine, ReturnCondition
from otc.admin import reason_field


class OrderEntryForm(forms.ModelForm):
    """The order header; prices, taxes and totals are the service's to compute."""

    class Meta:
        model = Order
        fields = [
            "customer",
            "currency",
            "po_number",
            "requested_delivery_date",
            "warehouse",
            "discount_percent",
            "notes",
        ]
        help_texts = {"currency": "Empty: the customer's default currency."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:
            currency = self.fields["currency"]
            currency.required = False
            currency.choices = [("", "The customer's default"), *[c for c in currency.choices if c[0]]]
            currency.initial = ""
        if "warehouse" in self.fields:
            self.fields["warehouse"].required = False
            self.fields["warehouse"].help_text = "Empty: the default warehouse."


class OrderLineEntryForm(forms.ModelForm):
    class Meta:
        model = OrderLine
        fields = ["product", "quantity", "discount_percent"]
        labels = {"discount_percent": "Line discount %"}
        help_texts = {"discount_percent": "Empty: the customer's agreed discount, if any. 0 overrides it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        discount = self.fields["discount_percent"]
        discount.required, discount.initial = False, None

    def _get_validation_exclusions(self):
        # Empty means "the customer's negotiated discount" (LineInput.discount_percent=None); create_order
        # checks the value, so the model's not-null rule does not apply to the form.
        return {*super()._get_validation_exclusions(), "discount_percent"}


class DraftLineForm(OrderLineEntryForm):
    """A line of a draft being changed. A price set by hand needs a reason and the permission to override
    prices; for whoever lacks it the two fields stay as they are (a kept override stays kept)."""

    unit_price_override = forms.DecimalField(
        label="Price set by hand",
        required=False,
        min_value=0,
        max_digits=19,
        decimal_places=4,
        help_text="Empty: the price the pricing rules give.",
        widget=UnfoldAdminDecimalFieldWidget,
    )
    override_reason = forms.CharField(
        label="Why this price", max_length=150, required=False, widget=UnfoldAdminTextInputWidget
    )
    may_override = False  # set per request by the inline

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        line = self.instance
        if line.pk is not None and line.price_overridden:
            self.fields["unit_price_override"].initial = line.unit_price
        if not self.may_override:
            for name in ("unit_price_override", "override_reason"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "Needs the permission to override prices."


def _quantity(label: str, initial, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_digits=14,
        decimal_places=3,
        required=False,
        initial=format_quantity(initial),
        help_text=help_text,
        widget=UnfoldAdminDecimalFieldWidget,
    )


class DispatchForm(forms.Form):
    """One quantity per open line (defaults: what is reserved), carrier and tracking."""

    carrier = forms.CharField(max_length=60, required=False, widget=UnfoldAdminTextInputWidget)
    tracking_number = forms.CharField(max_length=80, required=False, widget=UnfoldAdminTextInputWidget)
    tracking_url = forms.URLField(required=False, assume_scheme="https", widget=UnfoldAdminURLInputWidget)

    def __init__(self, *args, lines: list[OrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.quantity_open > 0]
        for line in self.lines:
            stocked = line.product.is_stocked
            default = line.quantity_reserved if stocked else line.quantity_open
            limit = "reserved" if stocked else "open"
            self.fields[f"line_{line.pk}"] = _quantity(
                f"Line {line.line_no}: {line.product.sku} {line.description}",
                default,
                f"{format_quantity(default)} {limit}, {format_quantity(line.quantity_open)} not yet shipped.",
            )

    def quantities(self) -> dict[int, Decimal]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }


class ReturnForm(forms.Form):
    """Goods that came back: a reason, the condition, and a quantity per shipped line."""

    reason = reason_field()
    condition = forms.ChoiceField(choices=ReturnCondition.choices, widget=UnfoldAdminSelectWidget)

    def __init__(self, *args, lines: list[OrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = [line for line in lines if line.quantity_shipped > line.quantity_returned]
        for line in self.lines:
            returnable = line.quantity_shipped - line.quantity_returned
            self.fields[f"line_{line.pk}"] = _quantity(
                f"Line {line.line_no}: {line.product.sku} {line.description}",
                Decimal("0"),
                f"{format_quantity(returnable)} shipped and not yet returned.",
            )

    def lines_returned(self) -> list[tuple[OrderLine, Decimal, str]]:
        condition = self.cleaned_data["condition"]
        return [
            (line, self.cleaned_data[f"line_{line.pk}"], condition)
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        ]


class ApproveReturnForm(forms.Form):
    """How the goods of an approved return request come back: resellable or damaged."""

    condition = forms.ChoiceField(
        choices=ReturnCondition.choices,
        initial=ReturnCondition.RESELLABLE,
        widget=UnfoldAdminSelectWidget,
        help_text="Resellable goods go back on hand when registered; damaged goods are written off.",
    )
