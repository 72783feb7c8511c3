"""DLHP's waste dumping points (TPS) and how full they are."""

from typing import Literal

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT, hours, labels, minutes
from layers.catalog.spec import Access, LayerSpec, StatusSpec, Style, Titles


class DumpingPointProperties(BaseModel):
    """A temporary waste dumping point (tempat pembuangan sementara)."""

    model_config = STRICT

    tps_type: Literal["tps", "tps3r", "kontainer", "depo"]
    capacity_m3: float = Field(gt=0, le=200)
    address: str | None = Field(None, max_length=300)
    collection_route: str | None = Field(None, max_length=64)


LAYER = LayerSpec(
    id="dumping_points",
    title=Titles("Tempat pembuangan sementara (TPS)", "Waste dumping points"),
    description=Titles(
        "TPS DLHP dengan tingkat keterisian dan waktu pengangkutan terakhir.",
        "DLHP dumping points with fill level and last collection time.",
    ),
    geometry=GeometryKind.POINT,
    owner="dlhp",
    access=Access.PUBLIC,
    properties=DumpingPointProperties,
    status=StatusSpec(
        values=("empty", "half", "full", "overflow"),
        labels=labels(
            empty=("Kosong", "Empty"),
            half=("Setengah", "Half"),
            full=("Penuh", "Full"),
            overflow=("Meluap", "Overflowing"),
        ),
        value_label=Titles("Keterisian", "Fill level"),
        unit="%",
        value_range=(0, 150),
        report_every=minutes(30),
        stale_after=hours(6),
    ),
    style=Style(
        color="#6d4c41",
        by_status={"empty": "#2e7d32", "half": "#f9a825", "full": "#ef6c00", "overflow": "#b71c1c"},
    ),
    editors=frozenset({"dlhp-editor", "dlhp-admin"}),
)
