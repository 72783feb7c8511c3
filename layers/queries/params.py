"""Typed, bounded parameters of query layers, and their parsing into clear bilingual 400s."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import shapely
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry

from geo.validation import GeometryError, check_geometry, parse_geometry
from layers.access.policy import Action, Principal, allows
from layers.catalog import LAYERS
from layers.catalog.spec import LayerSpec
from layers.errors import InvalidInput

MAX_GEOMETRY_CHARS = 1_000_000  # 10,000 vertices of GeoJSON at full precision fit
MAX_GEOMETRY_VERTICES = 10_000
MAX_NAMES = 16


class ParamError(ValueError):
    """A parameter value is wrong; carries the reason in English and Indonesian."""

    def __init__(self, en: str, id_: str) -> None:
        super().__init__(en)
        self.en = en
        self.id = id_


class QueryParams(BaseModel):
    """Base of every query layer's parameters: unknown names are refused, values are frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, arbitrary_types_allowed=True
    )


def param(
    default: Any,
    title_id: str,
    title_en: str,
    *,
    unit: str | None = None,
    ge: float | None = None,
    le: float | None = None,
    **extra: Any,
) -> Any:
    """Return a pydantic Field carrying both titles and the unit into the JSON Schema."""
    schema_extra: dict[str, Any] = {"x-title-en": title_en}
    if unit is not None:
        schema_extra["x-unit"] = unit
    return Field(
        default, title=title_id, description=title_en, ge=ge, le=le, json_schema_extra=schema_extra, **extra
    )


def _lonlat(value: Any) -> tuple[float, float]:
    if isinstance(value, list | tuple):
        parts = list(value)
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    else:
        raise ParamError("a point is 'lon,lat'", "titik ditulis 'bujur,lintang'")
    if len(parts) != 2:
        raise ParamError("a point is 'lon,lat'", "titik ditulis 'bujur,lintang'")
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except (TypeError, ValueError):
        raise ParamError(
            "a point is two numbers 'lon,lat'", "titik berupa dua angka 'bujur,lintang'"
        ) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ParamError(
            "longitude must be within ±180 and latitude within ±90",
            "bujur harus dalam ±180 dan lintang dalam ±90",
        )
    return lon, lat


def _geometry(value: Any) -> BaseGeometry:
    """Return a valid EPSG:4326 geometry from GeoJSON (object or text) or WKT."""
    if isinstance(value, BaseGeometry):
        return value
    if isinstance(value, str) and len(value) > MAX_GEOMETRY_CHARS:
        raise ParamError(
            f"geometry text is longer than {MAX_GEOMETRY_CHARS} characters",
            f"teks geometri lebih dari {MAX_GEOMETRY_CHARS} karakter",
        )
    try:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = json.loads(value)
        if isinstance(value, Mapping):
            return parse_geometry(value, max_vertices=MAX_GEOMETRY_VERTICES)
        if isinstance(value, str):
            return check_geometry(shapely.from_wkt(value), max_vertices=MAX_GEOMETRY_VERTICES)
    except GeometryError as exc:
        raise ParamError(exc.reason, exc.reason_id) from None
    except (ShapelyError, ValueError, RecursionError):
        raise ParamError("geometry is neither GeoJSON nor WKT", "geometri bukan GeoJSON maupun WKT") from None
    raise ParamError("geometry is neither GeoJSON nor WKT", "geometri bukan GeoJSON maupun WKT")


def _names(value: Any) -> tuple[str, ...]:
    items = (
        value.split(",")
        if isinstance(value, str)
        else list(value)
        if isinstance(value, list | tuple)
        else None
    )
    if items is None:
        raise ParamError("a list of names separated by commas", "daftar nama dipisah koma")
    names = tuple(dict.fromkeys(str(n).strip() for n in items if str(n).strip()))
    if not names or len(names) > MAX_NAMES or any(len(n) > 64 for n in names):
        raise ParamError(
            f"name 1 to {MAX_NAMES} names of at most 64 characters",
            f"sebutkan 1 sampai {MAX_NAMES} nama, masing-masing paling panjang 64 karakter",
        )
    return names


LonLat = Annotated[
    tuple[float, float],
    BeforeValidator(_lonlat),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9.]+,-?[0-9.]+$", "examples": ["128.18,-3.69"]}),
]
GeometryValue = Annotated[
    BaseGeometry,
    BeforeValidator(_geometry),
    WithJsonSchema(
        {
            "type": "string",
            "contentMediaType": "application/geo+json",
            "description": "GeoJSON or WKT, EPSG:4326",
        }
    ),
]
Names = Annotated[
    tuple[str, ...],
    BeforeValidator(_names),
    WithJsonSchema({"type": "string", "description": "comma-separated"}),
]


