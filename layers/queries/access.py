"""Which query layers a caller may run, described for that caller: a hidden one is reported missing,
like a hidden layer, and the layers a caller may not see are left out of every query's style, labels
and parameter defaults and enums."""

from __future__ import annotations

from dataclasses import replace

from layers.access.policy import Action, Principal, allows, may_read
from layers.catalog import LAYERS
from layers.errors import LayerNotFound
from layers.queries.catalog import QUERIES
from layers.queries.spec import QuerySpec


def hidden_layer_ids(principal: Principal) -> frozenset[str]:
    """Return the ids of the stored layers `principal` may not read."""
    return frozenset(s.id for s in LAYERS.values() if not allows(principal, Action.READ, s))


def caller_view(principal: Principal, spec: QuerySpec) -> QuerySpec:
    """Return the query as `principal` is told of it: nothing keyed by a layer they may not see."""
    hidden = hidden_layer_ids(principal)
    if not hidden:
        return spec
    by_status = {k: v for k, v in spec.style.by_status.items() if k not in hidden}
    return replace(
        spec,
        style=replace(spec.style, by_status=by_status),
        labels={k: v for k, v in spec.labels.items() if k not in hidden},
        withheld=hidden,
    )


def readable_queries(principal: Principal) -> list[QuerySpec]:
    """Return the query layers `principal` may run, in catalog order, described for them."""
    return [caller_view(principal, spec) for spec in QUERIES.values() if may_read(principal, spec)]


def query_for(principal: Principal, query_id: str) -> QuerySpec | None:
    """Return the query layer with this id, described for the caller, if they may run it; None if no
    such id exists.

    A query layer the caller may not run raises LayerNotFound, as a hidden stored layer does.
    """
    spec = QUERIES.get(query_id)
    if spec is None:
        return None
    if not may_read(principal, spec):
        raise LayerNotFound(query_id)
    return caller_view(principal, spec)
