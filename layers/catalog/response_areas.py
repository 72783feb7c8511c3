"""BPBD's disaster-response areas: drawn, versioned polygons with a lifecycle."""

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT
from layers.catalog.spec import Access, LayerSpec, Storage, Style, Titles


class ResponseAreaProperties(BaseModel):
    """A response area's lifecycle and purpose; the author is set by the server."""

    model_config = STRICT

    state: Literal["draft", "active", "closed"] = "draft"
    hazard: Literal["banjir", "longsor", "kebakaran", "gempa", "tsunami", "cuaca_ekstrem", "lainnya"]
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    notes: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _period_is_ordered(self) -> "ResponseAreaProperties":
        start: datetime | None = self.valid_from
        if start is not None and self.valid_to is not None and self.valid_to <= start:
            raise ValueError("valid_to must be after valid_from")
        return self


LAYER = LayerSpec(
    id="response_areas",
    title=Titles("Area tanggap bencana", "Disaster-response areas"),
    description=Titles(
        "Area yang digambar BPBD untuk tanggap darurat: draf, aktif, ditutup.",
        "Areas BPBD draws for emergency response: draft, active, closed.",
    ),
    geometry=GeometryKind.POLYGON,
    owner="bpbd",
    access=Access.INTERNAL,
    storage=Storage.AREAS,
    properties=ResponseAreaProperties,
    style=Style(
        color="#d84315",
        by_status={"draft": "#9e9e9e", "active": "#d84315", "closed": "#607d8b"},
        fill_opacity=0.2,
        line_width=2,
    ),
    editors=frozenset({"bpbd-editor", "bpbd-admin", "bpbd-supervisor", "kominfo-supervisor"}),
)
