"""Counts of a layer's features per live status, for the dashboard's legend, KPIs and area summaries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.sql.elements import ColumnElement

from api.deps import LangDep, PrincipalDep, SessionDep
from api.params import bad, bbox_param
from layers.access.policy import Principal, field_view, layer_for
from layers.catalog.spec import LayerSpec
from layers.features.cql2 import filter_expression
from layers.features.queryables import queryables
from layers.live.counts import status_counts

router = APIRouter(tags=["live status"])

FILTER_LANGS = ("cql2-text", "cql2-json")


def _where(layer: LayerSpec, principal: Principal, text: str | None, lang: str) -> list[ColumnElement[bool]]:
    if text is None:
        return []
    if lang not in FILTER_LANGS:
        listed = ", ".join(FILTER_LANGS)
        raise bad("filter-lang", f"use one of {listed}", f"gunakan {listed}")
    return [filter_expression(text, lang, queryables(layer, field_view(principal, layer)))]


@router.get("/collections/{collection_id}/counts", summary="Features per live status")
def counts(
    collection_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    filter_: Annotated[str | None, Query(alias="filter", max_length=20_000)] = None,
    filter_lang: Annotated[str, Query(alias="filter-lang", max_length=20)] = "cql2-text",
) -> dict[str, Any]:
    """Count features per status (fresh only), stale ones and the total, with labels; bbox and CQL2 apply."""
    layer = layer_for(principal, collection_id)
    box = bbox_param(bbox, 4326, False) if bbox is not None else None
    where = _where(layer, principal, filter_, filter_lang)
    result = status_counts(session.connection(), layer, box, where)
    labels = {k: v.pick(lang) for k, v in layer.status.labels.items()} if layer.status else {}
    return {"collection": layer.id, **result.as_json(), "labels": labels}
