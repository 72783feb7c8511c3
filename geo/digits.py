"""Whole numbers from text: ASCII digits only.

`str.isdigit()` is also true for '²' or '٣', which `int()` refuses or reads as another script's
digits; every identifier, code and header kendali reads as a number goes through here instead.
"""

from __future__ import annotations


def whole_number(text: str, max_digits: int = 18) -> int | None:
    """Return the value of 1 to `max_digits` ASCII digits, else None."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def signed_whole_number(text: str, max_digits: int = 18) -> int | None:
    """Return the value of an optional '-' followed by 1 to `max_digits` ASCII digits, else None."""
    value = whole_number(text.removeprefix("-"), max_digits)
    return -value if value is not None and text.startswith("-") else value
