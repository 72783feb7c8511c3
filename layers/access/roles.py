"""Role names: `{agency}-{function}`, plus the system-wide `admin`."""

from __future__ import annotations

from fnmatch import fnmatchcase

from layers.catalog.agencies import AGENCIES

FUNCTIONS = ("viewer", "operator", "analyst", "editor", "supervisor", "admin")
SYSTEM_ADMIN = "admin"
PUBLIC = "public"


class InvalidRole(ValueError):
    """A role name that is not `{agency}-{function}`, `admin` or `public`."""


def parse_role(role: str) -> tuple[str | None, str]:
    """Split a role into (agency code, function); raise InvalidRole for unknown names."""
    if role in (SYSTEM_ADMIN, PUBLIC):
        return None, role
    agency, _, function = role.partition("-")
    if agency not in AGENCIES or function not in FUNCTIONS:
        raise InvalidRole(f"unknown role {role!r}; expected one of AGENCY-{{{','.join(FUNCTIONS)}}}")
    return agency, function


def role_matches(role: str, patterns: frozenset[str]) -> bool:
    """Return whether a role matches any pattern such as `bpprd-*` or `kominfo-supervisor`."""
    return any(fnmatchcase(role, pattern) for pattern in patterns)


def all_roles() -> list[str]:
    """Return every valid role name, for help texts and validation messages."""
    return [SYSTEM_ADMIN] + [f"{a}-{f}" for a in AGENCIES for f in FUNCTIONS]
