"""Domain errors: one subclass per broken rule, each with a stable code and an HTTP status.

Services raise them; the API renders them as application/problem+json, the admin and portal as
messages. Field-level problems carry `fields` ({field: [messages]}).
"""

from collections.abc import Callable
from typing import ClassVar, TypeVar

from django.core.exceptions import ValidationError

T = TypeVar("T")


class DomainError(Exception):
    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request breaks a business rule."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = message or self.title
        self.fields = fields or {}
        super().__init__(self.message)


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422
    title = "Some fields are invalid."

    @classmethod
    def from_django(cls, error) -> "InvalidInput":
        """Wrap a django ValidationError so callers see one error type."""
        if hasattr(error, "message_dict"):
            fields = {name: list(messages) for name, messages in error.message_dict.items()}
        else:
            fields = {"non_field_errors": list(error.messages)}
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        return cls(summary, fields=fields)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    title = "Not found."


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "You may not do this."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The object is not in a state that allows this."


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "This status change is not allowed."


def field_checked(field: str, check: Callable[..., T], *args) -> T:
    """Run a validator or normaliser; its ValidationError becomes InvalidInput naming `field`."""
    try:
        return check(*args)
    except ValidationError as error:
        raise InvalidInput(error.messages[0], fields={field: error.messages}) from error
