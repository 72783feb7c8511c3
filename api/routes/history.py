"""Recent status history of one asset, for the dashboard's chart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import PrincipalDep, SessionDep
from layers.access.policy import field_view, layer_for
from layers.live.history import MAX_HOURS, asset_history

router = APIRouter(tags=["live status"])

# `/items/{id}/history` already lists the versions of drawn areas (editing); observations get their own name.
OBSERVATIONS = "/collections/{collection_id}/items/{feature_id}/observations"


@router.get(OBSERVATIONS, summary="Status history of an asset")
def observations(
    collection_id: str,
    feature_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    session: SessionDep,
    principal: PrincipalDep,
    hours: Annotated[int, Query(ge=1, le=MAX_HOURS)] = 24,
) -> dict[str, Any]:
    """Return the asset's observations (time, status, value) of the last `hours`, oldest first."""
    layer = layer_for(principal, collection_id)
    history = asset_history(
        session.connection(), layer, field_view(principal, layer), feature_id, datetime.now(UTC), hours
    )
    return {
        "id": history.asset_id,
        "collection": layer.id,
        "since": history.since.isoformat(),
        "until": history.until.isoformat(),
        "unit": history.unit,
        "truncated": history.truncated,
        "observations": history.points,
    }
