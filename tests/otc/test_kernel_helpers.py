"""The kernel's shared pieces: one decimal parser, one domain-error-to-form mapping, one adopt step."""

from decimal import Decimal as D

import pytest
from django import forms

from otc.errors import InvalidInput
from otc.forms import adopt_saved_row, apply_domain_error
from otc.models import User
from otc.money import parse_decimal


@pytest.mark.parametrize(
    ("value", "rules", "reason"),
    [
        ("12,50", {}, "'12,50' is not a decimal amount"),
        ("", {}, "'' is not a decimal amount"),
        (None, {}, "'None' is not a decimal amount"),
        ("NaN", {}, "'NaN' is not a decimal amount"),
        ("Infinity", {}, "'Infinity' is not a decimal amount"),
        ("99.991", {"currency": "EUR"}, "99.991 has more decimals than EUR allows"),
        ("1.5", {"currency": "JPY"}, "1.5 has more decimals than JPY allows"),
        ("0", {"low": D("0.01")}, "must be at least 0.01"),
        ("100.01", {"low": D("0"), "high": D("100")}, "must be between 0 and 100"),
        ("101", {"high": D("100")}, "must be at most 100"),
    ],
)
def test_bad_numbers_are_refused_naming_the_field(value, rules, reason):
    with pytest.raises(InvalidInput) as refused:
        parse_decimal(value, field="amount", **rules)

    assert (refused.value.message, refused.value.fields) == (f"amount: {reason}", {"amount": [reason]})


@pytest.mark.parametrize(
    ("value", "rules", "number"),
    [
        (" 12.50 ", {"currency": "EUR"}, D("12.50")),
        (3, {"low": D("0.001")}, D("3")),
        (D("100"), {"high": D("100")}, 100),
    ],
)
def test_good_numbers_come_back_as_decimals(value, rules, number):
    parsed = parse_decimal(value, field="amount", **rules)

    assert (parsed, type(parsed)) == (number, D)


class PaymentForm(forms.Form):
    amount = forms.DecimalField()
    reference = forms.CharField(required=False)


def test_a_domain_error_lands_on_its_field_and_the_rest_on_top():
    form = PaymentForm({"amount": "5", "reference": "x"})
    assert form.is_valid()

    apply_domain_error(form, InvalidInput("no", fields={"amount": ["Too much."], "bank_fee": ["Not a number."]}))

    assert form.errors == {"amount": ["Too much."], "__all__": ["bank fee: Not a number."]}


def test_a_domain_error_without_fields_goes_on_top():
    form = PaymentForm({"amount": "5"})
    assert form.is_valid()

    apply_domain_error(form, InvalidInput("The customer is blocked."))

    assert form.errors == {"__all__": ["The customer is blocked."]}


@pytest.mark.django_db
def test_the_form_instance_becomes_the_row_the_service_saved():
    saved = User.objects.create_user("kim@otc.test", "x", full_name="Kim Clerk")
    unsaved = User(email="typed@otc.test")

    adopt_saved_row(unsaved, saved)

    assert (unsaved.pk, unsaved.email, unsaved.full_name) == (saved.pk, "kim@otc.test", "Kim Clerk")
    assert (unsaved._state.adding, unsaved._state.db) == (False, "default")
