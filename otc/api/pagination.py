from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from otc.errors import DomainError


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
