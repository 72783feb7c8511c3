"""Monthly partitions of `observations`, made ahead so that no report ever lacks a partition."""

from __future__ import annotations

from sqlalchemy import Connection, func, literal, select

MONTHS_AHEAD = 3


def ensure_observation_partitions(conn: Connection, months_ahead: int = MONTHS_AHEAD) -> int:
    """Create the partitions from this month to `months_ahead` months on; return how many were made."""
    ahead = func.now() + func.make_interval(literal(0), literal(months_ahead))
    made = conn.execute(select(func.kendali_ensure_observation_partitions(func.now(), ahead))).scalar_one()
    return int(made)
