"""The OpenAPI document as one caller sees it: collection ids they may see as path enums, and each
query layer they may run as a path of its own whose parameters are described."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from api.feature_params import ITEMS, names_for
from layers.access.policy import Principal
from layers.collections import CollectionKind, readable_ids
from layers.queries.access import readable_queries
from layers.queries.params import describe_params
from layers.queries.spec import QuerySpec

TEMPLATED_ITEMS = "/collections/{collection_id}/items"
# The JSON Schema keywords a query parameter keeps in an OpenAPI 3.0 parameter schema.
SCHEMA_KEYS = frozenset(
    {"type", "format", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum", "items"}
    | {"minItems", "maxItems", "default", "title", "description", "exclusiveMinimum", "exclusiveMaximum"}
)


def _schema_3_0(prop: Mapping[str, Any]) -> dict[str, Any]:
    """Return a JSON Schema property as an OpenAPI 3.0 schema: known keywords, bounds as 3.0 has them."""
    out = {k: v for k, v in prop.items() if k in SCHEMA_KEYS and not (k == "default" and v is None)}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[limit] = value
            out[bound] = True
    if isinstance(out.get("items"), Mapping):
        out["items"] = _schema_3_0(out["items"])
    out.setdefault("type", "string")
    if isinstance(out.get("default"), list | tuple) and out["type"] == "string":
        out["default"] = ",".join(str(v) for v in out["default"])  # lists are given comma-separated
    return out


def _query_parameters(spec: QuerySpec) -> list[dict[str, Any]]:
    described = describe_params(spec.params, "en", spec.withheld)
    required = set(described.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "description": str(prop.get("description", name)),
            "schema": _schema_3_0(prop),
        }
        for name, prop in described["properties"].items()
    ]


def _body_schema(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the JSON body a query layer also takes: the same parameters, where a geometry or a CQL2
    JSON filter may be an object and a list an array."""
    props: dict[str, Any] = {}
    for param in parameters:
        schema = dict(param["schema"])
        if schema.get("type") == "string" and "enum" not in schema:
            schema = {"oneOf": [schema, {"type": "object"}, {"type": "array"}]}
        props[param["name"]] = {**schema, "description": param.get("description", "")}
    required = sorted(p["name"] for p in parameters if p.get("required"))
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    return out | ({"required": required} if required else {})


def _query_items_path(templated: Mapping[str, Any], spec: QuerySpec) -> dict[str, Any]:
    """Return the items path of one query layer: the shared parameters and its own, described, in the
    URL (GET) or as a JSON body (POST, for areas too large for a URL)."""
    operation = copy.deepcopy(dict(templated["get"]))
    shared = names_for(ITEMS, CollectionKind.QUERY)
    kept = [p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] in shared]
    operation["parameters"] = kept + _query_parameters(spec)
    operation["operationId"] = f"items_of_{spec.id}"
    operation["summary"] = f"{spec.title.en} (query layer)"
    operation["description"] = spec.description.en
    asked = copy.deepcopy(operation)
    asked["operationId"] = f"items_of_{spec.id}_by_body"
    asked["summary"] = f"{spec.title.en} (query layer, parameters as a JSON body)"
    asked["parameters"] = [p for p in operation["parameters"] if p["in"] != "query"]
    body = _body_schema([p for p in operation["parameters"] if p["in"] == "query"])
    asked["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    asked["responses"] = {
        **asked.get("responses", {}),
        "413": {"description": "The body is too large (problem+json)"},
        "415": {"description": "The body is not JSON (problem+json)"},
    }
    return {"get": operation, "post": asked}


def _set_enums(paths: dict[str, Any], ids: list[str]) -> None:
    for item in paths.values():
        for operation in item.values():
            for param in operation.get("parameters", []):
                if param.get("in") == "path" and param.get("name") == "collection_id":
                    param["schema"] = {"type": "string", "enum": ids}


def caller_document(base: Mapping[str, Any], principal: Principal) -> dict[str, Any]:
    """Return the OpenAPI document for `principal`: only what they may see is named in it."""
    doc = copy.deepcopy(dict(base))
    paths: dict[str, Any] = doc["paths"]
    _set_enums(paths, readable_ids(principal))
    templated = paths.get(TEMPLATED_ITEMS)
    if templated is not None:
        for spec in readable_queries(principal):
            paths[f"/collections/{spec.id}/items"] = _query_items_path(templated, spec)
    return doc
