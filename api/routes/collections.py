"""OGC API – Features: landing page, conformance, collections, queryables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api.deps import LangDep, PrincipalDep, SessionDep
from api.html import html_document
from api.links import GEOJSON, HTML, JSON, base_url, link, wants_html
from api.routes.queries import query_collection_docs
from geo.crs import CRS84_URI, supported_crs_uris
from layers.access.policy import field_view, layer_for, readable_layers
from layers.catalog.spec import LayerSpec
from layers.features.extent import layer_extent
from layers.features.pages import layer_queryables

router = APIRouter(tags=["OGC API - Features"])

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


def _respond(request: Request, title: str, doc: dict[str, Any], lang: str) -> Response:
    return html_document(title, doc, lang) if wants_html(request) else JSONResponse(doc)


@router.get("/", summary="Landing page")
def landing(request: Request, principal: PrincipalDep, lang: LangDep) -> Response:
    """Describe the service and link to its API definition, conformance and collections."""
    base = base_url(request)
    city = request.app.state.settings.city_name
    doc = {
        "title": "kendali",
        "description": f"GIS server of the {city} Command Center"
        if lang == "en"
        else f"Server GIS Command Center {city}",
        "links": [
            link(f"{base}/", "self", JSON, "this document"),
            link(f"{base}/?f=html", "alternate", HTML, "this document as HTML"),
            link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
            link(f"{base}/docs", "service-doc", HTML, "the API documentation"),
            link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
            link(f"{base}/collections", "data", JSON, "collections"),
            link(f"{base}/tileMatrixSets", "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", JSON),
            link(f"{base}/health", "status", JSON, "health"),
        ],
        "layers": [{"id": s.id, "title": s.title.pick(lang)} for s in readable_layers(principal)],
    }
    return _respond(request, "kendali", doc, lang)


@router.get("/conformance", summary="Conformance classes")
def conformance(request: Request, lang: LangDep) -> Response:
    """List the conformance classes kendali implements."""
    return _respond(request, "Conformance", {"conformsTo": CONFORMANCE}, lang)


def collection_doc(request: Request, session: SessionDep, layer: LayerSpec, lang: str) -> dict[str, Any]:
    """Return the collection description of a layer."""
    base = f"{base_url(request)}/collections/{layer.id}"
    extent = layer_extent(session.connection(), layer)
    return {
        "id": layer.id,
        "title": layer.title.pick(lang),
        "description": layer.description.pick(lang),
        "itemType": "feature",
        "extent": {
            "spatial": {
                "bbox": [list(extent.bbox)] if extent.bbox else [[-180, -90, 180, 90]],
                "crs": CRS84_URI,
            },
            "temporal": {"interval": [[extent.first_report, extent.last_report]]},
        },
        "crs": supported_crs_uris(),
        "storageCrs": CRS84_URI,
        "kendali:geometry": layer.geometry.value,
        "kendali:owner": layer.owner,
        "kendali:access": layer.access.value,
        "kendali:style": layer.style.as_json(),
        "links": [
            link(base, "self", JSON, layer.title.pick(lang)),
            link(f"{base}?f=html", "alternate", HTML),
            link(f"{base}/items", "items", GEOJSON, "features"),
            link(f"{base}/items?f=html", "items", HTML, "features as HTML"),
            link(
                f"{base}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
            ),
            link(
                f"{base}/tiles",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                "vector tilesets",
            ),
        ],
    }


@router.get("/collections", summary="The layers the caller may see")
def collections(request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep) -> Response:
    """List every collection visible to the caller."""
    base = base_url(request)
    doc = {
        "links": [
            link(f"{base}/collections", "self", JSON),
            link(f"{base}/collections?f=html", "alternate", HTML),
        ],
        "collections": [
            *(collection_doc(request, session, s, lang) for s in readable_layers(principal)),
            *query_collection_docs(request, principal, lang),
        ],
        "crs": supported_crs_uris(),
    }
    return _respond(request, "Collections", doc, lang)


@router.get("/collections/{collection_id}", summary="One collection")
def collection(
    collection_id: str, request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> Response:
    """Describe one collection (404 if it does not exist or is hidden from the caller)."""
    layer = layer_for(principal, collection_id)
    return _respond(request, layer.title.pick(lang), collection_doc(request, session, layer, lang), lang)


_SCHEMA_TYPES = {
    "string": {"type": "string"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
}


@router.get("/collections/{collection_id}/queryables", summary="Queryable properties (JSON Schema)")
def queryables(collection_id: str, request: Request, principal: PrincipalDep, lang: LangDep) -> Response:
    """Return the names a caller may filter on, as JSON Schema."""
    layer = layer_for(principal, collection_id)
    props: dict[str, Any] = {}
    for name, q in layer_queryables(layer, field_view(principal, layer)).items():
        props[name] = (
            {"format": f"geometry-{layer.geometry.value}", "x-ogc-role": "primary-geometry"}
            if q.kind == "geometry"
            else dict(_SCHEMA_TYPES[q.kind])
        )
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url(request)}/collections/{layer.id}/queryables",
        "type": "object",
        "title": layer.title.pick(lang),
        "properties": props,
        "additionalProperties": False,
    }
    if wants_html(request):
        return html_document(layer.title.pick(lang), doc, lang)
    return JSONResponse(doc, media_type="application/schema+json")
