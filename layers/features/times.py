"""Instants from request text: RFC 3339, UTC when no zone is given; errors name the parameter."""

from __future__ import annotations

from datetime import UTC, datetime

from layers.errors import InvalidInput


def bad_parameter(param: str, en: str, id_: str) -> InvalidInput:
    """Return an InvalidInput about one request parameter, in both languages."""
    return InvalidInput(f"{param}: {en}", f"{param}: {id_}", parameter=param)


def instant(param: str, text: str) -> datetime:
    """Return a timezone-aware instant from RFC 3339 text (UTC when no zone is given)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad_parameter(
            param, f"not an RFC 3339 date-time: {text[:40]!r}", f"bukan tanggal-waktu RFC 3339: {text[:40]!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
