from rest_framework import serializers
from rest_framework.request import Request

from otc import input_bounds
from otc.money import CURRENCY_CHOICES, quantize


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo in a partner's payload is an error, not a no-op;
    and numbers written with separators ("1_000", which Python would read as 1000) or beyond the
    plausible bounds of `otc.input_bounds` (amounts, quantities, dates), so they never reach a service."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        if isinstance(data, dict):
            errors.update(input_bounds.separated_numbers(self.fields, data))
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Report unknown and invalid fields (nested ones included) in one answer.
            if not errors or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **errors}) from error
        errors.update(input_bounds.implausible_values(self.fields, value))
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ProblemSerializer(serializers.Serializer):
    """An error as application/problem+json (RFC 9457); documents what otc.api.problems renders."""

    type = serializers.CharField(help_text="urn:otc:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    instance = serializers.CharField(help_text="The request path.")
    errors = serializers.DictField(
        child=serializers.JSONField(), required=False, help_text="{field: [messages]} for invalid input."
    )


class EmptySerializer(StrictSerializer):
    """No fields: anything sent is an unknown field."""


def parse(serializer_class: type[serializers.Serializer], request: Request, *, partial: bool = False) -> dict:
    """Validate the request body with an input serializer; a bad body is a 422 problem."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def currency_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=CURRENCY_CHOICES,
        error_messages={"invalid_choice": "{input} is not a supported ISO 4217 currency code."},
        **kwargs,
    )


class AmountField(serializers.DecimalField):
    """A money amount as a decimal string with exactly its currency's minor units ("25000.01").

    The currency is read from `currency_field` of the same object.
    """

    def __init__(self, *, currency_field: str, **kwargs):
        self.currency_field = currency_field
        super().__init__(max_digits=19, decimal_places=4, read_only=True, **kwargs)

    def get_attribute(self, instance):
        return quantize(super().get_attribute(instance), getattr(instance, self.currency_field))

    def to_representation(self, value) -> str:
        return str(value)


class OptionalAmountField(AmountField):
    """An amount that may be absent (null), e.g. balances of a CSV statement."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def get_attribute(self, instance):
        if serializers.Field.get_attribute(self, instance) is None:
            return None
        return super().get_attribute(instance)


def unique_lines(lines: list[dict], *, key: str) -> list[dict]:
    """Refuse a body that names the same document line twice (errors by position, like DRF's)."""
    seen: set = set()
    errors = {}
    for index, line in enumerate(lines):
        if line[key] in seen:
            errors[index] = {key: [f"Line {line[key]} is given twice."]}
        seen.add(line[key])
    if errors:
        raise serializers.ValidationError(errors)
    return lines
