"""OGC API – Features: the items of any collection, one item, its queryables and summary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.deps import DescribedDep, ItemsDep, LangDep
from api.feature_params import (
    DESCRIBE,
    ITEMS,
    body_params,
    feature_query,
    names_for,
    openapi_parameters,
    own_values,
    params_request,
)
from api.html import html_document
from api.links import GEOJSON, HTML, JSON, answers, base_url, link, link_header, wants_html, with_query
from geo.digits import signed_whole_number
from layers.collections import Bound, Collection
from layers.errors import FeatureNotFound, LayerNotFound
from layers.features.pages import FeatureQuery, Page

router = APIRouter(tags=["OGC API - Features"])

REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"
PROBLEMS: dict[int | str, dict[str, Any]] = {
    "400": {"description": "Bad request (problem+json)"},
    "404": {"description": "No such collection or feature (problem+json)"},
}


Changes = dict[str, str | None]


def paging_changes(
    q: FeatureQuery, returned: int, first: Any, last: Any, matched: int
) -> list[tuple[str, Changes]]:
    """Return the next/prev pages as changes to the request: keyset cursors, or offsets with sortby."""
    out: list[tuple[str, Changes]] = []
    if q.sortby or q.offset:
        if q.offset + returned < matched:
            out.append(("next", {"offset": str(q.offset + returned)}))
        if q.offset > 0:
            out.append(("prev", {"offset": str(max(0, q.offset - q.limit))}))
        return out
    if returned == q.limit and last is not None:
        out.append(("next", {"cursor": f"n{last}"}))
    if (q.after_id is not None or q.before_id is not None) and first is not None:
        out.append(("prev", {"cursor": f"p{first}"}))
    return out


def _changed(body: Mapping[str, Any], changes: Changes) -> dict[str, Any]:
    kept = {k: v for k, v in body.items() if k not in changes}
    return kept | {k: v for k, v in changes.items() if v is not None}


def page_links(
    request: Request, path: str, body: Mapping[str, Any] | None, pages: list[tuple[str, Changes]]
) -> list[dict[str, Any]]:
    """Return the self and paging links: URLs for a GET, the same URL with a changed body for a POST."""
    if body is None:
        return [
            link(with_query(request, path), "self", GEOJSON),
            link(with_query(request, path, f="html"), "alternate", HTML),
            *(link(with_query(request, path, **changes), rel, GEOJSON) for rel, changes in pages),
        ]
    href = f"{base_url(request)}{path}"
    return [
        link(href, rel, GEOJSON, method="POST", body=_changed(body, changes))
        for rel, changes in [("self", {}), *pages]
    ]


def page_response(
    request: Request,
    bound: Bound,
    lang: str,
    q: FeatureQuery,
    page: Page,
    matched: int,
    crs_uri: str,
    extra: Mapping[str, Any],
    body: Mapping[str, Any] | None = None,
) -> Response:
    """Return a page as a GeoJSON FeatureCollection (or HTML), with its links in the body and in `Link`.

    A page asked for by POST links to its neighbours by POST with a changed body, and its Link header
    names only the links a URL can carry.
    """
    collection_id = bound.info.id
    path = f"/collections/{collection_id}/items"
    pages = paging_changes(q, page.returned, page.first_id, page.last_id, matched)
    described = [
        link(f"{base_url(request)}/collections/{collection_id}", "collection", JSON),
        link(f"{base_url(request)}/collections/{collection_id}/queryables", REL_QUERYABLES, SCHEMA_JSON),
    ]
    paged = page_links(request, path, body, pages)
    links = [*paged[:1], *described, *paged[1:]] if body is not None else [*paged[:2], *described, *paged[2:]]
    head = {
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "links": links,
        **extra,
    }
    if wants_html(request):
        rows = [{"id": f["id"], **f["properties"]} for f in json.loads(page.features_json)]
        return html_document(bound.info.title.pick(lang), head, lang, rows)
    text = json.dumps(head, separators=(",", ":"))[:-1] + ',"features":' + page.features_json + "}"
    in_header = described if body is not None else links
    headers = {"Content-Crs": f"<{crs_uri}>", "Link": link_header(in_header)}
    return Response(text, media_type=GEOJSON, headers=headers)


def query_answer(
    request: Request, collection: Collection, body: Mapping[str, Any], session: Session, lang: str
) -> Response:
    """Answer a query layer asked with a JSON body: the same parameters, parser and limits as its URL."""
    view = params_request(request, body_params(body))
    values = own_values(view, names_for(ITEMS, collection.info.kind))
    bound = collection.bind(session, values, datetime.now(UTC))
    q, crs_uri = feature_query(view, bound)
    page, matched = bound.page(q)
    members = bound.page_members(q, lang)
    return page_response(view, bound, lang, q, page, matched, crs_uri, members, body=body)


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    openapi_extra=openapi_parameters(ITEMS),
    responses=answers(GEOJSON, HTML, more=PROBLEMS),
)
def items(request: Request, bound: ItemsDep, lang: LangDep) -> Response:
    """Return a page of features with live status (or of a query layer's answer), built by PostGIS."""
    q, crs_uri = feature_query(request, bound)
    page, matched = bound.page(q)
    return page_response(request, bound, lang, q, page, matched, crs_uri, bound.page_members(q, lang))


def _item_links(request: Request, collection_id: str, feature_id: str) -> list[dict[str, Any]]:
    base = f"{base_url(request)}/collections/{collection_id}"
    return [
        link(f"{base}/items/{feature_id}", "self", GEOJSON),
        link(f"{base}/items/{feature_id}?f=html", "alternate", HTML),
        link(base, "collection", JSON),
    ]


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    openapi_extra=openapi_parameters(ITEMS),
    responses=answers(GEOJSON, HTML, more=PROBLEMS),
)
def item(feature_id: str, request: Request, bound: ItemsDep, lang: LangDep) -> Response:
    """Return one feature; its ETag is its version on editable layers."""
    q, crs_uri = feature_query(request, bound)
    number = signed_whole_number(feature_id)
    text = None if number is None else bound.feature(number, q)
    if text is None:
        raise FeatureNotFound(bound.info.id, feature_id[:40] if number is None else number)
    feature = json.loads(text)
    feature["links"] = _item_links(request, bound.info.id, feature_id)
    if wants_html(request):
        name = str(feature["properties"].get("name", feature_id))
        return html_document(name, feature, lang, [feature["properties"]])
    headers = {"Content-Crs": f"<{crs_uri}>", "Link": link_header(feature["links"])}
    version = feature["properties"].get("version")
    if version is not None:
        headers["ETag"] = f'"{version}"'
    return Response(json.dumps(feature, separators=(",", ":")), media_type=GEOJSON, headers=headers)


