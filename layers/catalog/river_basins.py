"""River basins (daerah aliran sungai, DAS): the catchment of each river."""

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT
from layers.catalog.spec import Access, LayerSpec, Style, Titles


class RiverBasinProperties(BaseModel):
    """The catchment polygon of one river."""

    model_config = STRICT

    code: str = Field(min_length=1, max_length=32)
    river_code: str = Field(min_length=1, max_length=32)


LAYER = LayerSpec(
    id="river_basins",
    title=Titles("Daerah aliran sungai", "River basins"),
    description=Titles("Daerah tangkapan air tiap sungai.", "The catchment area of each river."),
    geometry=GeometryKind.POLYGON,
    owner="pupr",
    access=Access.PUBLIC,
    properties=RiverBasinProperties,
    style=Style(color="#4fc3f7", fill_opacity=0.12, line_width=1),
    editors=frozenset({"pupr-editor", "pupr-admin"}),
)
