"""The whole schema's metadata: the core tables plus every topic's own table module."""

from __future__ import annotations

import layers.access.session_tables
import layers.alerts.tables
import layers.live.dead_letters
import layers.queries.flood_tables
from layers.tables import metadata

__all__ = ["metadata"]
_TOPIC_MODULES = (
    layers.alerts.tables,
    layers.live.dead_letters,
    layers.queries.flood_tables,
    layers.access.session_tables,
)
