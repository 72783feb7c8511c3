"""Health of the city's applications (SIMAK, SIMDATIK, ...) at their agency's office."""

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT, labels, minutes
from layers.catalog.agencies import AGENCIES
from layers.catalog.spec import Access, LayerSpec, StatusSpec, Style, Titles, Visible


class CityAppProperties(BaseModel):
    """A city application, placed at the office of the agency that runs it."""

    model_config = STRICT

    app_code: str = Field(pattern=r"^[a-z0-9_\-]{2,32}$")
    app_name: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=2, max_length=32, json_schema_extra={"enum": list(AGENCIES)})
    health_url: Annotated[AnyHttpUrl | None, Visible(to="internal")] = None


LAYER = LayerSpec(
    id="city_apps",
    title=Titles("Aplikasi kota", "City applications"),
    description=Titles(
        "Kesehatan aplikasi pemerintah kota: aktif atau mati dan waktu respons.",
        "Health of city government applications: up or down and response time.",
    ),
    geometry=GeometryKind.POINT,
    owner="kominfo",
    access=Access.INTERNAL,
    properties=CityAppProperties,
    status=StatusSpec(
        values=("up", "down"),
        labels=labels(up=("Aktif", "Up"), down=("Mati", "Down")),
        value_label=Titles("Waktu respons", "Response time"),
        unit="ms",
        value_range=(0, 600_000),
        report_every=minutes(1),
        stale_after=minutes(10),
    ),
    style=Style(color="#00838f", by_status={"up": "#2e7d32", "down": "#c62828"}, radius=8),
    editors=frozenset({"kominfo-editor", "kominfo-admin"}),
)
