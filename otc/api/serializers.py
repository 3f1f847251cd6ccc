from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo in a partner's payload is an error, not a no-op."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Report unknown and invalid fields (nested ones included) in one answer.
            if not errors or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **errors}) from error
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
