"""Building absolute links that keep the caller's query parameters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def answers(
    *media_types: str, more: Mapping[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """Return OpenAPI `responses` saying which media types a 200 comes in, plus any other statuses."""
    content: dict[str, Any] = {t.split(";")[0]: {} for t in media_types}
    return {200: {"description": "OK", "content": content}, **(more or {})}


MAX_HEADER_HREF = 8 * 1024  # longer links stay in the body: HTTP clients cap a response's headers


def link_header(links: Sequence[Mapping[str, Any]]) -> str:
    """Return links as an HTTP `Link` header (RFC 8288), for clients that read headers, not bodies."""
    # rel is written bare (an OGC relation URI included): header-driven OGC clients compare it as is,
    # and no title: they split the header on ',', ';' and '=' without quoting rules.
    return ", ".join(
        f'<{item["href"]}>; rel={item["rel"]}; type="{item["type"]}"'
        for item in links
        if len(item["href"]) <= MAX_HEADER_HREF
    )


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
