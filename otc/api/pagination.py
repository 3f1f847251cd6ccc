from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Cursor pages: stable under inserts and no COUNT(*) on large tables."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500
