"""Alerts, area rules and webhooks: `/alerts`, `/alert-rules`, `/webhooks`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import LangDep, PrincipalDep, SessionDep
from api.links import JSON, base_url, link, with_query
from api.settings import ApiSettings
from ingest.webhooks import WebhookSettings, change, register
from layers.alerts import area_rules, webhooks
from layers.alerts import reading as alert_queries
from layers.alerts.rules import Severity

router = APIRouter(tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
HookId = Annotated[int, Path(ge=1, le=2**63 - 1)]
RuleId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
LayerName = Annotated[str, Field(min_length=1, max_length=64)]


def webhook_settings(request: Request) -> WebhookSettings:
    """Return the webhook settings the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings.webhooks


WebhookSettingsDep = Annotated[WebhookSettings, Depends(webhook_settings)]


class WebhookIn(BaseModel):
    """A webhook to register; without a secret the server makes one and returns it once."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    secret: str | None = Field(None, min_length=16, max_length=200)
    layers: list[LayerName] | None = Field(None, min_length=1, max_length=50)
    min_severity: Severity = Severity.INFO


class WebhookPatch(BaseModel):
    """Changes to a webhook; members left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2000)
    layers: list[LayerName] | None = Field(None, min_length=1, max_length=50)
    min_severity: Severity | None = None
    active: bool | None = None


def _with_links(request: Request, alert: dict[str, Any]) -> dict[str, Any]:
    base = base_url(request)
    asset = f"{base}/collections/{alert['layer']}/items/{alert['asset']['id']}"
    return {
        **alert,
        "links": [
            link(f"{base}/alerts/{alert['id']}", "self", JSON),
            link(asset, "related", "application/geo+json", title="asset"),
        ],
    }


@router.get("/alerts", summary="Alerts on the layers the caller may see, newest first")
def list_alerts(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lang: LangDep,
    state: Literal["open", "acknowledged", "resolved", "active", "all"] = "open",
    layer: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=alert_queries.MAX_LIMIT)] = 100,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Alerts older than this id.")] = None,
) -> JSONResponse:
    """List alerts: open by default; `active` is open plus acknowledged; `cursor` pages to older ones."""
    query = alert_queries.AlertQuery(state=state, layer_id=layer, limit=limit, before_id=cursor)
    found = alert_queries.list_alerts(session.connection(), principal, query, lang)
    links = [link(with_query(request, "/alerts"), "self", JSON)]
    if len(found) == limit:
        links.append(link(with_query(request, "/alerts", cursor=str(found[-1]["id"])), "next", JSON))
    body = {"alerts": [_with_links(request, a) for a in found], "numberReturned": len(found), "links": links}
    return JSONResponse(body)


@router.get("/alerts/{alert_id}", summary="One alert")
def get_alert(
    request: Request, alert_id: AlertId, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> JSONResponse:
    """Return one alert the caller may see."""
    found = alert_queries.get_alert(session.connection(), principal, alert_id, lang)
    return JSONResponse(_with_links(request, found))


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert")
def acknowledge_alert(
    request: Request, alert_id: AlertId, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> JSONResponse:
    """Record who acknowledged the alert and when; acknowledging twice changes nothing."""
    now = datetime.now(UTC)
    found = alert_queries.acknowledge(session.connection(), principal, alert_id, now, lang)
    session.commit()
    return JSONResponse(_with_links(request, found))


@router.get("/alert-rules", summary="Declared and user-defined alert rules")
def list_rules(session: SessionDep, principal: PrincipalDep, lang: LangDep) -> JSONResponse:
    """List the rules on layers the caller may see: those declared in code, then the area rules."""
    rules = area_rules.list_rules(session.connection(), principal)
    return JSONResponse({"rules": [area_rules.rule_as_json(r, lang) for r in rules]})


@router.get("/alert-rules/{rule_id}", summary="One alert rule")
def get_rule(rule_id: RuleId, session: SessionDep, principal: PrincipalDep, lang: LangDep) -> JSONResponse:
    """Return one rule the caller may see."""
    rule = area_rules.get_rule(session.connection(), principal, rule_id)
    return JSONResponse(area_rules.rule_as_json(rule, lang))


@router.post("/alert-rules", status_code=201, summary="Create an area rule")
def create_rule(
    request: Request, body: area_rules.RuleIn, session: SessionDep, principal: PrincipalDep, lang: LangDep
) -> JSONResponse:
    """Create a rule scoped to an area, a district, a village or the active response areas."""
    rule = area_rules.create_rule(session.connection(), principal, body)
    session.commit()
    location = f"{base_url(request)}/alert-rules/{rule.id}"
    return JSONResponse(area_rules.rule_as_json(rule, lang), status_code=201, headers={"Location": location})


@router.delete("/alert-rules/{rule_id}", status_code=204, summary="Delete an area rule")
def delete_rule(rule_id: RuleId, session: SessionDep, principal: PrincipalDep) -> Response:
    """Switch an area rule off; its open alerts resolve now."""
    area_rules.deactivate_rule(session.connection(), principal, rule_id, datetime.now(UTC))
    session.commit()
    return Response(status_code=204)


@router.get("/webhooks", summary="Registered webhooks")
def list_webhooks(session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """List webhooks (system admins and Kominfo supervisors); secrets are never shown."""
    found = webhooks.list_webhooks(session.connection(), principal)
    return JSONResponse({"webhooks": [w.as_json() for w in found]})


@router.post("/webhooks", status_code=201, summary="Register a webhook")
def create_webhook(
    request: Request,
    body: WebhookIn,
    session: SessionDep,
    principal: PrincipalDep,
    settings: WebhookSettingsDep,
) -> JSONResponse:
    """Register an http(s) receiver of alert events; the answer carries the signing secret once."""
    conn = session.connection()
    hook, secret = register(conn, principal, settings, body.url, body.secret, body.layers, body.min_severity)
    session.commit()
    location = f"{base_url(request)}/webhooks/{hook.id}"
    return JSONResponse({**hook.as_json(), "secret": secret}, status_code=201, headers={"Location": location})


@router.get("/webhooks/{hook_id}", summary="One webhook")
def get_webhook(hook_id: HookId, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """Return one webhook."""
    return JSONResponse(webhooks.get_webhook(session.connection(), principal, hook_id).as_json())


@router.patch("/webhooks/{hook_id}", summary="Change a webhook")
def update_webhook(
    hook_id: HookId,
    body: WebhookPatch,
    session: SessionDep,
    principal: PrincipalDep,
    settings: WebhookSettingsDep,
) -> JSONResponse:
    """Change a webhook's URL, layers, minimum severity or active flag."""
    changes = body.model_dump(exclude_unset=True)
    hook = change(session.connection(), principal, settings, hook_id, changes)
    session.commit()
    return JSONResponse(hook.as_json())


@router.delete("/webhooks/{hook_id}", status_code=204, summary="Delete a webhook")
def delete_webhook(hook_id: HookId, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove a webhook and its pending deliveries."""
    webhooks.delete_webhook(session.connection(), principal, hook_id)
    session.commit()
    return Response(status_code=204)


@router.get("/webhooks/{hook_id}/deliveries", summary="Recent deliveries of a webhook")
def list_deliveries(hook_id: HookId, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """Return a webhook's latest deliveries, newest first, with their attempts and last error."""
    found = webhooks.recent_deliveries(session.connection(), principal, hook_id)
    return JSONResponse({"deliveries": found})
