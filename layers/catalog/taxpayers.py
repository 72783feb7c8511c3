"""BPPRD's taxpayers with tapping boxes; confidential."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from geo.kinds import GeometryKind
from layers.catalog._common import STRICT, hours, labels, minutes
from layers.catalog.spec import Access, LayerSpec, StatusSpec, Style, Titles, Visible

ANALYSTS = frozenset({"bpprd-analyst", "bpprd-supervisor", "bpprd-admin"})


class TaxpayerProperties(BaseModel):
    """A business that pays local tax and reports its sales through a tapping box."""

    model_config = STRICT

    nop: str = Field(pattern=r"^[0-9][0-9.\-]{8,30}$", description="Nomor Objek Pajak")
    business_name: str = Field(min_length=1, max_length=200)
    category: Literal["restoran", "hotel", "hiburan", "parkir"]
    tapping_box_id: str = Field(min_length=1, max_length=64)
    address: str | None = Field(None, max_length=300)
    tax_rate_pct: Annotated[float, Visible(roles=ANALYSTS)] = Field(10.0, ge=0, le=100)


LAYER = LayerSpec(
    id="taxpayers",
    title=Titles("Wajib pajak (tapping box)", "Taxpayers (tapping boxes)"),
    description=Titles(
        "Wajib pajak daerah dengan tapping box; RAHASIA, hanya untuk BPPRD.",
        "Local taxpayers with tapping boxes; CONFIDENTIAL, BPPRD only.",
    ),
    geometry=GeometryKind.POINT,
    owner="bpprd",
    access=Access.RESTRICTED,
    readers=frozenset({"bpprd-*", "kominfo-supervisor"}),
    editors=frozenset({"bpprd-editor", "bpprd-admin"}),
    properties=TaxpayerProperties,
    status=StatusSpec(
        values=("online", "offline"),
        labels=labels(online=("Daring", "Online"), offline=("Luring", "Offline")),
        value_label=Titles("Transaksi hari ini (Rp)", "Transactions today (IDR)"),
        unit="IDR",
        value_range=(0, 1e12),
        value_visible=Visible(roles=ANALYSTS),
        report_every=minutes(60),
        stale_after=hours(6),
    ),
    style=Style(color="#6a1b9a", by_status={"online": "#2e7d32", "offline": "#c62828"}, radius=3),
    min_zoom=10,
)
