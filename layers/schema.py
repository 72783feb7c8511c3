"""The whole schema's metadata: the core tables plus every topic's own table module."""

from __future__ import annotations

import layers.alert_tables
import layers.dead_letters
import layers.flood_tables
import layers.session_tables
from layers.tables import metadata

__all__ = ["metadata"]
_TOPIC_MODULES = (layers.alert_tables, layers.dead_letters, layers.flood_tables, layers.session_tables)
