"""Kecamatan (districts) of the city."""

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT
from layers.catalog.spec import Access, LayerSpec, Style, Titles


class DistrictProperties(BaseModel):
    """A kecamatan with its statistics-office code."""

    model_config = STRICT

    code: str = Field(pattern=r"^[0-9.]{2,20}$")
    population: int | None = Field(None, ge=0)


LAYER = LayerSpec(
    id="districts",
    title=Titles("Kecamatan", "Districts"),
    description=Titles("Batas kecamatan di Kota Ambon.", "District (kecamatan) boundaries of Kota Ambon."),
    geometry=GeometryKind.POLYGON,
    owner="pupr",
    access=Access.PUBLIC,
    properties=DistrictProperties,
    style=Style(color="#5d4037", fill_opacity=0.05, line_width=2),
    editors=frozenset({"pupr-editor", "pupr-admin"}),
)
