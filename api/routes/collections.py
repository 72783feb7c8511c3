"""OGC API – Features: landing page, conformance, collections, queryables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.deps import CollectionDep, LangDep, PrincipalDep, SessionDep
from api.feature_params import DESCRIBE, names_for, openapi_parameters, own_values
from api.html import html_document
from api.links import GEOJSON, HTML, JSON, answers, base_url, link, wants_html
from api.routes.items import PROBLEMS, REL_QUERYABLES
from geo.crs import CRS84_URI, supported_crs_uris
from layers.access.policy import readable_layers
from layers.collections import Collection, readable_collections

router = APIRouter(tags=["OGC API - Features"])

OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
REL_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
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


@router.get("/", summary="Landing page", responses=answers(JSON, HTML))
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


@router.get("/conformance", summary="Conformance classes", responses=answers(JSON, HTML))
def conformance(request: Request, lang: LangDep) -> Response:
    """List the conformance classes kendali implements."""
    return _respond(request, "Conformance", {"conformsTo": CONFORMANCE}, lang)


def collection_doc(
    request: Request,
    conn: Connection,
    collection: Collection,
    lang: str,
    carried: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Return the description of a collection; its links keep the collection's own parameters given."""
    info = collection.info
    base = f"{base_url(request)}/collections/{info.id}"
    # Links carry a query layer's parameters given here, so a client (GDAL, QGIS) that opens
    # /collections/in_area?district=3 reads that answer when it follows them.
    given = f"?{urlencode(carried)}" if carried else ""
    joined = f"&{urlencode(carried)}" if carried else ""
    links = [
        link(f"{base}{given}", "self", JSON, info.title.pick(lang)),
        link(f"{base}?f=html{joined}", "alternate", HTML),
        link(f"{base}/items{given}", "items", GEOJSON, "features"),
        link(f"{base}/items?f=html{joined}", "items", HTML, "features as HTML"),
        link(f"{base}/queryables{given}", REL_QUERYABLES, "application/schema+json"),
        link(f"{base}/tiles", REL_TILESETS, JSON, "vector tilesets"),
        link(f"{base}/export?f=gpkg{joined}", "enclosure", "application/geopackage+sqlite3", "GeoPackage"),
    ]
    if info.has_summary:
        links.append(link(f"{base}/summary{given}", "describedby", JSON, "summary"))
    return {
        "id": info.id,
        "title": info.title.pick(lang),
        "description": info.description.pick(lang),
        "itemType": "feature",
        "crs": supported_crs_uris(),
        "storageCrs": CRS84_URI,
        "kendali:kind": info.kind.value,
        "kendali:geometry": info.geometry.value,
        "kendali:owner": info.owner,
        "kendali:access": info.access.value,
        "kendali:style": info.style.as_json(),
        **collection.members(conn, lang),
        "links": links,
    }


@router.get(
    "/collections",
    summary="The collections the caller may see",
    openapi_extra=openapi_parameters(DESCRIBE),
    responses=answers(JSON, HTML),
)
def collections(request: Request, session: SessionDep, principal: PrincipalDep, lang: LangDep) -> Response:
    """List every collection visible to the caller: stored layers, then query layers."""
    base = base_url(request)
    conn = session.connection()
    doc = {
        "links": [
            link(f"{base}/collections", "self", JSON),
            link(f"{base}/collections?f=html", "alternate", HTML),
        ],
        "collections": [collection_doc(request, conn, c, lang) for c in readable_collections(principal)],
        "crs": supported_crs_uris(),
    }
    return _respond(request, "Collections", doc, lang)


@router.get(
    "/collections/{collection_id}",
    summary="One collection",
    openapi_extra=openapi_parameters(DESCRIBE),
    responses=answers(JSON, HTML, more=PROBLEMS),
)
def collection(request: Request, session: SessionDep, collection: CollectionDep, lang: LangDep) -> Response:
    """Describe one collection (404 if it does not exist or is hidden from the caller)."""
    carried = collection.carried(own_values(request, names_for(DESCRIBE, collection.info.kind)))
    doc = collection_doc(request, session.connection(), collection, lang, carried)
    return _respond(request, collection.info.title.pick(lang), doc, lang)
