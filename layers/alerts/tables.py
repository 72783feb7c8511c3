"""Tables of alerts, user-defined alert rules, webhooks and webhook deliveries (migration 0005)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from layers.tables import metadata

_SEVERITY = "severity IN ('info', 'warning', 'critical')"

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("layer_id", Text, ForeignKey("layers.id"), nullable=False),
    Column("title_id", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("condition", JSONB, nullable=False),
    Column("scope", Text, nullable=False),
    Column("area_id", BigInteger, ForeignKey("areas.id", ondelete="CASCADE")),
    Column("scope_code", Text),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    CheckConstraint(_SEVERITY, name="severity"),
    CheckConstraint(
        "(scope = 'area' AND area_id IS NOT NULL AND scope_code IS NULL)"
        " OR (scope IN ('district', 'village') AND scope_code IS NOT NULL AND area_id IS NULL)"
        " OR (scope = 'active_response_areas' AND area_id IS NULL AND scope_code IS NULL)",
        name="scope",
    ),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("rule_id", Text, nullable=False),
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("layer_id", Text, ForeignKey("layers.id"), nullable=False),
    Column("area_id", BigInteger, ForeignKey("areas.id", ondelete="CASCADE")),
    Column("severity", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", Text),
    Column("resolved_at", DateTime(timezone=True)),
    Column("message", JSONB, nullable=False),
    CheckConstraint(_SEVERITY, name="severity"),
    Index(
        "uq_alerts_open",
        "rule_id",
        "asset_id",
        "area_id",
        unique=True,
        postgresql_nulls_not_distinct=True,
        postgresql_where=text("resolved_at IS NULL"),
    ),
    Index("ix_alerts_asset_id", "asset_id"),
    Index("ix_alerts_layer_id_id", "layer_id", "id"),
    Index("ix_alerts_unresolved", "id", postgresql_where=text("resolved_at IS NULL")),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("url", Text, nullable=False),
    Column("layers", ARRAY(Text)),
    Column("min_severity", Text, nullable=False, server_default=text("'info'")),
    Column("secret", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("created_by", Text, nullable=False),
    Column("creator_roles", ARRAY(Text), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("min_severity IN ('info', 'warning', 'critical')", name="min_severity"),
    CheckConstraint("char_length(url) <= 2000", name="url_length"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("webhook_id", BigInteger, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", BigInteger, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("webhook_id", "event_id"),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        postgresql_where=text("next_attempt_at IS NOT NULL"),
    ),
    Index("ix_webhook_deliveries_event_id", "event_id"),
)
