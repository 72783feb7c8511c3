"""Domain errors raised below api/; api/errors.py maps each class to an HTTP status."""

from __future__ import annotations

from typing import Any


class KendaliError(Exception):
    """Base of every error a client may be told about; carries a safe bilingual message."""

    code = "error"

    def __init__(self, message_en: str, message_id: str, **details: Any) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_id = message_id
        self.details = details

    def message(self, lang: str) -> str:
        """Return the message in `lang` (Indonesian unless "en")."""
        return self.message_en if lang == "en" else self.message_id


class LayerNotFound(KendaliError):
    """No such layer, or the caller may not know it exists."""

    code = "layer_not_found"

    def __init__(self, layer_id: str) -> None:
        super().__init__(
            f"collection {layer_id!r} does not exist", f"koleksi {layer_id!r} tidak ada", layer=layer_id
        )


class FeatureNotFound(KendaliError):
    """No such feature in a layer."""

    code = "feature_not_found"

    def __init__(self, layer_id: str, feature_id: object) -> None:
        super().__init__(
            f"feature {feature_id} not found in {layer_id!r}",
            f"fitur {feature_id} tidak ditemukan di {layer_id!r}",
            layer=layer_id,
        )


class InvalidInput(KendaliError):
    """A request value is malformed or out of range."""

    code = "invalid_input"


class OutsideCrsArea(InvalidInput):
    """A coordinate lies outside the area its CRS is defined for, so it cannot be transformed."""

    code = "outside_crs_area"

    def __init__(self) -> None:
        super().__init__(
            "a coordinate lies outside the area its CRS is defined for and cannot be transformed;"
            " use coordinates inside that CRS's area, or another CRS",
            "ada koordinat di luar wilayah yang dicakup CRS-nya sehingga tidak dapat ditransformasi;"
            " gunakan koordinat di dalam wilayah CRS itu, atau CRS lain",
        )


class InvalidProperties(InvalidInput):
    """Feature properties do not match the layer's schema."""

    code = "invalid_properties"

    def __init__(self, layer_id: str, errors: list[dict[str, str]]) -> None:
        listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__(
            f"invalid properties for {layer_id!r}: {listed}",
            f"atribut tidak sah untuk {layer_id!r}: {listed}",
            errors=errors,
        )


class InvalidGeometryError(InvalidInput):
    """A geometry cannot be stored."""

    code = "invalid_geometry"


class Forbidden(KendaliError):
    """The caller is known but may not do this."""

    code = "forbidden"


class Unauthorized(KendaliError):
    """The caller's credentials are missing or wrong."""

    code = "unauthorized"


class Conflict(KendaliError):
    """The write collides with stored data (duplicate key)."""

    code = "conflict"


class PreconditionFailed(KendaliError):
    """An If-Match version is stale."""

    code = "precondition_failed"


class QueryTimeout(KendaliError):
    """A query ran past the statement timeout."""

    code = "query_timeout"

    def __init__(self) -> None:
        super().__init__(
            "the query took too long and was stopped; narrow the request",
            "kueri terlalu lama dan dihentikan; persempit permintaan",
        )


class DatabaseUnavailable(KendaliError):
    """The database cannot be reached right now."""

    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__("the database is not reachable", "basis data tidak dapat dihubungi")
