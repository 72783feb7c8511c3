"""River water-level stations on the river basins (DAS), with Indonesian alert levels."""

from pydantic import BaseModel, Field, model_validator

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT, hours, labels, minutes
from layers.catalog.spec import Access, LayerSpec, StatusSpec, Style, Titles


class DasStationProperties(BaseModel):
    """A water-level gauge and its alert thresholds in centimetres."""

    model_config = STRICT

    station_code: str = Field(min_length=1, max_length=32)
    river_code: str = Field(min_length=1, max_length=32)
    river_name: str = Field(min_length=1, max_length=100)
    waspada_cm: float = Field(gt=0, le=2000)
    siaga_cm: float = Field(gt=0, le=2000)
    awas_cm: float = Field(gt=0, le=2000)

    @model_validator(mode="after")
    def _thresholds_rise(self) -> "DasStationProperties":
        if not self.waspada_cm < self.siaga_cm < self.awas_cm:
            raise ValueError("thresholds must rise: waspada_cm < siaga_cm < awas_cm")
        return self


LAYER = LayerSpec(
    id="das_stations",
    title=Titles("Pos duga air (DAS)", "River water-level stations"),
    description=Titles(
        "Pos pemantau tinggi muka air sungai dengan status normal, waspada, siaga dan awas.",
        "River water-level gauges with alert levels normal, alert, standby and danger.",
    ),
    geometry=GeometryKind.POINT,
    owner="bpbd",
    access=Access.PUBLIC,
    properties=DasStationProperties,
    status=StatusSpec(
        values=("normal", "waspada", "siaga", "awas"),
        labels=labels(
            normal=("Normal", "Normal"),
            waspada=("Waspada", "Alert"),
            siaga=("Siaga", "Standby"),
            awas=("Awas", "Danger"),
        ),
        value_label=Titles("Tinggi muka air", "Water level"),
        unit="cm",
        value_range=(-100, 3000),
        report_every=minutes(15),
        stale_after=hours(1),
    ),
    style=Style(
        color="#0277bd",
        by_status={"normal": "#2e7d32", "waspada": "#f9a825", "siaga": "#ef6c00", "awas": "#b71c1c"},
        radius=7,
    ),
    editors=frozenset({"bpbd-editor", "bpbd-admin", "pupr-editor"}),
)
