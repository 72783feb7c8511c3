"""The shared feature parameters (bbox, limit, filter, crs...), declared once: the OpenAPI document is
written from this declaration and requests are parsed by it. Every other query parameter belongs to the
collection: a stored layer's `at` and equality filters, a query layer's declared parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from api.params import (
    MAX_LIMIT,
    MAX_OFFSET,
    bad,
    bbox_param,
    crs_param,
    int_param,
    interval_param,
    names_param,
    sortby_param,
)
from geo.crs import supported_crs_uris
from geo.digits import whole_number
from layers.collections import Bound, CollectionKind
from layers.features.cql2 import filter_expression
from layers.features.pages import FeatureQuery, OutputCrs
from layers.features.queryables import Queryable

BOTH = frozenset(CollectionKind)
FILTER_LANGS = ("cql2-text", "cql2-json")
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EXTRA_PROPERTIES = ("stale", "version", "created_by")  # not queryables, but in a feature's properties


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter: its name, what it means, its JSON Schema, and the collections that read it."""

    name: str
    description: str
    schema: Mapping[str, Any]
    kinds: frozenset[CollectionKind] = BOTH

    def openapi(self) -> dict[str, Any]:
        """Return the OpenAPI 3.0 parameter object."""
        out: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": dict(self.schema),
        }
        if self.schema.get("type") == "array":
            out |= {"style": "form", "explode": False}
        return out


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


