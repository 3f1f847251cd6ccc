from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from otc.errors import DomainError, InvalidInput


class InvalidCursor(DomainError):
    code = "invalid_cursor"
    status = 400
    title = "The cursor is not one this list gave out."


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pages: stable under inserts and no COUNT(*) on large tables.

    A cursor that was not handed out by the list (edited, truncated, of another list) is a 400
    `invalid_cursor`, never a 404 or a database error: its position is only checked when the page's
    query runs, so that query's type errors are the cursor's fault too.
    """

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        """A page_size the client gives must be a whole number within the limit: a typo is a 422, not a
        silently different page."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            message = f"page_size must be a whole number from 1 to {self.max_page_size}."
            raise InvalidInput(message, fields={self.page_size_query_param: [message]})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as error:
            raise InvalidCursor(self._advice()) from error

    def paginate_queryset(self, queryset, request, view=None):
        if not request.query_params.get(self.cursor_query_param):
            return super().paginate_queryset(queryset, request, view)
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError, DataError) as error:
            raise InvalidCursor(self._advice()) from error

    @staticmethod
    def _advice() -> str:
        return "The cursor is malformed: use the `next` or `previous` link of a page as it was given."
