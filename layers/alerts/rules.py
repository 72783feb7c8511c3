"""Alert rules declared in code, one explicit list, like the layer catalog.

A rule watches the latest status of the assets of one layer: it holds for an asset when the status is one
of `statuses` (or, with `include_stale`, when the asset has gone silent past its layer's `stale_after`)
and has held continuously for at least `min_duration`. A scope narrows it to assets inside live response
areas, one area, a district or a village. User-defined area rules (layers/area_rules.py) take the same
shape and are stored in the `alert_rules` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from layers.catalog import LAYERS
from layers.catalog.spec import Storage, Titles

RESPONSE_AREAS = "response_areas"
STALE = "stale"  # the status an alert shows when it holds because the asset stopped reporting
STALE_LABEL = Titles("Tidak melapor", "Not reporting")


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Return 0 for info, 1 for warning, 2 for critical."""
        return list(Severity).index(self)


class ScopeKind(StrEnum):
    """Where a rule looks."""

    ALL = "all"
    ACTIVE_RESPONSE_AREAS = "active_response_areas"  # inside any active, current response area
    AREA = "area"  # inside one drawn area, while it is active and current
    DISTRICT = "district"  # inside the kecamatan with this code
    VILLAGE = "village"  # inside the kelurahan/desa with this code


@dataclass(frozen=True, slots=True)
class Scope:
    """Which assets of the layer a rule considers."""

    kind: ScopeKind = ScopeKind.ALL
    area_id: int | None = None
    code: str | None = None

    @property
    def by_area(self) -> bool:
        """Return whether alerts of this scope name the area they are in."""
        return self.kind in (ScopeKind.ACTIVE_RESPONSE_AREAS, ScopeKind.AREA)


@dataclass(frozen=True, slots=True)
class Condition:
    """What must hold on the latest status of an asset, and for how long."""

    statuses: frozenset[str] = frozenset()
    include_stale: bool = False
    min_duration: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One rule: declared in code, or defined by a user (`created_by` set)."""

    id: str
    title: Titles
    severity: Severity
    layer_id: str
    condition: Condition
    scope: Scope = field(default_factory=Scope)
    created_by: str | None = None

    @property
    def declared(self) -> bool:
        """Return whether the rule is declared in code (it cannot be deleted through the API)."""
        return self.created_by is None


PLACE_LAYERS = {ScopeKind.DISTRICT: "districts", ScopeKind.VILLAGE: "villages"}
# The layer a scope is drawn from, where it follows from the kind alone.
SCOPE_LAYERS = {**PLACE_LAYERS, ScopeKind.ACTIVE_RESPONSE_AREAS: RESPONSE_AREAS}


def check_rule(rule: AlertRule) -> None:
    """Raise ValueError when a rule does not fit its layer (unknown layer or status, no condition)."""
    layer = LAYERS.get(rule.layer_id)
    if layer is None or layer.status is None or layer.storage is not Storage.ASSETS:
        raise ValueError(f"rule {rule.id!r}: layer {rule.layer_id!r} carries no live status")
    unknown = sorted(rule.condition.statuses - set(layer.status.values))
    if unknown:
        raise ValueError(f"rule {rule.id!r}: statuses {unknown} are not in {layer.id}'s vocabulary")
    if not rule.condition.statuses and not rule.condition.include_stale:
        raise ValueError(f"rule {rule.id!r}: a condition needs statuses or include_stale")
    if rule.condition.min_duration < timedelta(0):
        raise ValueError(f"rule {rule.id!r}: min_duration cannot be negative")


def index_rules(*rules: AlertRule) -> Mapping[str, AlertRule]:
    """Index rules by id after checking each; raise ValueError on a duplicate or malformed rule."""
    out: dict[str, AlertRule] = {}
    for rule in rules:
        check_rule(rule)
        if rule.id in out:
            raise ValueError(f"duplicate alert rule id {rule.id!r}")
        out[rule.id] = rule
    return out


def _statuses(*names: str) -> frozenset[str]:
    return frozenset(names)


RULES: Mapping[str, AlertRule] = index_rules(
    AlertRule(
        id="das_siaga",
        title=Titles("Pos duga air siaga atau awas", "River station at standby or danger level"),
        severity=Severity.WARNING,
        layer_id="das_stations",
        condition=Condition(statuses=_statuses("siaga", "awas")),
    ),
    AlertRule(
        id="das_awas",
        title=Titles("Pos duga air awas", "River station at danger level"),
        severity=Severity.CRITICAL,
        layer_id="das_stations",
        condition=Condition(statuses=_statuses("awas")),
    ),
    AlertRule(
        id="dumping_point_full_24h",
        title=Titles("TPS penuh atau meluap lebih dari 24 jam", "Dumping point full for more than 24 h"),
        severity=Severity.WARNING,
        layer_id="dumping_points",
        condition=Condition(statuses=_statuses("full", "overflow"), min_duration=timedelta(hours=24)),
    ),
    AlertRule(
        id="cctv_offline_10m",
        title=Titles("Kamera luring lebih dari 10 menit", "Camera offline for more than 10 min"),
        severity=Severity.WARNING,
        layer_id="cctv",
        condition=Condition(
            statuses=_statuses("offline"), include_stale=True, min_duration=timedelta(minutes=10)
        ),
    ),
    AlertRule(
        id="tapping_box_offline_1d",
        title=Titles("Tapping box luring lebih dari sehari", "Tapping box offline for more than a day"),
        severity=Severity.WARNING,
        layer_id="taxpayers",
        condition=Condition(
            statuses=_statuses("offline"), include_stale=True, min_duration=timedelta(days=1)
        ),
    ),
    AlertRule(
        id="city_app_down",
        title=Titles("Aplikasi kota mati", "City application down"),
        severity=Severity.CRITICAL,
        layer_id="city_apps",
        condition=Condition(statuses=_statuses("down")),
    ),
    AlertRule(
        id="das_siaga_in_response_area",
        title=Titles(
            "Pos duga air siaga di area tanggap bencana", "River station at standby in a response area"
        ),
        severity=Severity.CRITICAL,
        layer_id="das_stations",
        condition=Condition(statuses=_statuses("siaga", "awas")),
        scope=Scope(ScopeKind.ACTIVE_RESPONSE_AREAS),
    ),
    AlertRule(
        id="cctv_offline_in_response_area",
        title=Titles("Kamera luring di area tanggap bencana", "Camera offline in a response area"),
        severity=Severity.WARNING,
        layer_id="cctv",
        condition=Condition(statuses=_statuses("offline"), include_stale=True),
        scope=Scope(ScopeKind.ACTIVE_RESPONSE_AREAS),
    ),
)
