from django.core.exceptions import ValidationError
from stdnum import ean
from stdnum.exceptions import ValidationError as StdnumError


def validate_gtin(value: str) -> None:
    """GTIN-8/12/13/14 with a correct check digit."""
    if not value:
        return
    try:
        ean.validate(value)
    except StdnumError as error:
        raise ValidationError(
            "%(value)s is not a valid GTIN: %(reason)s.",
            code="invalid_gtin",
            params={"value": value, "reason": str(error).rstrip(".").lower()},
        ) from error