@router.get(
    "/collections/{collection_id}/queryables",
    summary="Queryable properties (JSON Schema)",
    openapi_extra=openapi_parameters(DESCRIBE),
    responses=answers(SCHEMA_JSON, HTML, more=PROBLEMS),
)
def queryables(request: Request, bound: DescribedDep, lang: LangDep) -> Response:
    """Return the names a caller may filter, sort and select on, as JSON Schema."""
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url(request)}/collections/{bound.info.id}/queryables",
        "type": "object",
        "title": bound.info.title.pick(lang),
        "properties": bound.queryable_schemas(lang),
        "additionalProperties": False,
    }
    if wants_html(request):
        return html_document(bound.info.title.pick(lang), doc, lang)
    return JSONResponse(doc, media_type=SCHEMA_JSON)


@router.get(
    "/collections/{collection_id}/summary",
    summary="Summary of a collection's features",
    openapi_extra=openapi_parameters(DESCRIBE),
    responses=answers(JSON, HTML, more=PROBLEMS),
)
def summary(request: Request, bound: DescribedDep, lang: LangDep) -> Response:
    """Return the collection's summary of its features (for example counts per layer in an area)."""
    found = bound.summary()
    if found is None:
        raise LayerNotFound(f"{bound.info.id}/summary")
    doc = {"id": bound.info.id, "parameters": bound.parameters(), "summary": found}
    return html_document(bound.info.title.pick(lang), doc, lang) if wants_html(request) else JSONResponse(doc)
