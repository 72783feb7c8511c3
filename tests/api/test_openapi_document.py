"""The OpenAPI document at /api, as each caller receives it: valid 3.0, self-contained, one path per shape."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator
from sqlalchemy import Engine

from tests.api._api_callers import CALLERS, caller_headers, collection_ids, get_json


@pytest.fixture(scope="module", params=sorted(CALLERS))
def caller(request: pytest.FixtureRequest, engine: Engine) -> Iterator[tuple[str, dict[str, str]]]:
    """A caller's name and request headers, the key committed for the module."""
    with caller_headers(engine, request.param) as headers:
        yield request.param, headers


@pytest.fixture(scope="module")
def document(server_url: str, caller: tuple[str, dict[str, str]]) -> dict[str, Any]:
    """The OpenAPI document the caller receives from /api."""
    doc: dict[str, Any] = get_json(f"{server_url}/api", caller[1])
    return doc


def _walk(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    """Yield (JSON pointer, value) of every node of a JSON document."""
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _walk(value, f"{path}/{key}")


def _path_parameters(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (path, method or "*", parameter) for every path parameter, resolving local $refs."""
    for path, item in document["paths"].items():
        for where, op in [("*", item), *((m, o) for m, o in item.items() if isinstance(o, dict))]:
            for param in op.get("parameters", []):
                if "$ref" in param:
                    param = _resolve(document, param["$ref"])
                if param.get("in") == "path":
                    yield path, where, param


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_api_document_is_valid_openapi_30(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.0."), document["openapi"]
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in OpenAPIV30SpecValidator(document).iter_errors()
    ]
    assert not errors, "\n".join(errors)


def test_api_document_has_no_remote_refs(document: dict[str, Any]) -> None:
    refs = [(p, v) for p, v in _walk(document) if p.endswith("/$ref")]
    remote = [f"{p} -> {v}" for p, v in refs if not (isinstance(v, str) and v.startswith("#/"))]
    assert not remote, "\n".join(remote)
    for _, ref in refs:
        _resolve(document, ref)  # a dangling local ref raises KeyError


def test_no_two_templated_paths_differ_only_in_parameter_names(document: dict[str, Any]) -> None:
    shapes: dict[str, list[str]] = defaultdict(list)
    for path in document["paths"]:
        shapes[re.sub(r"\{[^}]*\}", "{}", path)].append(path)
    clashes = [paths for paths in shapes.values() if len(paths) > 1]
    assert not clashes, "\n".join(" / ".join(paths) for paths in clashes)


def test_every_collection_path_parameter_lists_the_callers_collections(
    server_url: str, caller: tuple[str, dict[str, str]], document: dict[str, Any]
) -> None:
    name, headers = caller
    ids = collection_ids(server_url, headers)
    assert ("taxpayers" in ids) is (name == "bpprd"), ids  # the two callers do see different catalogues
    wrong = []
    for path, where, param in _path_parameters(document):
        first = path.split("/")[2] if path.startswith("/collections/{") else None
        if param["name"] == "collection_id" or first == f"{{{param['name']}}}":
            enum = param.get("schema", {}).get("enum")
            if param["name"] != "collection_id" or sorted(enum or []) != sorted(ids) or len(enum) != len(ids):
                wrong.append(f"{where.upper()} {path} {{{param['name']}}}: enum {enum}")
    assert not wrong, f"expected {{collection_id}} with enum {ids}:\n" + "\n".join(wrong)


# OGC API - Features Part 1, /ats/core/fc-bbox-definition, fc-limit-definition and fc-time-definition
# (explode matters only for the array: a scalar reads the same either way).
ITEMS_PARAMETERS: dict[str, dict[str, Any]] = {
    "bbox": {"type": "array", "minItems": 4, "maxItems": 6, "style": "form", "explode": False},
    "limit": {"type": "integer", "style": "form"},
    "datetime": {"type": "string", "style": "form"},
}


SERIAL = ("style", "explode")


@pytest.mark.parametrize("name", sorted(ITEMS_PARAMETERS))
def test_items_parameter_has_the_shape_ogc_features_core_defines(document: dict[str, Any], name: str) -> None:
    op = document["paths"]["/collections/{collection_id}/items"]["get"]
    params = [_resolve(document, p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
    found = [p for p in params if p.get("name") == name and p.get("in") == "query"]
    assert len(found) == 1, params
    param, want = found[0], ITEMS_PARAMETERS[name]
    schema = param.get("schema", {})
    got: dict[str, Any] = {k: param.get(k, "form" if k == "style" else True) for k in want if k in SERIAL}
    got |= {k: schema.get(k) for k in want if k not in SERIAL}
    assert got == want and not param.get("required", False), param
    if name == "bbox":
        assert schema.get("items", {}).get("type") == "number", param
