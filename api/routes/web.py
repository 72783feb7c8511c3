"""The dashboard: `/` for browsers (API clients keep the OGC landing page), its files and libraries."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

router = APIRouter(tags=["dashboard"], include_in_schema=False)

WEB_ROOT: Final = Path(__file__).resolve().parents[2] / "web"
STATIC: Final = WEB_ROOT / "static"
NODE_MODULES: Final = WEB_ROOT / "node_modules"

# Only these files of node_modules are served: the libraries the dashboard and the reports load.
VENDOR: Final = {
    "maplibre-gl.js": "maplibre-gl/dist/maplibre-gl.js",
    "maplibre-gl.css": "maplibre-gl/dist/maplibre-gl.css",
    "terra-draw.js": "terra-draw/dist/terra-draw.umd.js",
    "terra-draw-maplibre-gl-adapter.js": (
        "terra-draw-maplibre-gl-adapter/dist/terra-draw-maplibre-gl-adapter.umd.js"
    ),
    "leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet.css": "leaflet/dist/leaflet.css",
}

# Scripts only from kendali itself: the Command Center may have no internet, and nothing may leak out.
# Images and fetches may go to https basemaps (e.g. an OSM style); workers come from MapLibre's blobs.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; connect-src 'self' https:; worker-src 'self' blob:; "
    "child-src blob:; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
)
PAGE_HEADERS: Final = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
APP_CACHE: Final = "no-cache"  # revalidate with the ETag: app files change without changing names
VENDOR_CACHE: Final = "public, max-age=86400"  # pinned by the lockfile


def wants_dashboard(scope: Scope) -> bool:
    """Return whether a request for `/` comes from a browser: no `f` parameter, Accept starting text/html."""
    if "f" in parse_qs(scope.get("query_string", b"").decode("latin-1")):
        return False
    accept = next((v for k, v in scope.get("headers", []) if k == b"accept"), b"")
    return accept.decode("latin-1").lstrip().startswith("text/html")


class BrowserRoute(APIRoute):
    """A route that matches only browser requests, so API clients fall through to the next route."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match as usual, but not for API clients."""
        match, child = super().matches(scope)
        if match is not Match.NONE and not wants_dashboard(scope):
            return Match.NONE, {}
        return match, child


def dashboard() -> Response:
    """Serve the dashboard page."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


router.add_api_route("/", dashboard, methods=["GET"], route_class_override=BrowserRoute)


@cache
def _files(directory: Path) -> StaticFiles:
    return StaticFiles(directory=directory, check_dir=False)


async def _serve(directory: Path, path: str, request: Request, cache_control: str) -> Response:
    response = await _files(directory).get_response(path, request.scope)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def vendor_path(name: str) -> Path:
    """Return the file of a vendored library; 404 if unknown, 503 if `npm ci` has not been run in web/."""
    relative = VENDOR.get(name)
    if relative is None:
        raise HTTPException(404)
    path = NODE_MODULES / relative
    if not path.is_file():
        raise HTTPException(503, "web libraries are not installed: run `npm ci` in web/")
    return path


@router.get("/web/vendor/{name}")
async def vendor(name: str, request: Request) -> Response:
    """Serve a library installed from the npm registry (MapLibre GL JS, Terra Draw, Leaflet)."""
    vendor_path(name)
    return await _serve(NODE_MODULES, VENDOR[name], request, VENDOR_CACHE)


@router.get("/web/{path:path}")
async def static(path: str, request: Request) -> Response:
    """Serve the dashboard's own scripts, styles and images."""
    return await _serve(STATIC, path, request, APP_CACHE)
