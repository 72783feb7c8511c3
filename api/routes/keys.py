"""API keys for devices and scripts, managed by system administrators: `/admin/keys`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import LangDep, PrincipalDep, SessionDep
from api.errors import problem
from layers.access import auth, key_scope
from layers.access.policy import Principal, require_admin

router = APIRouter(tags=["admin"])

NO_STORE = {"Cache-Control": "no-store"}
Prefix = Annotated[str, Path(pattern=r"^[0-9a-f]{8}$", description="The key's prefix (after `kdl_`).")]
RoleName = Annotated[str, Field(min_length=1, max_length=64)]
LayerName = Annotated[str, Field(min_length=1, max_length=64)]
AssetEntry = Annotated[
    str, Field(min_length=1, max_length=64 + 1 + key_scope.MAX_PATTERN_CHARS, examples=["cctv:CCTV-00*"])
]
TopicFilter = Annotated[str, Field(min_length=1, max_length=key_scope.MAX_TOPIC_BYTES)]


def admin(principal: PrincipalDep) -> Principal:
    """Return the caller if a system administrator (401 for nobody, 403 for everyone else)."""
    return require_admin(principal, "manage API keys", "mengelola kunci API")


AdminDep = Annotated[Principal, Depends(admin)]


class KeyIn(BaseModel):
    """A key to create: its roles and, for a device, the layers, assets and MQTT topics it is bound to."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=auth.MAX_KEY_NAME_CHARS)
    roles: list[RoleName] = Field(min_length=1, max_length=20)
    layers: list[LayerName] | None = Field(None, min_length=1, max_length=50)
    assets: list[AssetEntry] | None = Field(
        None,
        min_length=1,
        max_length=key_scope.MAX_ASSET_ENTRIES,
        description="External ids or `[layer:]pattern` (`*` any run of characters, `?` one) the key may "
        "report for; absent: any asset of its layers.",
    )
    topics: list[TopicFilter] | None = Field(
        None,
        min_length=1,
        max_length=key_scope.MAX_TOPIC_FILTERS,
        description="MQTT topic filters (`+`, `#`) its messages may arrive on; absent: any topic.",
    )


class KeyOut(BaseModel):
    """A key as administrators see it; its secret is never shown again."""

    prefix: str
    name: str
    agency: str | None
    roles: list[str]
    layers: list[str] | None
    assets: list[str] | None
    topics: list[str] | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class KeyList(BaseModel):
    """The keys, newest first."""

    keys: list[KeyOut]


class CreatedKey(KeyOut):
    """The new key, with its secret shown this once."""

    secret: str


@router.get("/admin/keys", summary="API keys, newest first", responses={200: {"model": KeyList}})
def list_keys(
    _: AdminDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=auth.MAX_LISTED_KEYS)] = 100
) -> JSONResponse:
    """List device and script keys with their scopes and use; never secrets or hashes."""
    found = auth.list_keys(session.connection(), limit)
    return JSONResponse({"keys": [k.as_json() for k in found]}, headers=NO_STORE)


@router.post(
    "/admin/keys", status_code=201, summary="Create an API key", responses={201: {"model": CreatedKey}}
)
def create_key(principal: AdminDep, body: KeyIn, session: SessionDep) -> JSONResponse:
    """Create a key bound to roles, layers, assets and topics; the answer carries its secret once."""
    conn = session.connection()
    scopes = {"asset_scope": body.assets, "topic_scope": body.topics}
    new = auth.create_key(conn, body.name, body.roles, body.layers, **scopes, actor=principal.name)
    shown = auth.key_info(conn, new.prefix)
    session.commit()
    body_out = {**(shown.as_json() if shown else {}), "secret": new.secret}
    return JSONResponse(body_out, status_code=201, headers=NO_STORE)


@router.delete("/admin/keys/{prefix}", status_code=204, summary="Revoke an API key")
def revoke_key(prefix: Prefix, principal: AdminDep, session: SessionDep, lang: LangDep) -> Response:
    """Revoke an active key at once; 404 when no active key has this prefix."""
    if not auth.revoke_key(session.connection(), prefix, actor=principal.name):
        en, id_ = (
            f"no active API key has the prefix {prefix}",
            f"tidak ada kunci API aktif berprefiks {prefix}",
        )
        return problem(404, en if lang == "en" else id_, lang, "key_not_found")
    session.commit()
    return Response(status_code=204)
