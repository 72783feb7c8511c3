"""The OpenAPI document at /api, written as OpenAPI 3.0 (what OGC API – Features Part 1 asks for)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
# What api/errors.py answers for every error (RFC 9457 and kendali's own members).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, in the caller's language.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "A stable, machine-readable error code."},
        "parameter": {"type": "string", "description": "The request parameter at fault."},
        "errors": {
            "type": "array",
            "description": "Each fault, in a request `field` or in a collection's own `parameter`.",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "field": {"type": "string"},
                    "parameter": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}


def _bounds(out: dict[str, Any]) -> None:
    """Rewrite numeric exclusive bounds (2020-12) as a bound plus a boolean flag (3.0)."""
    for exclusive, bound in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
        value = out.get(exclusive)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        tighter = out.get(bound)
        is_max = bound == "maximum"
        if isinstance(tighter, int | float) and (tighter < value if is_max else tighter > value):
            out.pop(exclusive)  # an inclusive bound already inside the exclusive one
        else:
            out[bound], out[exclusive] = value, True


def _types(out: dict[str, Any]) -> None:
    """Rewrite 2020-12 type lists, tuples and SSE item schemas into their 3.0 forms."""
    kinds = out.get("type")
    if isinstance(kinds, list):
        rest = [k for k in kinds if k != "null"]
        if len(rest) < len(kinds):
            out["nullable"] = True
        if len(rest) == 1:
            out["type"] = rest[0]
        else:
            out.pop("type")
            out["anyOf"] = [{"type": k} for k in rest]
    prefix = out.pop("prefixItems", None)
    if isinstance(prefix, list) and "items" not in out:
        distinct = [p for i, p in enumerate(prefix) if p not in prefix[:i]]
        out["items"] = distinct[0] if len(distinct) == 1 else {"anyOf": distinct}
    if "itemSchema" in out:  # OpenAPI 3.2's event-stream items: 3.0 can only say "a text stream"
        out.pop("itemSchema")
        out.setdefault("schema", {"type": "string"})
    if "contentMediaType" in out and out.get("type") == "string":  # an uploaded file
        out.pop("contentMediaType")
        out.setdefault("format", "binary")


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
    _bounds(out)
    _types(out)
    return out


def _document_errors(schema: dict[str, Any]) -> None:
    """Describe the errors api/errors.py answers: 400 problems for bad input (not FastAPI's 422), and a
    problem body for every other error status."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if responses.pop("422", None) is not None or operation.get("parameters"):
                responses["400"] = _problem("The request's parameters or body are not valid.")
            responses.setdefault("default", _problem("An error, described as an RFC 9457 problem."))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components["Problem"] = PROBLEM_SCHEMA


def install_openapi(app: FastAPI) -> None:
    """Build the app's OpenAPI 3.0.3 document once, from its routes, when `app.openapi()` is first called."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema = _downgrade(schema)
            _document_errors(schema)
            schema["openapi"] = "3.0.3"
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
