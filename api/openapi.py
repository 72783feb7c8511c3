"""The OpenAPI document at /api, written as OpenAPI 3.0 (what OGC API – Features Part 1 asks for)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def _downgrade(node: Any) -> Any:
    """Rewrite JSON Schema 2020-12 constructs FastAPI emits into their OpenAPI 3.0 forms."""
    if isinstance(node, list):
        return [_downgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _downgrade(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            out.pop(key)
            if len(rest) == 1 and isinstance(rest[0], dict):
                out = {**rest[0], **out}
            else:
                out[key] = rest
            out["nullable"] = True
    if "examples" in out and isinstance(out["examples"], list) and "schema" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    return out


def install_openapi(app: FastAPI) -> None:
    """Serve an OpenAPI 3.0.3 document built from the app's routes."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema = _downgrade(schema)
            schema["openapi"] = "3.0.3"
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
