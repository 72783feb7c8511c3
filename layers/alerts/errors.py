"""Errors of the alert paths, mapped to HTTP statuses through the existing classes they extend."""

from __future__ import annotations

from layers.errors import FeatureNotFound, KendaliError


class AlertObjectNotFound(FeatureNotFound):
    """An alert, alert rule or webhook that does not exist, or that the caller may not see (404)."""

    code = "not_found"

    def __init__(self, kind_en: str, kind_id: str, ident: object) -> None:
        KendaliError.__init__(
            self, f"{kind_en} {ident} does not exist", f"{kind_id} {ident} tidak ada", kind=kind_en
        )
