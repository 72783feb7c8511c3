"""One policy decides who sees and edits what; restricted layers stay invisible."""

from __future__ import annotations

import pytest

from layers.access.policy import (
    ANONYMOUS,
    Action,
    allows,
    field_view,
    layer_for,
    principal_for,
    readable_layers,
)
from layers.catalog import LAYERS
from layers.errors import LayerNotFound

BPPRD = principal_for("ana", ["bpprd-analyst"], kind="user")
BPPRD_OPERATOR = principal_for("ops", ["bpprd-operator"], kind="user")
DLHP = principal_for("dedi", ["dlhp-editor"], kind="user")
SUPERVISOR = principal_for("sri", ["kominfo-supervisor"], kind="user")


@pytest.mark.parametrize("principal", [ANONYMOUS, DLHP], ids=["anonymous", "other-agency"])
def test_restricted_layer_is_invisible(principal: object) -> None:
    from layers.access.policy import Principal

    assert isinstance(principal, Principal)
    assert "taxpayers" not in [s.id for s in readable_layers(principal)]
    with pytest.raises(LayerNotFound):
        layer_for(principal, "taxpayers")


@pytest.mark.parametrize(
    "principal", [BPPRD, BPPRD_OPERATOR, SUPERVISOR], ids=["analyst", "operator", "supervisor"]
)
def test_taxpayers_visible_to_bpprd_and_supervisor(principal: object) -> None:
    from layers.access.policy import Principal

    assert isinstance(principal, Principal)
    assert layer_for(principal, "taxpayers").id == "taxpayers"


def test_anonymous_sees_only_public_layers() -> None:
    assert {s.access.value for s in readable_layers(ANONYMOUS)} == {"public"}


def test_internal_layer_needs_staff() -> None:
    assert not allows(ANONYMOUS, Action.READ, LAYERS["city_apps"])
    assert allows(DLHP, Action.READ, LAYERS["city_apps"])


def test_stream_url_only_for_internal_roles() -> None:
    assert "stream_url" not in field_view(ANONYMOUS, LAYERS["cctv"]).properties
    assert "stream_url" in field_view(DLHP, LAYERS["cctv"]).properties


def test_tax_amounts_only_for_analysts() -> None:
    assert field_view(BPPRD, LAYERS["taxpayers"]).status_value
    assert not field_view(BPPRD_OPERATOR, LAYERS["taxpayers"]).status_value
    assert "tax_rate_pct" not in field_view(SUPERVISOR, LAYERS["taxpayers"]).properties


def test_editing_needs_an_editor_role_of_the_owner() -> None:
    assert allows(DLHP, Action.EDIT, LAYERS["dumping_points"])
    assert not allows(DLHP, Action.EDIT, LAYERS["cctv"])
    assert not allows(ANONYMOUS, Action.EDIT, LAYERS["response_areas"])


def test_key_scope_limits_layers() -> None:
    key = principal_for("key:tps", ["dlhp-operator"], kind="key", scope=["dumping_points"])
    assert allows(key, Action.REPORT, LAYERS["dumping_points"])
    assert not allows(key, Action.READ, LAYERS["cctv"])
    assert not allows(key, Action.REPORT, LAYERS["das_stations"])
