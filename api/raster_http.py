"""HTTP plumbing shared by the raster, basemap and style routes: settings, errors, cacheable tiles."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request, Response

from api.settings import ApiSettings
from basemaps.errors import InvalidTile, SourceNotFound, SourceUnreadable
from basemaps.raster_tiles import RasterFile
from basemaps.settings import BasemapSettings
from layers.errors import InvalidInput
from layers.rasters import RasterSource
from layers.rasters import SourceNotFound as SourceNotFoundError

STATIC_MAX_AGE_S = 3600


def get_basemap_settings(request: Request) -> BasemapSettings:
    """Return the basemap settings the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings.basemaps


BasemapSettingsDep = Annotated[BasemapSettings, Depends(get_basemap_settings)]


@contextmanager
def basemap_errors(source_id: str) -> Iterator[None]:
    """Turn basemaps/ errors into domain errors: unknown or unreadable source 404, bad tile 400."""
    try:
        yield
    except InvalidTile as exc:
        raise InvalidInput(exc.message_en, exc.message_id) from None
    except (SourceNotFound, SourceUnreadable):
        raise SourceNotFoundError(source_id) from None


def raster_file(raster: RasterSource) -> RasterFile:
    """Return what basemaps/ needs to read a registered raster."""
    return RasterFile(raster.path, raster.kind, raster.unit)


def etag_of(body: bytes) -> str:
    """Return a strong ETag of a response body."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cached_response(
    request: Request,
    body: bytes,
    media_type: str,
    *,
    max_age_s: int = STATIC_MAX_AGE_S,
    encoding: str | None = None,
    public: bool = True,
) -> Response:
    """Return the body with a strong ETag and Cache-Control, or 304 when the client's copy matches.

    A gzipped body (vector tiles of most archives) is unpacked for a client that does not accept gzip.
    """
    if encoding == "gzip" and "gzip" not in request.headers.get("accept-encoding", ""):
        body, encoding = gzip.decompress(body), None
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": f"{'public' if public else 'private'}, max-age={max_age_s}"}
    headers["Vary"] = "Accept-Encoding"
    wanted = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(body, media_type=media_type, headers=headers)
