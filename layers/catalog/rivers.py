"""Rivers (wai) of the city."""

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT
from layers.catalog.spec import Access, LayerSpec, Style, Titles


class RiverProperties(BaseModel):
    """A river and the basin it drains."""

    model_config = STRICT

    code: str = Field(min_length=1, max_length=32)
    length_km: float | None = Field(None, gt=0, le=500)


LAYER = LayerSpec(
    id="rivers",
    title=Titles("Sungai", "Rivers"),
    description=Titles("Alur sungai utama di Kota Ambon.", "Main river courses of Kota Ambon."),
    geometry=GeometryKind.LINE,
    owner="pupr",
    access=Access.PUBLIC,
    properties=RiverProperties,
    style=Style(color="#1e88e5", line_width=2.5),
    editors=frozenset({"pupr-editor", "pupr-admin"}),
)
