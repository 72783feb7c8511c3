"""Which query layers a caller may run; a hidden one is reported missing, like a hidden layer."""

from __future__ import annotations

from layers.access.policy import Principal, may_read
from layers.errors import LayerNotFound
from layers.queries.catalog import QUERIES
from layers.queries.spec import QuerySpec


def readable_queries(principal: Principal) -> list[QuerySpec]:
    """Return the query layers `principal` may run, in catalog order."""
    return [spec for spec in QUERIES.values() if may_read(principal, spec)]


def query_for(principal: Principal, query_id: str) -> QuerySpec | None:
    """Return the query layer with this id if the caller may run it; None if no such id exists.

    A query layer the caller may not run raises LayerNotFound, as a hidden stored layer does.
    """
    spec = QUERIES.get(query_id)
    if spec is None:
        return None
    if not may_read(principal, spec):
        raise LayerNotFound(query_id)
    return spec
