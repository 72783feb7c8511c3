"""Kominfo's CCTV cameras in public spaces."""

from typing import Annotated

from pydantic import AnyUrl, BaseModel, Field
from shapely import Point
from shapely.geometry.base import BaseGeometry

from geo.fov import field_of_view
from geo.kinds import GeometryKind
from layers.catalog._common import STRICT, labels, minutes
from layers.catalog.spec import Access, LayerSpec, StatusSpec, Style, Titles, Visible


class CameraProperties(BaseModel):
    """Attributes of one camera; the stream address is for internal roles only."""

    model_config = STRICT

    camera_id: str = Field(min_length=1, max_length=64)
    location: str | None = Field(None, max_length=200)
    stream_url: Annotated[AnyUrl | None, Visible(to="internal")] = None
    view_direction_deg: float = Field(ge=0, lt=360)
    fov_deg: float = Field(gt=0, le=360)
    range_m: float = Field(gt=0, le=1000)
    ptz: bool = False


def camera_footprint(point: BaseGeometry, props: BaseModel) -> BaseGeometry:
    """Return the camera's field-of-view polygon."""
    assert isinstance(props, CameraProperties) and isinstance(point, Point)  # noqa: S101 - catalog invariant
    return field_of_view(point.x, point.y, props.view_direction_deg, props.fov_deg, props.range_m)


LAYER = LayerSpec(
    id="cctv",
    title=Titles("Kamera CCTV", "CCTV cameras"),
    description=Titles(
        "Kamera CCTV di ruang publik yang dipantau Command Center.",
        "CCTV cameras in public spaces watched by the Command Center.",
    ),
    geometry=GeometryKind.POINT,
    owner="kominfo",
    access=Access.PUBLIC,
    properties=CameraProperties,
    status=StatusSpec(
        values=("online", "offline"),
        labels=labels(online=("Daring", "Online"), offline=("Luring", "Offline")),
        report_every=minutes(1),
        stale_after=minutes(10),
    ),
    style=Style(color="#1565c0", by_status={"online": "#2e7d32", "offline": "#c62828"}),
    editors=frozenset({"kominfo-editor", "kominfo-admin"}),
    footprint=camera_footprint,
)
