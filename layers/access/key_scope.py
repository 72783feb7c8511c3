"""What a device key is bound to: the assets it may report for and the MQTT topics it may receive on,
checked when the key is made (the matching itself is layers.access.policy.in_asset_scope)."""

from __future__ import annotations

from collections.abc import Iterable

from layers.access.policy import split_asset_entry
from layers.catalog import LAYERS
from layers.errors import InvalidInput

MAX_ASSET_ENTRIES = 200
MAX_PATTERN_CHARS = 200  # an external id is at most 200 characters (layers.live.report_input)
MAX_TOPIC_FILTERS = 50
MAX_TOPIC_BYTES = 512


def printable(text: str) -> bool:
    """Return whether `text` is printable and has no leading or trailing space."""
    return text == text.strip() and text.isprintable()


def _checked_asset_entry(entry: str, layer_scope: list[str] | None) -> str:
    layer_id, pattern = split_asset_entry(entry)
    if not pattern or len(pattern) > MAX_PATTERN_CHARS or not printable(entry):
        raise InvalidInput(
            f"asset pattern {entry[:80]!r} must be 1 to {MAX_PATTERN_CHARS} printable characters,"
            " without leading or trailing spaces",
            f"pola aset {entry[:80]!r} harus 1 sampai {MAX_PATTERN_CHARS} karakter cetak,"
            " tanpa spasi di awal atau akhir",
        )
    if layer_id is None:
        return entry
    spec = LAYERS.get(layer_id)
    if spec is None or spec.status is None or (layer_scope is not None and layer_id not in layer_scope):
        raise InvalidInput(
            f"asset pattern {entry[:80]!r}: {layer_id[:64]!r} is no live layer of this key"
            " (write an external id that holds ':' as layer:id)",
            f"pola aset {entry[:80]!r}: {layer_id[:64]!r} bukan lapisan status langsung kunci ini"
            " (tulis id eksternal yang memuat ':' sebagai lapisan:id)",
        )
    return entry


def checked_asset_scope(entries: Iterable[str] | None, layer_scope: list[str] | None) -> list[str] | None:
    """Return an asset scope's entries sorted and de-duplicated, or raise InvalidInput (None: any asset)."""
    if entries is None:
        return None
    checked = sorted({_checked_asset_entry(e, layer_scope) for e in entries})
    if not checked or len(checked) > MAX_ASSET_ENTRIES:
        raise InvalidInput(
            f"an asset scope holds 1 to {MAX_ASSET_ENTRIES} external ids or patterns",
            f"cakupan aset berisi 1 sampai {MAX_ASSET_ENTRIES} id eksternal atau pola",
        )
    return checked


def _valid_filter(topic: str) -> bool:
    """Return whether `topic` is an MQTT topic filter: `+` a whole level, `#` only the whole last level."""
    if not topic or len(topic.encode()) > MAX_TOPIC_BYTES or not topic.isprintable():
        return False
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if ("+" in level or "#" in level) and level not in ("+", "#"):
            return False
        if level == "#" and i != len(levels) - 1:
            return False
    return True


def checked_topic_scope(filters: Iterable[str] | None) -> list[str] | None:
    """Return MQTT topic filters sorted and de-duplicated, or raise InvalidInput (None: any topic)."""
    if filters is None:
        return None
    checked = sorted(set(filters))
    bad = [f[:80] for f in checked if not _valid_filter(f)]
    if bad:
        raise InvalidInput(
            f"not MQTT topic filters: {bad} ('+' and '#' stand for whole levels, '#' only last)",
            f"bukan filter topik MQTT: {bad} ('+' dan '#' mewakili satu tingkat utuh, '#' hanya di akhir)",
        )
    if not checked or len(checked) > MAX_TOPIC_FILTERS:
        raise InvalidInput(
            f"a topic scope holds 1 to {MAX_TOPIC_FILTERS} MQTT topic filters",
            f"cakupan topik berisi 1 sampai {MAX_TOPIC_FILTERS} filter topik MQTT",
        )
    return checked
