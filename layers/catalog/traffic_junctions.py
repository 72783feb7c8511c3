"""Dishub's traffic junctions: counts, congestion and signal status."""

from typing import Literal

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT, labels, minutes
from layers.catalog.spec import Access, LayerSpec, StatusSpec, Style, Titles


class JunctionProperties(BaseModel):
    """A signalised or unsignalised road junction with a traffic counter."""

    model_config = STRICT

    junction_code: str = Field(min_length=1, max_length=32)
    signal_type: Literal["fixed_time", "actuated", "adaptive", "none"]
    legs: int = Field(ge=3, le=6)
    counter_id: str | None = Field(None, max_length=64)


LAYER = LayerSpec(
    id="traffic_junctions",
    title=Titles("Simpang lalu lintas", "Traffic junctions"),
    description=Titles(
        "Simpang Dishub dengan jumlah kendaraan, tingkat kepadatan dan status lampu.",
        "Dishub junctions with vehicle counts, congestion level and signal status.",
    ),
    geometry=GeometryKind.POINT,
    owner="dishub",
    access=Access.PUBLIC,
    properties=JunctionProperties,
    status=StatusSpec(
        values=("lancar", "padat", "macet"),
        labels=labels(lancar=("Lancar", "Free flow"), padat=("Padat", "Heavy"), macet=("Macet", "Jammed")),
        value_label=Titles("Kendaraan per 15 menit", "Vehicles per 15 minutes"),
        unit="veh/15min",
        value_range=(0, 10_000),
        report_every=minutes(5),
        stale_after=minutes(30),
    ),
    style=Style(color="#37474f", by_status={"lancar": "#2e7d32", "padat": "#f9a825", "macet": "#b71c1c"}),
    editors=frozenset({"dishub-editor", "dishub-admin"}),
)
