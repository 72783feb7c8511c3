"""Building absolute links that keep the caller's query parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"


def base_url(request: Request) -> str:
    """Return the server's base URL as the client sees it (settings.public_url wins)."""
    public = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def link(href: str, rel: str, type_: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return one link object."""
    out: dict[str, Any] = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def with_query(request: Request, path: str, **changes: str | None) -> str:
    """Return base + path with the request's query, changing or dropping (None) some parameters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    query = urlencode(params)
    return f"{base_url(request)}{path}" + (f"?{query}" if query else "")


def wants_html(request: Request) -> bool:
    """Return whether the caller asked for HTML (f=html, or a browser's Accept header without f)."""
    f = request.query_params.get("f")
    if f is not None:
        return f.lower() == "html"
    accept = request.headers.get("accept", "")
    return accept.startswith("text/html")
