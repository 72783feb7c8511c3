"""The situation report: one self-contained HTML page of a view or a response area, for leadership."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import LangDep, PrincipalDep, SessionDep
from api.params import bbox_param, names_param
from api.routes.web import vendor_path
from layers.report.page import render_situation, report_filename
from layers.report.situation import default_layers, gather_situation

router = APIRouter(tags=["dashboard"])

# The page carries its own script (folium's and Leaflet's, inline) and may load nothing from anywhere.
REPORT_CSP: Final = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"
)


@router.get("/report", summary="Situation report (self-contained HTML)", response_class=HTMLResponse)
def situation_report(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
    bbox: Annotated[str | None, Query(max_length=200)] = None,
    area: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    layers: Annotated[str | None, Query(max_length=2000)] = None,
    download: bool = False,
) -> HTMLResponse:
    """Map and summary table (counts per status per layer) of the chosen layers in `bbox` or `area`."""
    chosen = list(names_param("layers", layers)) if layers else default_layers(principal)
    situation = gather_situation(
        session.connection(),
        principal,
        chosen,
        bbox=bbox_param(bbox, 4326, False) if bbox is not None else None,
        area_id=area,
        now=datetime.now(UTC),
    )
    js = vendor_path("leaflet.js").read_text(encoding="utf-8")
    css = vendor_path("leaflet.css").read_text(encoding="utf-8")
    tz = request.app.state.settings.timezone
    page = render_situation(situation, lang, js, css, tz)
    disposition = "attachment" if download else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{report_filename(situation.generated_at, tz)}"',
        "Content-Security-Policy": REPORT_CSP,
        "Cache-Control": "no-store",
    }
    return HTMLResponse(page, headers=headers)
