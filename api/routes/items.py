"""OGC API – Features: items of a collection, one item; GeoJSON built by PostGIS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import LangDep, PrincipalDep, SessionDep
from api.html import html_document
from api.links import GEOJSON, HTML, base_url, link, wants_html, with_query
from api.params import (
    MAX_LIMIT,
    MAX_OFFSET,
    ItemsParams,
    bad,
    bbox_param,
    crs_param,
    instant,
    int_param,
    interval_param,
    names_param,
    sortby_param,
)
from geo.digits import whole_number
from layers.access.policy import FieldView, field_view, layer_for
from layers.catalog.spec import LayerSpec
from layers.errors import FeatureNotFound
from layers.features.cql2 import filter_expression
from layers.features.pages import (
    FeatureQuery,
    OutputCrs,
    Page,
    count_matched,
    fetch_feature,
    fetch_page,
    layer_queryables,
)
from layers.features.queryables import Queryable

router = APIRouter(tags=["OGC API - Features"])

STANDARD_PARAMS = frozenset(
    {
        "f",
        "lang",
        "bbox",
        "bbox-crs",
        "datetime",
        "limit",
        "cursor",
        "offset",
        "sortby",
        "properties",
        "filter",
        "filter-lang",
        "filter-crs",
        "crs",
        "at",
    }
)
FILTER_LANGS = ("cql2-text", "cql2-json")


def _output_crs(request: Request) -> tuple[OutputCrs, str]:
    srid, swapped, uri = crs_param("crs", request.query_params.get("crs"))
    digits = 7 if srid in (4326, 4755) else 3
    return OutputCrs(
        srid=srid, flip=swapped, digits=digits
    ), uri or "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _cursor(value: str | None) -> tuple[int | None, int | None]:
    """Return (after_id, before_id) from a cursor "n<id>" (next) or "p<id>" (previous)."""
    if value is None:
        return None, None
    number = whole_number(value[1:]) if value[:1] in ("n", "p") else None
    if number is None:
        raise bad("cursor", "malformed paging cursor; follow the next/prev links", "kursor halaman tidak sah")
    return (number, None) if value[0] == "n" else (None, number)


def _filters(request: Request, qs: Mapping[str, Queryable]) -> tuple[Any, ...]:
    params = request.query_params
    text = params.get("filter")
    if text is None:
        return ()
    lang = params.get("filter-lang", "cql2-text")
    if lang not in FILTER_LANGS:
        raise bad(
            "filter-lang", f"use one of {', '.join(FILTER_LANGS)}", f"gunakan {', '.join(FILTER_LANGS)}"
        )
    srid, swapped, _ = crs_param("filter-crs", params.get("filter-crs"))
    return (filter_expression(text, lang, qs, filter_srid=srid, swap_axes=swapped),)


def _check_names(params: Mapping[str, str], qs: Mapping[str, Queryable]) -> dict[str, str]:
    """Return equality filters from queryable-named parameters; refuse unknown parameters."""
    equals: dict[str, str] = {}
    for name, value in params.items():
        if name in STANDARD_PARAMS:
            continue
        if name not in qs or qs[name].kind == "geometry":
            allowed = ", ".join(sorted([*STANDARD_PARAMS, *(n for n in qs if qs[n].kind != "geometry")]))
            raise bad(
                name,
                f"unknown parameter; allowed: {allowed}",
                f"parameter tidak dikenal; yang sah: {allowed}",
            )
        equals[name] = value
    return equals


def _selected(request: Request, qs: Mapping[str, Queryable]) -> tuple[str, ...] | None:
    value = request.query_params.get("properties")
    if value is None:
        return None
    names = names_param("properties", value)
    unknown = [n for n in names if n not in qs and n not in ("stale", "version", "created_by")]
    if unknown:
        raise bad("properties", f"unknown properties {unknown}", f"properti tidak dikenal {unknown}")
    return names


def no_repeats(request: Request) -> None:
    """Refuse a query parameter given more than once with different values.

    The same value twice is taken once: GDAL repeats the parameters of the URL it was given
    when it follows a query layer's links, which already carry them.
    """
    params = request.query_params
    for name in params:
        if len(set(params.getlist(name))) > 1:
            raise bad(name, "given more than once", "diberikan lebih dari sekali")


def feature_query(
    request: Request,
    qs: Mapping[str, Queryable],
    *,
    equals: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> tuple[FeatureQuery, str]:
    """Parse and bound the paging, filter, sorting and CRS parameters against these queryables."""
    params = request.query_params
    bbox_srid, bbox_swapped, _ = crs_param("bbox-crs", params.get("bbox-crs"))
    after_id, before_id = _cursor(params.get("cursor"))
    sortby = sortby_param(params["sortby"]) if "sortby" in params else ()
    crs, crs_uri = _output_crs(request)
    query = FeatureQuery(
        limit=int_param("limit", params.get("limit"), 100, 1, MAX_LIMIT),
        offset=int_param("offset", params.get("offset"), 0, 0, MAX_OFFSET),
        after_id=after_id,
        before_id=before_id,
        bbox=bbox_param(params["bbox"], bbox_srid, bbox_swapped) if "bbox" in params else None,
        bbox_srid=bbox_srid,
        interval=interval_param(params["datetime"]) if "datetime" in params else None,
        sortby=sortby,
        select=_selected(request, qs),
        equals=equals or {},
        filters=_filters(request, qs),
        at=at,
        crs=crs,
    )
    if sortby and (after_id or before_id):
        raise bad(
            "cursor", "cursor paging is for the default order; use offset with sortby", "gunakan offset"
        )
    return query, crs_uri


def build_query(request: Request, layer: LayerSpec, view: FieldView) -> tuple[FeatureQuery, str]:
    """Parse and bound every query parameter of an items request; return the query and the output CRS URI."""
    no_repeats(request)
    params = request.query_params
    at = instant("at", params["at"]) if "at" in params else None
    qs = layer_queryables(layer, view, at)
    return feature_query(request, qs, equals=_check_names(params, qs), at=at)


def paging_links(
    request: Request, path: str, q: FeatureQuery, returned: int, first: Any, last: Any, matched: int
) -> list[dict[str, Any]]:
    """Return next/prev links: keyset cursors in the default order, offsets with sortby."""
    out = []
    if q.sortby or q.offset:
        if q.offset + returned < matched:
            out.append(link(with_query(request, path, offset=str(q.offset + returned)), "next", GEOJSON))
        if q.offset > 0:
            out.append(
                link(with_query(request, path, offset=str(max(0, q.offset - q.limit))), "prev", GEOJSON)
            )
        return out
    if returned == q.limit and last is not None:
        out.append(link(with_query(request, path, cursor=f"n{last}"), "next", GEOJSON))
    if (q.after_id is not None or q.before_id is not None) and first is not None:
        out.append(link(with_query(request, path, cursor=f"p{first}"), "prev", GEOJSON))
    return out


@router.get("/collections/{collection_id}/items", summary="Features of a collection")
def items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
    _params: ItemsParams,
) -> Response:
    """Return a page of features with live status, as GeoJSON built by PostGIS."""
    layer = layer_for(principal, collection_id)
    view = field_view(principal, layer)
    q, crs_uri = build_query(request, layer, view)
    conn = session.connection()
    page = fetch_page(conn, layer, view, q)
    matched = count_matched(conn, layer, view, q)
    return page_response(request, layer.id, layer.title.pick(lang), lang, q, page, matched, crs_uri)


def page_response(
    request: Request,
    collection_id: str,
    title: str,
    lang: str,
    q: FeatureQuery,
    page: Page,
    matched: int,
    crs_uri: str,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """Return a page as a GeoJSON FeatureCollection (or HTML) with self, alternate and paging links."""
    path = f"/collections/{collection_id}/items"
    links = [
        link(with_query(request, path), "self", GEOJSON),
        link(with_query(request, path, f="html"), "alternate", HTML),
        link(f"{base_url(request)}/collections/{collection_id}", "collection", "application/json"),
        *paging_links(request, path, q, page.returned, page.first_id, page.last_id, matched),
    ]
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "links": links,
        **(extra or {}),
    }
    if wants_html(request):
        rows = [{"id": f["id"], **f["properties"]} for f in json.loads(page.features_json)]
        return html_document(title, head, lang, rows)
    body = json.dumps(head, separators=(",", ":"))[:-1] + ',"features":' + page.features_json + "}"
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{crs_uri}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def item(
    collection_id: str,
    feature_id: str,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> Response:
    """Return one feature with its live status; its ETag is its version for editable layers."""
    layer = layer_for(principal, collection_id)
    view = field_view(principal, layer)
    q, crs_uri = build_query(request, layer, view)
    number = whole_number(feature_id)
    if number is None:
        raise FeatureNotFound(layer.id, feature_id[:40])
    text = fetch_feature(session.connection(), layer, view, number, q)
    if text is None:
        raise FeatureNotFound(layer.id, number)
    feature = json.loads(text)
    base = f"{base_url(request)}/collections/{layer.id}"
    feature["links"] = [
        link(f"{base}/items/{feature_id}", "self", GEOJSON),
        link(f"{base}/items/{feature_id}?f=html", "alternate", HTML),
        link(base, "collection", "application/json"),
    ]
    if wants_html(request):
        return html_document(
            str(feature["properties"].get("name", feature_id)), feature, lang, [feature["properties"]]
        )
    headers = {"Content-Crs": f"<{crs_uri}>"}
    version = feature["properties"].get("version")
    if version is not None:
        headers["ETag"] = f'"{version}"'
    return Response(json.dumps(feature, separators=(",", ":")), media_type=GEOJSON, headers=headers)