LANG = Param("lang", "Language of texts: id (default) or en.", {"type": "string", "enum": ["id", "en"]})
FORMAT = Param("f", "Output format.", {"type": "string", "enum": ["json", "html"]})
LIMIT = Param(
    "limit", "Features per page (default 100).", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
)
OFFSET = Param(
    "offset", "Start offset (with sortby).", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
)
CRS_VALUES = {"type": "string", "enum": supported_crs_uris()}
BBOX = Param(
    "bbox",
    "minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs.",
    {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
)
BBOX_CRS = Param("bbox-crs", "CRS URI of bbox; default CRS84.", CRS_VALUES)
DATETIME = Param(
    "datetime",
    "Instant or interval (a/b, ../b, a/..) on observed_at.",
    _string(100),
    frozenset({CollectionKind.LAYER}),
)
CURSOR = Param("cursor", "Paging cursor from a next/prev link.", _string(24))
SORTBY = Param("sortby", "Comma-separated queryables, - for descending.", _string(3_400))
PROPERTIES = Param("properties", "Comma-separated properties to return.", _string(3_400))
# A longer filter does not fit in a URL once percent-encoded (servers refuse URLs past 64 KiB).
FILTER = Param("filter", "CQL2 filter expression (text or JSON).", _string(4_000))
FILTER_LANG = Param("filter-lang", "Filter language.", {"type": "string", "enum": list(FILTER_LANGS)})
FILTER_CRS = Param("filter-crs", "CRS URI of filter geometries; default CRS84.", CRS_VALUES)
CRS = Param("crs", "CRS URI of the returned geometries; default CRS84.", CRS_VALUES)

ITEMS: tuple[Param, ...] = (
    FORMAT,
    LANG,
    BBOX,
    BBOX_CRS,
    DATETIME,
    LIMIT,
    CURSOR,
    OFFSET,
    SORTBY,
    PROPERTIES,
    FILTER,
    FILTER_LANG,
    FILTER_CRS,
    CRS,
)
ITEM: tuple[Param, ...] = (FORMAT, LANG, CRS)
DESCRIBE: tuple[Param, ...] = (FORMAT, LANG)
TILE: tuple[Param, ...] = (LANG,)
EXPORT_FORMAT = Param(
    "f",
    "gpkg, shp (zipped), geojson, csv, kml or xlsx.",
    {"type": "string", "enum": ["gpkg", "shp", "geojson", "csv", "kml", "xlsx"]},
)
EXPORT_LIMIT = Param("limit", "At most this many.", LIMIT.schema)
# An export reads what items reads, less the page: every matching row, or a window of limit and offset.
EXPORT: tuple[Param, ...] = tuple(
    EXPORT_LIMIT if p is LIMIT else p for p in ITEMS if p not in (FORMAT, CURSOR)
)


def openapi_parameters(params: Sequence[Param], *, required_format: bool = False) -> dict[str, Any]:
    """Return the `openapi_extra` of a route reading these parameters (the document is made from them)."""
    listed = [p.openapi() for p in params]
    if required_format:
        listed = [dict(p, required=True) if p["name"] == "f" else p for p in listed]
    return {"parameters": listed}


def names_for(params: Sequence[Param], kind: CollectionKind) -> frozenset[str]:
    """Return the names of the parameters a collection of this kind reads as shared ones."""
    return frozenset(p.name for p in params if kind in p.kinds)


def no_repeats(request: Request) -> None:
    """Refuse a query parameter given more than once with different values.

    The same value twice is taken once: GDAL repeats the parameters of the URL it was given
    when it follows a query layer's links, which already carry them.
    """
    params = request.query_params
    for name in params:
        if len(set(params.getlist(name))) > 1:
            raise bad(name, "given more than once", "diberikan lebih dari sekali")


def own_values(request: Request, shared: frozenset[str]) -> dict[str, str]:
    """Return the query parameters that are not shared ones: the collection's own."""
    no_repeats(request)
    return {k: v for k, v in request.query_params.items() if k not in shared}


def params_request(request: Request, params: Sequence[tuple[str, str]]) -> Request:
    """Return a request like `request` but with these query parameters (the parsers read only them)."""
    scope = dict(request.scope, query_string=urlencode(list(params)).encode())
    return Request(scope)


def _url_form(value: Any) -> str:
    """Return a JSON body value as it would be written in a URL: text, numbers, comma lists, or JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        return ",".join(v if isinstance(v, str) else json.dumps(v) for v in value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def body_params(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the parameters of a JSON body in their URL form, so both are read by one parser.

    A geometry may be a GeoJSON object, a list may be an array, a null is the same as leaving it out.
    """
    return [(str(k), _url_form(v)) for k, v in body.items() if v is not None]


def _cursor(value: str | None) -> tuple[int | None, int | None]:
    """Return (after_id, before_id) from a cursor "n<id>" (next) or "p<id>" (previous)."""
    if value is None:
        return None, None
    number = whole_number(value[1:]) if value[:1] in ("n", "p") else None
    if number is None:
        raise bad("cursor", "malformed paging cursor; follow the next/prev links", "kursor halaman tidak sah")
    return (number, None) if value[0] == "n" else (None, number)


def _filters(params: Mapping[str, str], qs: Mapping[str, Queryable]) -> tuple[Any, ...]:
    text = params.get(FILTER.name)
    if text is None:
        return ()
    lang = params.get(FILTER_LANG.name, "cql2-text")
    if lang not in FILTER_LANGS:
        raise bad(
            "filter-lang", f"use one of {', '.join(FILTER_LANGS)}", f"gunakan {', '.join(FILTER_LANGS)}"
        )
    srid, swapped, _ = crs_param(FILTER_CRS.name, params.get(FILTER_CRS.name))
    return (filter_expression(text, lang, qs, filter_srid=srid, swap_axes=swapped),)


def _selected(params: Mapping[str, str], qs: Mapping[str, Queryable]) -> tuple[str, ...] | None:
    value = params.get(PROPERTIES.name)
    if value is None:
        return None
    names = names_param(PROPERTIES.name, value)
    unknown = [n for n in names if n not in qs and n not in EXTRA_PROPERTIES]
    if unknown:
        raise bad("properties", f"unknown properties {unknown}", f"properti tidak dikenal {unknown}")
    return names


def _bounded(param: Param, value: str | None, default: int) -> int:
    """Return an integer parameter within its declared minimum and maximum."""
    return int_param(param.name, value, default, int(param.schema["minimum"]), int(param.schema["maximum"]))


def output_crs(params: Mapping[str, str]) -> tuple[OutputCrs, str]:
    """Return the CRS features are written in, and its URI for the Content-Crs header."""
    srid, swapped, uri = crs_param(CRS.name, params.get(CRS.name))
    digits = 7 if srid in (4326, 4755) else 3
    return OutputCrs(srid=srid, flip=swapped, digits=digits), uri or CRS84


def feature_query(request: Request, bound: Bound) -> tuple[FeatureQuery, str]:
    """Parse the shared parameters against the collection's queryables; return them and the CRS URI."""
    params = request.query_params
    qs = bound.queryables
    bbox_srid, bbox_swapped, _ = crs_param(BBOX_CRS.name, params.get(BBOX_CRS.name))
    after_id, before_id = _cursor(params.get(CURSOR.name))
    sortby = sortby_param(params[SORTBY.name]) if SORTBY.name in params else ()
    crs, crs_uri = output_crs(params)
    reads_datetime = bound.info.kind in DATETIME.kinds and DATETIME.name in params
    query = FeatureQuery(
        limit=_bounded(LIMIT, params.get(LIMIT.name), 100),
        offset=_bounded(OFFSET, params.get(OFFSET.name), 0),
        after_id=after_id,
        before_id=before_id,
        bbox=bbox_param(params[BBOX.name], bbox_srid, bbox_swapped) if BBOX.name in params else None,
        bbox_srid=bbox_srid,
        interval=interval_param(params[DATETIME.name]) if reads_datetime else None,
        sortby=sortby,
        select=_selected(params, qs),
        equals=bound.equals,
        filters=_filters(params, qs),
        at=bound.at,
        crs=crs,
    )
    if sortby and (after_id or before_id):
        raise bad(
            "cursor", "cursor paging is for the default order; use offset with sortby", "gunakan offset"
        )
    return query, crs_uri
