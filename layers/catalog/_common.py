"""Small builders shared by the layer declarations."""

from __future__ import annotations

from datetime import timedelta

from pydantic import ConfigDict

from layers.catalog.spec import Titles

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def minutes(n: float) -> timedelta:
    """Return a timedelta of n minutes."""
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    """Return a timedelta of n hours."""
    return timedelta(hours=n)


def labels(**pairs: tuple[str, str]) -> dict[str, Titles]:
    """Build status labels from `status=("Indonesian", "English")` pairs."""
    return {status: Titles(id=id_, en=en) for status, (id_, en) in pairs.items()}
