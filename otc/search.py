"""List search that an index can always serve, for tables of a million rows.

Django's admin and DRF search OR an `icontains` over every search field, joined tables included:
`UPPER(col) LIKE '%q%'` that no index can answer, so every search reads the whole table. A
`SearchSpec` says instead how each field is searched, and each way has its index:
- `prefix`: document numbers, typed whole or their leading part ("INV-2026-0004"), upper-cased, on a
  `varchar_pattern_ops` index;
- `exact`: the whole value in any case (PO numbers, tax IDs), on an index over `UPPER(field)`;
- `contains`: any part of a name or text of three characters or more, on a trigram (GIN) index over
  `UPPER(field)`; a term shaped like a document number (`INV-2026-000412`, `C-000123`) is not looked
  for inside names: its common trigrams ("000") would make the index read most of its entries;
- `related`: the customer (or another row) the document belongs to, searched by its own spec first;
  its few matching ids then join the condition as a list, so PostgreSQL ORs bitmap index scans.
"""

import operator
import re
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Model, Q, QuerySet

# pg_trgm cannot use its index for fewer characters than a trigram.
CONTAINS_MIN_LENGTH = 3
# Letters, a dash, then digits (and more dashes or letters): how document and customer numbers look.
NUMBER_SHAPE = re.compile(r"[A-Za-z]{1,5}-[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*")
# Related rows passed to the document query as a list; beyond this, as a subquery (complete, slower).
RELATED_LIST_LIMIT = 500


@dataclass(frozen=True)
class SearchSpec:
    prefix: tuple[str, ...] = ()
    exact: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    related: tuple[tuple[str, "SearchSpec"], ...] = field(default=())


def indexed_search(queryset: QuerySet, term: str, spec: SearchSpec) -> QuerySet:
    """The rows of `queryset` that `term` finds as `spec` says; an empty term finds them all."""
    term = " ".join(term.split())
    if not term:
        return queryset
    condition = search_condition(queryset.model, term, spec)
    return queryset.filter(condition) if condition is not None else queryset.none()


def search_condition(model: type[Model], term: str, spec: SearchSpec) -> Q | None:
    """One OR of index-served conditions; None when no field can take the term."""
    upper = term.upper()
    parts = [Q(**{f"{name}__startswith": upper}) for name in spec.prefix]
    parts += [Q(**{f"{name}__iexact": term}) for name in spec.exact]
    if len(term) >= CONTAINS_MIN_LENGTH and not NUMBER_SHAPE.fullmatch(term):
        parts += [Q(**{f"{name}__icontains": term}) for name in spec.contains]
    for path, related_spec in spec.related:
        related = _related_model(model, path)
        condition = search_condition(related, term, related_spec)
        if condition is None:
            continue
        matching = related._default_manager.filter(condition).values_list("pk", flat=True)
        ids = list(matching[: RELATED_LIST_LIMIT + 1])
        if ids:
            parts.append(Q(**{f"{path}__in": ids if len(ids) <= RELATED_LIST_LIMIT else matching}))
    return reduce(operator.or_, parts) if parts else None


def _related_model(model: type[Model], path: str) -> type[Model]:
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
    return model
