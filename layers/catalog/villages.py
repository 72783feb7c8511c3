"""Kelurahan, desa and negeri (villages) inside the districts."""

from typing import Literal

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT
from layers.catalog.spec import Access, LayerSpec, Style, Titles


class VillageProperties(BaseModel):
    """A kelurahan (urban ward), desa or negeri (customary village) and its kecamatan."""

    model_config = STRICT

    code: str = Field(pattern=r"^[0-9.]{2,24}$")
    district_code: str = Field(pattern=r"^[0-9.]{2,20}$")
    kind: Literal["kelurahan", "desa", "negeri"]
    population: int | None = Field(None, ge=0)


LAYER = LayerSpec(
    id="villages",
    title=Titles("Kelurahan/desa", "Villages"),
    description=Titles("Batas kelurahan, desa dan negeri.", "Boundaries of urban wards and villages."),
    geometry=GeometryKind.POLYGON,
    owner="pupr",
    access=Access.PUBLIC,
    properties=VillageProperties,
    style=Style(color="#8d6e63", fill_opacity=0.0, line_width=0.8),
    editors=frozenset({"pupr-editor", "pupr-admin"}),
    min_zoom=11,
)
