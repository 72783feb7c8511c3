"""Errors of the basemap and raster sources, with bilingual messages; api/ maps them to HTTP statuses."""

from __future__ import annotations


class BasemapError(Exception):
    """Base of the errors a client may be told about; carries a safe message in English and Indonesian."""

    code = "basemap_error"

    def __init__(self, message_en: str, message_id: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_id = message_id


class SourceNotFound(BasemapError):
    """No basemap or raster source with this id."""

    code = "source_not_found"

    def __init__(self, source_id: str) -> None:
        super().__init__(f"source {source_id!r} does not exist", f"sumber {source_id!r} tidak ada")
        self.source_id = source_id


class InvalidTile(BasemapError):
    """A tile address or rendering option that cannot be served."""

    code = "invalid_tile"


class SourceUnreadable(BasemapError):
    """A configured source file is missing, remote, or not of the declared kind."""

    code = "source_unreadable"
