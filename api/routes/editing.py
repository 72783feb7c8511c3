"""OGC API Features Part 4: create, replace, update and delete features of editable layers."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.deps import CollectionDep, LangDep, PrincipalDep, SessionDep
from api.errors import request_lang
from api.links import base_url
from api.params import content_crs_param
from api.routes.items import query_answer
from geo.digits import whole_number
from layers.catalog.spec import LayerSpec
from layers.collections import CollectionKind
from layers.editing import edits as editing
from layers.errors import InvalidInput
from layers.json_input import nesting_exceeds, too_deep

router = APIRouter(tags=["editing"])

ITEMS: Final = "/collections/{collection_id}/items"
ITEM: Final = ITEMS + "/{feature_id}"
JSON_TYPES: Final = ("application/geo+json", "application/json", "application/merge-patch+json")
MAX_DEPTH: Final = 64
_ETAG: Final = re.compile(r'(?:W/)?"([0-9]{1,9})"')
_OBJECT_BODY: Final = {
    "requestBody": {"required": True, "content": {t: {"schema": {"type": "object"}} for t in JSON_TYPES}}
}

FeatureId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def editable_collection(collection_id: str, principal: PrincipalDep) -> LayerSpec:
    """Return the collection if the caller may edit it (403), or may not even see it (404)."""
    return editing.editable_layer(principal, collection_id)


def if_match_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """Return the version in If-Match ("3" or W/"3"); None when absent or "*"."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.fullmatch(if_match.strip())
    if found is None:
        raise InvalidInput(
            'If-Match must be one version in quotes, such as "3"',
            'If-Match harus berisi satu versi dalam tanda kutip, misalnya "3"',
            field="If-Match",
        )
    return int(found.group(1))


def _refusal(request: Request, status: int, message_en: str, message_id: str) -> HTTPException:
    return HTTPException(status, message_en if request_lang(request) == "en" else message_id)


def _check_media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in JSON_TYPES:
        listed = ", ".join(JSON_TYPES)
        raise _refusal(request, 415, f"send the body as one of {listed}", f"kirim isi sebagai {listed}")


async def _bounded_body(request: Request, limit: int) -> bytes:
    """Return the raw body, refusing it (413) as soon as it is known to pass `limit` bytes."""
    too_large = _refusal(
        request, 413, f"the body is larger than {limit} bytes", f"isi lebih besar dari {limit} byte"
    )
    declared = request.headers.get("content-length", "")
    length = whole_number(declared, 19)
    if length is not None and length > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Return the body as a JSON object; anything else, or nesting past MAX_DEPTH, is a 400."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise too_deep(MAX_DEPTH) from None
    except ValueError:
        raise InvalidInput("the body is not valid JSON", "isi bukan JSON yang sah") from None
    if nesting_exceeds(value, MAX_DEPTH):
        raise too_deep(MAX_DEPTH)
    if not isinstance(value, dict):
        raise InvalidInput("the body must be a JSON object", "isi harus berupa objek JSON")
    return value


async def json_body(
    request: Request,
    content_crs: Annotated[
        str | None, Header(description="CRS of the body's geometry: a supported URI, in <> or bare.")
    ] = None,
) -> dict[str, Any]:
    """Return the request's JSON object body, checked for media type, declared CRS, size and depth."""
    _check_media_type(request)
    # A supported Content-Crs is accepted as before (geometry is read as CRS84); any other is a 400.
    content_crs_param(content_crs)
    return parse_json_object(await _bounded_body(request, request.app.state.settings.max_body_bytes))


EditableLayerDep = Annotated[LayerSpec, Depends(editable_collection)]
IfMatchDep = Annotated[int | None, Depends(if_match_version)]
JsonBodyDep = Annotated[dict[str, Any], Depends(json_body)]


def _written(written: editing.Written, status: int, **headers: str) -> JSONResponse:
    body = {"id": written.id, "version": written.version}
    return JSONResponse(body, status_code=status, headers={"ETag": f'"{written.version}"', **headers})


@router.post(
    ITEMS,
    status_code=201,
    summary="Create a feature (stored layers), or ask a query layer with its parameters as a JSON body",
    openapi_extra=_OBJECT_BODY,
)
def post_items(
    request: Request,
    collection: CollectionDep,
    body: JsonBodyDep,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
) -> Response:
    """Create a feature from a GeoJSON Feature (Location names it, ETag carries its version); a query
    layer has nothing to create, so a POST to it asks it, for areas too large for a URL."""
    if collection.info.kind is CollectionKind.QUERY:
        return query_answer(request, collection, body, session, lang)
    layer = editing.editable_layer(principal, collection.info.id)
    written = editing.create_feature(session.connection(), layer, principal, body)
    session.commit()
    location = f"{base_url(request)}/collections/{layer.id}/items/{written.id}"
    return _written(written, 201, Location=location)


@router.put(ITEM, summary="Replace a feature", openapi_extra=_OBJECT_BODY)
def replace_item(
    feature_id: FeatureId,
    layer: EditableLayerDep,
    if_match: IfMatchDep,
    body: JsonBodyDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> JSONResponse:
    """Replace a feature; a stale If-Match version is refused with 412."""
    conn = session.connection()
    written = editing.replace_feature(conn, layer, principal, feature_id, body, if_match)
    session.commit()
    return _written(written, 200)


@router.patch(ITEM, summary="Update a feature (JSON merge patch)", openapi_extra=_OBJECT_BODY)
def update_item(
    feature_id: FeatureId,
    layer: EditableLayerDep,
    if_match: IfMatchDep,
    body: JsonBodyDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> JSONResponse:
    """Merge-patch a feature's properties and replace its geometry if given."""
    conn = session.connection()
    written = editing.update_feature(conn, layer, principal, feature_id, body, if_match)
    session.commit()
    return _written(written, 200)


@router.delete(ITEM, status_code=204, summary="Delete a feature")
def delete_item(
    feature_id: FeatureId,
    layer: EditableLayerDep,
    if_match: IfMatchDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    """Delete a feature; areas stay recoverable through their history."""
    editing.delete_feature(session.connection(), layer, principal, feature_id, if_match)
    session.commit()
    return Response(status_code=204)


@router.get(ITEM + "/history", summary="Versions of an area, newest first")
def item_history(feature_id: FeatureId, layer: EditableLayerDep, session: SessionDep) -> dict[str, Any]:
    """List every stored version of an area, deleted ones included, for its editors."""
    versions = editing.area_history(session.connection(), layer, feature_id)
    return {"id": feature_id, "collection": layer.id, "versions": versions}


@router.post(ITEM + "/restore", summary="Restore a deleted area")
def restore_item(
    feature_id: FeatureId, layer: EditableLayerDep, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    """Bring back a soft-deleted area as a new version."""
    written = editing.restore_area(session.connection(), layer, principal, feature_id)
    session.commit()
    return _written(written, 200)
