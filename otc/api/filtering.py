"""List filters for the API: django-filter's, with an empty value refused instead of ignored."""

from django_filters import BooleanFilter, CharFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import SearchFilter

from otc.errors import InvalidInput
from otc.search import indexed_search

_YES_OR_NO = {"true", "false", "1", "0"}


class StrictFilterBackend(DjangoFilterBackend):
    """`?customer=` or `?issued_after=` is a client's mistake: django-filter would drop the filter and
    answer the whole list, which looks like a result. Text filters may be empty (they match all)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = sorted(
                parameter
                for name, definition in filterset_class.base_filters.items()
                if not isinstance(definition, CharFilter)
                for parameter in _parameters_of(name, definition)
                if request.query_params.get(parameter) == ""
            )
            if empty:
                raise InvalidInput(
                    f"Empty filter: {', '.join(empty)}; leave it out to list everything.",
                    fields={parameter: ["Give a value or leave the parameter out."] for parameter in empty},
                )
            not_yes_or_no = sorted(
                name
                for name, definition in filterset_class.base_filters.items()
                if isinstance(definition, BooleanFilter)
                and request.query_params.get(name, "true").lower() not in _YES_OR_NO
            )
            if not_yes_or_no:
                raise InvalidInput(
                    f"Not true or false: {', '.join(not_yes_or_no)}.",
                    fields={name: ["Give true or false."] for name in not_yes_or_no},
                )
        return super().filter_queryset(request, queryset, view)


def _parameters_of(name: str, definition) -> list[str]:
    """A range filter reads `<name>_after` and `<name>_before` (its widget's suffixes), others `<name>`."""
    suffixes = getattr(definition.field.widget, "suffixes", None)
    return [f"{name}_{suffix}" if suffix else name for suffix in suffixes] if suffixes else [name]


class IndexedSearchFilter(SearchFilter):
    """`?search=` as the view's `search_spec` says (otc.search: each way has its index); a view
    without one searches its `search_fields` as DRF does."""

    def filter_queryset(self, request, queryset, view):
        spec = getattr(view, "search_spec", None)
        if spec is None:
            return super().filter_queryset(request, queryset, view)
        return indexed_search(queryset, request.query_params.get(self.search_param, ""), spec)