def readable_named_layers(
    principal: Principal, names: tuple[str, ...], parameter: str = "layers"
) -> list[LayerSpec]:
    """Return the named layers; one that does not exist or is hidden from the caller is a 400."""
    out: list[LayerSpec] = []
    for name in names:
        layer = LAYERS.get(name)
        if layer is None or not allows(principal, Action.READ, layer):
            raise InvalidInput(
                f"{parameter}: unknown layer {name[:64]!r}",
                f"{parameter}: lapisan {name[:64]!r} tidak dikenal",
                parameter=parameter,
            )
        out.append(layer)
    return out


_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("is required", "wajib diisi"),
    "greater_than_equal": ("must be at least {ge}", "harus paling sedikit {ge}"),
    "greater_than": ("must be more than {gt}", "harus lebih dari {gt}"),
    "less_than_equal": ("must be at most {le}", "harus paling banyak {le}"),
    "less_than": ("must be less than {lt}", "harus kurang dari {lt}"),
    "int_parsing": ("must be an integer", "harus bilangan bulat"),
    "int_from_float": ("must be an integer", "harus bilangan bulat"),
    "float_parsing": ("must be a number", "harus angka"),
    "finite_number": ("must be a finite number", "harus angka berhingga"),
    "bool_parsing": ("must be true or false", "harus true atau false"),
    "literal_error": ("must be one of {expected}", "harus salah satu dari {expected}"),
    "enum": ("must be one of {expected}", "harus salah satu dari {expected}"),
    "datetime_parsing": ("must be an RFC 3339 date-time", "harus tanggal-waktu RFC 3339"),
    "datetime_from_date_parsing": ("must be an RFC 3339 date-time", "harus tanggal-waktu RFC 3339"),
    "timezone_aware": ("must carry a time zone", "harus menyertakan zona waktu"),
    "string_too_long": ("is too long", "terlalu panjang"),
    "extra_forbidden": ("is not a parameter of this query", "bukan parameter kueri ini"),
}


def _reason(error: Mapping[str, Any], model: type[BaseModel]) -> tuple[str, str]:
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, ParamError):
        return cause.en, cause.id
    en, id_ = _MESSAGES.get(error["type"], ("has an invalid value", "nilainya tidak sah"))
    try:
        en, id_ = en.format(**ctx), id_.format(**ctx)
    except (KeyError, IndexError):
        pass
    name = str(error["loc"][0]) if error.get("loc") else ""
    unit = (model.model_json_schema().get("properties", {}).get(name, {}) or {}).get("x-unit")
    if unit and error["type"] in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        en, id_ = f"{en} {unit}", f"{id_} {unit}"
    return en, id_


def parse_params(model: type[BaseModel], values: Mapping[str, Any]) -> BaseModel:
    """Return the validated parameters, or an InvalidInput naming the first wrong one (bilingual)."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        name = ".".join(str(p) for p in first.get("loc", ())) or "parameters"
        en, id_ = _reason(first, model)
        listed = [
            {"parameter": ".".join(str(p) for p in e.get("loc", ())), "message": _reason(e, model)[0]}
            for e in errors
        ]
        raise InvalidInput(f"{name}: {en}", f"{name}: {id_}", parameter=name, errors=listed) from None


def _flatten_optional(prop: Mapping[str, Any]) -> dict[str, Any]:
    """Return an optional parameter's schema as its one non-null option (forms need the bounds at hand)."""
    entry = {k: v for k, v in prop.items() if k != "anyOf"}
    options = [o for o in prop.get("anyOf", ()) if o.get("type") != "null"]
    if len(options) == 1:
        entry = {**options[0], **entry}
    return entry


def _without(entry: dict[str, Any], withheld: frozenset[str]) -> dict[str, Any]:
    """Return a parameter's schema with the withheld names left out of its default, enum and examples."""
    out = dict(entry)
    for key in ("default", "enum", "examples"):
        value = out.get(key)
        if isinstance(value, list | tuple):
            out[key] = [v for v in value if v not in withheld]
        elif isinstance(value, str) and value in withheld:
            del out[key]
    return out


def describe_params(
    model: type[BaseModel], lang: str, withheld: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Return the parameters as JSON Schema with titles in `lang` (for /collections and forms), naming
    none of the `withheld` layer ids (those the caller may not see)."""
    schema = model.model_json_schema()
    props: dict[str, Any] = {}
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        entry = _without(_flatten_optional(prop), withheld)
        if lang == "en" and "x-title-en" in prop:
            entry["title"] = prop["x-title-en"]
        entry["description"] = prop.get("x-title-en", prop.get("description", ""))
        entry["x-title-id"] = prop.get("title", name)
        entry["x-title-en"] = prop.get("x-title-en", name)
        entry["x-required"] = name in required
        props[name] = entry
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = sorted(required)
    if "$defs" in schema:
        out["$defs"] = schema["$defs"]
    return out


def runs_with_defaults(model: type[BaseModel]) -> bool:
    """Return whether a query can run with no parameter given (a client without a form can open it)."""
    try:
        parse_params(model, {})
    except InvalidInput:
        return False
    return True
